/**
 * C2SP checkpoints of the consultations' logs. One Ed25519 key (CHECKPOINT_KEY_SEED) signs every log's checkpoints,
 * under the key name of each log's origin `<LOG_ORIGIN_PREFIX>/<id>`, so a verifier holding the prefix and the
 * public key (the trust root) derives each log's vkey. A checkpoint is published (signed and recorded, once per
 * size) for every head the anchorer anchors, and when a reader asks for the checkpoint and the latest one is older
 * than CHECKPOINT_INTERVAL and behind the committed size: the partial tiles served are those of published sizes.
 */
import {
  type Ed25519NoteKey,
  ed25519NoteKey,
  type Hex,
  logOrigin,
  MerkleLog,
  signCheckpoint,
} from "../protocol/index.ts";
import type { Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import type { CheckpointRecord, Store } from "./store/index.ts";
import type { WitnessClient } from "./witnesses.ts";

export class Checkpoints {
  readonly #store: Store;
  readonly #clock: Clock;
  readonly #config: Config["log"];
  readonly #keys = new Map<number, Ed25519NoteKey>();
  /** One refresh at a time per consultation: concurrent readers share it. */
  readonly #refreshing = new Map<number, Promise<CheckpointRecord>>();

  readonly #witnesses: WitnessClient | null;

  constructor(store: Store, clock: Clock, config: Config["log"], witnesses: WitnessClient | null = null) {
    this.#store = store;
    this.#clock = clock;
    this.#config = config;
    this.#witnesses = witnesses?.enabled ? witnesses : null;
  }

  /** The origin of consultation `id`'s log. */
  origin(id: number): string {
    return logOrigin(this.#config.originPrefix, id);
  }

  /** The checkpoint key of consultation `id`'s log (named after its origin). */
  key(id: number): Ed25519NoteKey {
    let key = this.#keys.get(id);
    if (key === undefined) {
      key = ed25519NoteKey(this.origin(id), this.#config.checkpointKeySeed);
      if (this.#keys.size > 10_000) this.#keys.clear();
      this.#keys.set(id, key);
    }
    return key;
  }

  /** The public checkpoint key (32 bytes), the same for every log. */
  get publicKey(): Uint8Array {
    return this.key(0).publicKey;
  }

  /** Signs and records the checkpoint of the head (size, rootHash); a size already published is left as it is. */
  async publish(id: number, size: number, rootHash: Hex): Promise<CheckpointRecord> {
    let note = signCheckpoint({ origin: this.origin(id), size, rootHash, extensions: [] }, [this.key(id)]);
    if (this.#witnesses) {
      const proof = async (old: number) =>
        (await MerkleLog.open(this.#store.treeStore(id), size)).consistencyProof(old, size);
      note += (await this.#witnesses.cosign(this.origin(id), note, size, proof)).join("");
    }
    const record: CheckpointRecord = {
      consultationId: id,
      treeSize: size,
      rootHash,
      note,
      createdAt: this.#clock.now(),
    };
    await this.#store.addCheckpoint(record);
    return record;
  }

  /**
   * The checkpoint to serve for a log of `committedSize` leaves: the latest published, unless it is behind and older
   * than the interval (or there is none), in which case the committed head is published first.
   */
  async current(id: number, committedSize: number): Promise<CheckpointRecord> {
    const latest = await this.#store.latestCheckpoint(id);
    const fresh =
      latest !== null &&
      (latest.treeSize >= committedSize ||
        this.#clock.now() - latest.createdAt < this.#config.checkpointIntervalMs);
    if (fresh) return latest;
    let running = this.#refreshing.get(id);
    if (running === undefined) {
      running = (async () => {
        const log = await MerkleLog.open(this.#store.treeStore(id), committedSize);
        return this.publish(id, committedSize, await log.root());
      })();
      this.#refreshing.set(id, running);
      const clear = () => this.#refreshing.delete(id);
      running.then(clear, clear);
    }
    return running;
  }
}
