// A consultation written straight into a store (id 1, one section, open for ever), and opinions written into its
// reading index through the indexer's own ReadingStep: the rows the background indexer writes, without a service.
// For the reading-index bench and tests.
import { type ReadableOpinion, ReadingStep } from "../../server/reading.ts";
import type { Store } from "../../server/store/index.ts";

export async function createBareConsultation(store: Store, section: string, title: string): Promise<void> {
  await store.createConsultation(
    {
      id: 1,
      agency: "bo-tu-phap",
      title,
      summary: "",
      opensAt: 0,
      closesAt: 2 ** 31,
      createdAt: 0,
      draftVersion: 1,
    },
    {
      consultationId: 1,
      version: 1,
      hash: `0x${"00".repeat(32)}`,
      title,
      summary: "",
      sections: [{ id: section, title: "Điều 1", text: "" }],
      txHash: null,
      createdAt: 0,
    },
  );
}

/** Indexes `opinions` (log indices from, from + 1, …) as one step of consultation 1's reading index. */
export async function writeReadingStep(
  store: Store,
  from: number,
  opinions: readonly ReadableOpinion[],
): Promise<void> {
  const step = new ReadingStep(store, 1, from);
  await step.prefetch(opinions);
  for (const o of opinions) step.opinion(o);
  if (!(await store.writeReadings(1, step.write(from + opinions.length))))
    throw new Error("reading index moved");
}
