/**
 * The reading index kept by a worker thread (server/reading-worker.ts) on its own SQLite connection: the same
 * ReadingIndexer, the same steps and results, but its reads, its SimHash and term work and its commits (with their
 * fsync) no longer take turns with the requests on the event loop. On SQLite the index was a third of the event
 * loop's busy time under ingest load. A thread that dies is started again and catches up from the stored progress.
 */
import { Worker } from "node:worker_threads";
import type { ReadingIndexerOptions } from "./reading.ts";

/** What the service asks of its reading index (ReadingIndexer in process, ReadingThread in a worker). */
export interface ReadingIndex {
  /** A group commit of the consultation (ReadingIndexer.committed). */
  committed(consultationId: number): void;
  /** The index may be behind (ReadingIndexer.poke). */
  poke(consultationId: number): void;
  pokeBehind(): Promise<void>;
  settled(): Promise<void>;
  close(): Promise<void>;
}

const RESTART_DELAY_MS = 1000;

interface Reply {
  id?: number;
  error?: string;
  warn?: { details: object; message: string };
}

export class ReadingThread implements ReadingIndex {
  readonly #path: string;
  readonly #log: ReadingIndexerOptions["log"];
  readonly #pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  #worker: Worker;
  #next = 1;
  #closed = false;
  /** Settles when a thread that exited has been started again; null while one runs. */
  #restarting: Promise<void> | null = null;

  constructor(options: { path: string; log: ReadingIndexerOptions["log"] }) {
    this.#path = options.path;
    this.#log = options.log;
    this.#worker = this.#start();
  }

  #start(): Worker {
    const worker = new Worker(new URL("./reading-worker.ts", import.meta.url), {
      workerData: { path: this.#path },
    });
    worker.unref(); // the index is derived: it never keeps the process alive
    worker.on("message", (m: Reply) => {
      if (m.warn) return this.#log.warn(m.warn.details, m.warn.message);
      const p = this.#pending.get(m.id!);
      if (!p) return;
      this.#pending.delete(m.id!);
      if (this.#pending.size === 0) worker.unref();
      if (m.error) p.reject(new Error(m.error));
      else p.resolve();
    });
    worker.on("error", (e) => this.#log.warn({ err: String(e) }, "reading thread failed"));
    worker.on("exit", (code) => {
      const lost = new Error(`reading thread exited with ${code}`);
      for (const p of this.#pending.values()) p.reject(lost);
      this.#pending.clear();
      if (this.#closed) return;
      this.#log.warn({ code }, "reading thread exited: restarting it in a second");
      // nothing is lost: the index resumes from its stored progress (a second apart: a thread that cannot start
      // does not spin)
      this.#restarting = new Promise<void>((resolve) => {
        setTimeout(() => {
          this.#restarting = null;
          if (!this.#closed) {
            this.#worker = this.#start();
            this.pokeBehind().catch((e) =>
              this.#log.warn({ err: String(e) }, "reading thread: catch-up failed"),
            );
          }
          resolve();
        }, RESTART_DELAY_MS).unref();
      });
    });
    return worker;
  }

  async #ask(op: "behind" | "settled" | "close"): Promise<void> {
    // a question to a thread that is being restarted goes to the new one
    if (this.#restarting) await this.#restarting;
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.ref(); // an answer awaited keeps the process alive
      this.#worker.postMessage({ id, op });
    });
  }

  committed(consultationId: number): void {
    if (!this.#closed) this.#worker.postMessage({ committed: consultationId });
  }

  poke(consultationId: number): void {
    if (!this.#closed) this.#worker.postMessage({ poke: consultationId });
  }

  pokeBehind(): Promise<void> {
    return this.#ask("behind");
  }

  settled(): Promise<void> {
    return this.#ask("settled");
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#ask("close");
    await this.#worker.terminate();
  }
}
