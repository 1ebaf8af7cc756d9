// Root hooks for every mocha run (.mocharc.json and hardhat.config.ts load them): a failing test is
// followed by the seed that replays the run's random choices.
import type { Context } from "mocha";
import { TEST_SEED } from "./random.ts";

export const mochaHooks = {
  afterEach(this: Context): void {
    if (this.currentTest?.state === "failed") {
      console.error(`      (random choices of this run: GOPY_TEST_SEED=${TEST_SEED} replays them)`);
    }
  },
};
