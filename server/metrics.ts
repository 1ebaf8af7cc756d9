/**
 * Prometheus metrics of the service (served to operators at /metrics by routes/ops.ts): service-wide counters, gauges
 * and one histogram in decades. Nothing is per request or per citizen, so a scrape gives no timing to link to a leaf.
 */
import client from "prom-client";
import type { Clock } from "./clock.ts";
import type { Config } from "./config.ts";
import type { Store } from "./store/index.ts";

export interface ServiceMetrics {
  registry: client.Registry;
  accepted: client.Counter<"channel">;
  batchSize: client.Histogram;
  gasSpent: client.Counter;
  anchoredSize: client.Gauge<"consultation">;
  witnessFailures: client.Counter<"witness" | "reason">;
}

export function createMetrics(store: Store, clock: Clock, config: Config): ServiceMetrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: "gopy_" });
  const metrics: ServiceMetrics = {
    registry,
    accepted: new client.Counter({
      name: "gopy_opinions_accepted_total",
      help: "Opinions accepted (durable, receipt signed)",
      labelNames: ["channel"],
      registers: [registry],
    }),
    batchSize: new client.Histogram({
      name: "gopy_group_commit_entries",
      help: "Entries per group commit",
      buckets: [1, 10, 100, 1000, 10_000],
      registers: [registry],
    }),
    gasSpent: new client.Counter({
      name: "gopy_anchor_gas_spent_total",
      help: "Gas used by mined anchoring and tally transactions",
      registers: [registry],
    }),
    anchoredSize: new client.Gauge({
      name: "gopy_anchored_tree_size",
      help: "Last anchored tree size per consultation",
      labelNames: ["consultation"],
      registers: [registry],
    }),
    witnessFailures: new client.Counter({
      name: "gopy_witness_failures_total",
      help: "Checkpoints a configured witness did not cosign (timeout, http status, conflict, invalid answer)",
      labelNames: ["witness", "reason"],
      registers: [registry],
    }),
  };
  let roundTrips = store.roundTrips();
  new client.Counter({
    name: "gopy_store_round_trips_total",
    help: "Statements the store sent to its database (each BEGIN and COMMIT included; SQLite: executed)",
    registers: [registry],
    collect() {
      // the store counts; the counter follows it at each scrape
      const now = store.roundTrips();
      this.inc(now - roundTrips);
      roundTrips = now;
    },
  });
  const backlog = () => store.backlog(clock.now() - config.anchor.maxDelayMs);
  new client.Gauge({
    name: "gopy_backlog_entries",
    help: "Entries not yet covered by a head mined on chain",
    registers: [registry],
    async collect() {
      this.set((await backlog()).backlog);
    },
  });
  new client.Gauge({
    name: "gopy_anchoring_lag_seconds",
    help: "Age of the oldest entry not yet anchored",
    registers: [registry],
    async collect() {
      const { oldestPending } = await backlog();
      this.set(oldestPending === null ? 0 : Math.max(0, (clock.now() - oldestPending) / 1000));
    },
  });
  new client.Gauge({
    name: "gopy_overdue_entries",
    help: "Entries past their promised anchoring deadline",
    registers: [registry],
    async collect() {
      this.set((await backlog()).overdue);
    },
  });
  return metrics;
}
