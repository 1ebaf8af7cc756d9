// Legal section ids that are also names of Object.prototype's members (constructor, toString, valueOf...):
// a plain-object lookup by such an id finds the inherited member instead of nothing.
import { SECTION_ID_PATTERN } from "../../protocol/index.ts";

export const INHERITED_SECTION_IDS: readonly string[] = Object.getOwnPropertyNames(Object.prototype)
  .filter((name) => SECTION_ID_PATTERN.test(name))
  .sort();
