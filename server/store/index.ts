import type { Config } from "../config.ts";
import { PostgresStore } from "./postgres.ts";
import { SqliteStore } from "./sqlite.ts";
import type { Store } from "./types.ts";

export { PostgresStore } from "./postgres.ts";
export { SqliteStore } from "./sqlite.ts";
export * from "./types.ts";

/** The store the configuration asks for (PostgreSQL when DATABASE_URL is set, else SQLite), migrated. */
export async function openStore(
  config: Pick<Config, "databaseUrl" | "databaseSchema" | "sqlitePath" | "sqliteWriterThread">,
): Promise<Store> {
  const store: Store = config.databaseUrl
    ? new PostgresStore(config.databaseUrl, config.databaseSchema)
    : new SqliteStore(config.sqlitePath, { writerThread: config.sqliteWriterThread });
  await store.migrate();
  return store;
}
