// An HTTP JSON-RPC proxy in front of a real chain node, on loopback: every request goes to the node and its
// answer comes back, unless `rewrite` changes it (a lying or broken RPC operator, for the verifiers' tests).
import { createServer, type Server } from "node:http";

export interface RpcCall {
  readonly method: string;
  readonly params: unknown[];
}

/** Returns the answer to send instead of the node's (`undefined`: the node's answer unchanged). */
export type RpcRewrite = (call: RpcCall, answer: { result?: unknown; error?: unknown }) => unknown;

export class RpcProxy {
  readonly #server: Server;
  readonly #target: string;
  rewrite: RpcRewrite | null;
  url = "";

  constructor(target: string, rewrite: RpcRewrite | null = null) {
    this.#target = target;
    this.rewrite = rewrite;
    this.#server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks).toString("utf8");
      const upstream = await fetch(this.#target, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      const text = await upstream.text();
      const out = this.#apply(body, text);
      res.writeHead(upstream.status, { "content-type": "application/json" }).end(out);
    });
  }

  #apply(requestText: string, answerText: string): string {
    if (!this.rewrite) return answerText;
    const request = JSON.parse(requestText) as unknown;
    const answer = JSON.parse(answerText) as unknown;
    const one = (call: { method: string; params?: unknown[] }, a: Record<string, unknown>) => {
      const changed = this.rewrite?.({ method: call.method, params: call.params ?? [] }, a);
      return changed === undefined ? a : changed;
    };
    if (Array.isArray(request) && Array.isArray(answer)) {
      return JSON.stringify(answer.map((a, i) => one(request[i], a)));
    }
    const changed = one(request as { method: string }, answer as Record<string, unknown>);
    return typeof changed === "string" ? changed : JSON.stringify(changed);
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    const address = this.#server.address();
    if (address === null || typeof address === "string") throw new Error("proxy has no port");
    this.url = `http://127.0.0.1:${address.port}`;
    return this;
  }

  stop(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
