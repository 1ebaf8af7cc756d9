// A TCP relay to a local port whose path can be cut and restored: a network outage between the service and its
// chain node, on loopback only.
import { connect, createServer, type Server, type Socket } from "node:net";

export class Relay {
  server: Server | null = null;
  sockets = new Set<Socket>();
  readonly port: number;
  readonly target: number;
  constructor(port: number, target: number) {
    this.port = port;
    this.target = target;
  }
  up(): Promise<void> {
    const server = createServer((client) => {
      if (this.server !== server) {
        client.destroy();
        return;
      }
      const upstream = connect(this.target, "127.0.0.1");
      this.sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const done = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on("error", done).on("close", done);
      upstream.on("error", done).on("close", done);
    });
    this.server = server;
    return new Promise((r) => server.listen(this.port, "127.0.0.1", () => r()));
  }
  /** Cuts the path at once: no new connection, every open one destroyed (does not wait for anything). */
  async down(): Promise<void> {
    const server = this.server;
    this.server = null;
    server?.close();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }
}
