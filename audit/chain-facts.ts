// Fills the auditor's ChainFacts from the one chain reader (chain/reader.ts): the CLI and the browser's
// audit page both call this, so they audit against the same facts read the same way.
import type { RegistryReader } from "../chain/reader.ts";
import type { ChainFacts } from "./facts.ts";

/** What the registry says about the consultation, every fact read at one block all the RPCs agree on. */
export async function readChainFacts(
  reader: RegistryReader,
  chainId: number,
  consultation: string,
): Promise<ChainFacts> {
  const at = await reader.pin();
  const [record, anchors, tally, latestResponse] = await Promise.all([
    reader.consultation(consultation, at),
    reader.anchors(consultation, at),
    reader.tally(consultation, at),
    reader.latestResponse(consultation, at),
  ]);
  // a registry from before responses has neither the view nor the event: the facts then say nothing of them
  const responses = latestResponse.checkable
    ? {
        responses: await reader.responses(consultation, at),
        latestResponse: latestResponse.latest,
      }
    : {};
  return {
    chainId,
    contract: reader.registry,
    consultation,
    agency: record.agency,
    draftHash: record.draftHash,
    draftURI: record.draftURI,
    draftVersion: record.draftVersion,
    opensAt: record.opensAt,
    closesAt: record.closesAt,
    head: record.head,
    recordTallyHash: record.tallyHash ?? `0x${"0".repeat(64)}`,
    anchors,
    tally,
    ...responses,
  };
}
