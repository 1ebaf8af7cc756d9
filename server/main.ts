/** Service entry point: `node server/main.ts` (configuration from the environment, see .env.example). */
import { buildApp } from "./app.ts";
import { ConfigError, loadConfig } from "./config.ts";

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`gopy: configuration error: ${e.message}`);
      process.exit(78);
    }
    throw e;
  }
  const app = await buildApp(config);
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, "shutting down");
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  await app.listen({ host: config.host, port: config.port });
  // a parent process (scripts/start.ts, tests) reads this line
  process.stdout.write(
    `${JSON.stringify({ gopy: "listening", url: `http://${config.host}:${(app.server.address() as { port: number }).port}` })}\n`,
  );
}

main().catch((e) => {
  console.error("gopy: failed to start:", e instanceof Error ? e.message : e);
  process.exit(1);
});
