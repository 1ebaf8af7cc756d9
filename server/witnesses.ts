/**
 * The service as a C2SP tlog-witness client: every checkpoint it publishes is first submitted (add-checkpoint, with
 * the consistency proof from the size the witness last cosigned) to each configured witness (WITNESSES), and the
 * cosignatures that verify with the witness's vkey are appended to the note. A witness that is down, slow (more than
 * WITNESS_TIMEOUT) or refuses (409 is retried once from the size it names; 4xx/5xx otherwise) is left out of that
 * checkpoint: the reason is logged and counted (gopy_witness_failures_total), and publishing goes on.
 */
import type { FastifyBaseLogger } from "fastify";
import {
  addCheckpointBody,
  type Hex,
  type NoteVerifier,
  openNote,
  parseNote,
  parseWitnessVkey,
} from "../protocol/index.ts";

export interface WitnessConfig {
  /** Base URL of the witness (its add-checkpoint is `<url>/add-checkpoint`). */
  url: string;
  /** The witness's cosignature vkey (`<name>+<id>+<base64(0x04 || key)>`). */
  vkey: string;
}

export interface WitnessClientOptions {
  witnesses: readonly WitnessConfig[];
  timeoutMs: number;
  log: FastifyBaseLogger;
  onFailure?: (witness: string, reason: string) => void;
}

export class WitnessClient {
  readonly #options: WitnessClientOptions;
  readonly #witnesses: { url: string; verifier: NoteVerifier }[];
  /** The size each witness last cosigned, per origin (learned from its answers; 0 until then). */
  readonly #sizes = new Map<string, number>();

  constructor(options: WitnessClientOptions) {
    this.#options = options;
    this.#witnesses = options.witnesses.map((w) => ({
      url: w.url.replace(/\/+$/, ""),
      verifier: parseWitnessVkey(w.vkey),
    }));
  }

  get enabled(): boolean {
    return this.#witnesses.length > 0;
  }

  /**
   * The cosignature lines the witnesses give the signed checkpoint `note` (of `size`), each verified; `proof(old)` is
   * the consistency proof from `old` to `size`. Never throws: a witness that fails is left out.
   */
  async cosign(
    origin: string,
    note: string,
    size: number,
    proof: (old: number) => Promise<Hex[]>,
  ): Promise<string[]> {
    const { text } = parseNote(note);
    const lines = await Promise.all(
      this.#witnesses.map(async (w) => {
        try {
          return await this.#one(w, origin, note, text, size, proof);
        } catch (e) {
          const reason = (e as Error).name === "TimeoutError" ? "timeout" : (e as Error).message;
          this.#options.log.warn(
            { witness: w.verifier.name, origin, size, reason },
            "witness gave no cosignature",
          );
          this.#options.onFailure?.(w.verifier.name, reason.split(":")[0]!.slice(0, 40));
          return null;
        }
      }),
    );
    return lines.filter((l): l is string => l !== null);
  }

  async #one(
    w: { url: string; verifier: NoteVerifier },
    origin: string,
    note: string,
    text: string,
    size: number,
    proof: (old: number) => Promise<Hex[]>,
  ): Promise<string> {
    const key = `${w.url}\u0000${origin}`;
    const signal = AbortSignal.timeout(this.#options.timeoutMs);
    for (let attempt = 0; ; attempt++) {
      const old = Math.min(this.#sizes.get(key) ?? 0, size);
      const res = await fetch(`${w.url}/add-checkpoint`, {
        method: "POST",
        headers: { "content-type": "text/plain; charset=utf-8" },
        body: addCheckpointBody({ oldSize: old, proof: old === 0 ? [] : await proof(old), checkpoint: note }),
        signal,
      });
      const body = await res.text();
      if (res.status === 409 && attempt === 0 && /^(0|[1-9][0-9]*)\n?$/.test(body)) {
        const stored = Number(body.trim());
        if (stored > size)
          throw new Error(`conflict: the witness has a larger tree (${stored}) than ${size}`);
        this.#sizes.set(key, stored);
        continue;
      }
      if (res.status !== 200) throw new Error(`http ${res.status}: ${body.trim().slice(0, 200)}`);
      // keep only a line that verifies as this witness's cosignature of this very checkpoint text
      const opened = openNote(`${text}\n${body}`, [w.verifier]);
      if (opened.verified.length !== 1) throw new Error("invalid: the answer is not its cosignature");
      this.#sizes.set(key, size);
      return body.endsWith("\n") ? body : `${body}\n`;
    }
  }
}
