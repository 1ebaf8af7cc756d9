// One auditor: the same honest and tampered exports go to the CLI (`node scripts/audit.ts`, a child
// process reading a real local Hardhat chain) and to the browser's Web Worker entry point
// (web/src/audit.worker.ts, bundled by Vite and run in real headless Chromium, fed the chain facts the
// CLI's reader reads); both must give the same verdict, failure by failure, for every kind of tamper.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import type { Browser, Page } from "playwright-core";
import { readChainFacts } from "../../audit/chain-facts.ts";
import { EXIT } from "../../audit/codes.ts";
import type { ChainFacts } from "../../audit/facts.ts";
import { openRegistry } from "../../chain/reader.ts";
import type { OpinionEntry } from "../../protocol/index.ts";
import { type LocalChain, startLocalChain } from "../audit/fixtures/chain.ts";
import { type Scenario, testDraft } from "../audit/fixtures/generate.ts";
import { buildTamperScenarios, parseLine, withLeaf } from "../audit/fixtures/tampering.ts";
import { readLines, runAudit, writeLines } from "../audit/helpers.ts";
import { browserBundle, launch, needChromium } from "./helpers.ts";

/** Marks the line the "invalid UTF-8" case turns into bytes that are not UTF-8. */
const NOT_UTF8 = "@@not-utf-8@@";

/** What both auditors must agree on: the whole result but the time taken and the CLI's tally explanation. */
function verdict(result: Record<string, unknown>): unknown {
  const { seconds: _s, tally, ...rest } = result as { seconds: number; tally: Record<string, unknown> };
  const { differences: _d, ...tallyRest } = tally;
  return JSON.parse(JSON.stringify({ ...rest, tally: tallyRest }));
}

describe("one auditor: the CLI and the browser's worker give the same verdicts", function () {
  this.timeout(600_000);
  let chain: LocalChain;
  let dir: string;
  let done: Scenario, open: Scenario, dishonest: Scenario;
  let lines: string[];
  let server: Server;
  let base: string;
  let browser: Browser | undefined;
  let page: Page;

  const parse = parseLine;
  const isPublicOpinion = (l: string) =>
    typeof parse(l).text === "string" && (parse(l).text as string) !== "";
  const publicOpinion = () => lines.findIndex((l, i) => i > 10 && isPublicOpinion(l));
  const firstOpinionOf = (ls: string[], ok: (e: OpinionEntry) => boolean) =>
    ls.findIndex((l) => {
      const e = JSON.parse(parse(l).leaf as string) as OpinionEntry;
      return e.type === "opinion" && ok(e);
    });

  /** Each case: an export (a file under dir), the scenario whose chain facts apply, and what the CLI exits with. */
  interface Case {
    name: string;
    scenario: () => Scenario;
    edit?: (ls: string[]) => string[];
    draft?: "other";
    final?: boolean;
    /** The scenario's published response document given to both auditors, as it is or altered. */
    response?: "genuine" | "altered";
    exit: number;
    /** Failure kinds the verdict must include (beyond the one that sets the exit code). */
    kinds?: string[];
  }
  const cases: Case[] = [
    { name: "honest", scenario: () => done, exit: EXIT.ok },
    {
      name: "entry altered, leafHash kept",
      scenario: () => done,
      exit: EXIT["leaf-hash"],
      edit: (ls) => {
        ls[150] = withLeaf(
          ls[150]!,
          (e) => ({ ...e, stance: e.stance === "agree" ? "disagree" : "agree" }),
          false,
        );
        return ls;
      },
    },
    {
      name: "entry altered, leafHash recomputed",
      scenario: () => done,
      exit: EXIT["root-mismatch"],
      edit: (ls) => {
        ls[42] = withLeaf(
          ls[42]!,
          (e) => ({ ...e, channel: e.channel === "online" ? "offline" : "online" }),
          true,
        );
        return ls;
      },
    },
    {
      name: "line dropped",
      scenario: () => done,
      exit: EXIT["export-format"],
      edit: (ls) => ls.filter((_, i) => i !== 120),
    },
    {
      name: "line dropped, renumbered",
      scenario: () => done,
      exit: EXIT["root-mismatch"],
      edit: (ls) => ls.filter((_, i) => i !== 120).map((l, i) => JSON.stringify({ ...parse(l), index: i })),
    },
    {
      name: "lines swapped",
      scenario: () => done,
      exit: EXIT["export-format"],
      edit: (ls) => {
        [ls[200], ls[201]] = [ls[201]!, ls[200]!];
        return ls;
      },
    },
    {
      name: "public text altered",
      scenario: () => done,
      exit: EXIT["content-hash"],
      edit: (ls) => {
        const i = publicOpinion();
        ls[i] = JSON.stringify({ ...parse(ls[i]!), text: "Một ý kiến khác" });
        return ls;
      },
    },
    {
      name: "text hidden without moderation",
      scenario: () => done,
      exit: EXIT.moderation,
      edit: (ls) => {
        const i = publicOpinion();
        const { text: _t, salt: _s, ...rest } = parse(ls[i]!);
        ls[i] = JSON.stringify({ ...rest, withheld: true });
        return ls;
      },
    },
    {
      name: "truncated",
      scenario: () => done,
      exit: EXIT["export-length"],
      edit: (ls) => ls.slice(0, 290),
    },
    {
      name: "garbage line",
      scenario: () => done,
      exit: EXIT["export-format"],
      edit: (ls) => [...ls.slice(0, 5), "{not json", ...ls.slice(5)],
    },
    {
      name: "invalid UTF-8 line",
      scenario: () => done,
      exit: EXIT["export-format"],
      edit: (ls) => [...ls.slice(0, 7), NOT_UTF8, ...ls.slice(7)],
    },
    {
      name: "two live opinions (replaces cut), rehashed",
      scenario: () => done,
      exit: EXIT["root-mismatch"],
      kinds: ["replaces", "tally"],
      edit: (ls) => {
        const i = firstOpinionOf(ls, (e) => e.replaces !== null);
        ls[i] = withLeaf(ls[i]!, (e) => ({ ...e, replaces: null }), true);
        return ls;
      },
    },
    {
      name: "opinion outside the window, rehashed",
      scenario: () => done,
      exit: EXIT["root-mismatch"],
      kinds: ["time-window"],
      edit: (ls) => {
        ls[60] = withLeaf(ls[60]!, (e) => ({ ...e, submittedAt: "2020-01-01T00:00:00.000Z" }), true);
        return ls;
      },
    },
    {
      name: "unknown draft version, rehashed",
      scenario: () => done,
      exit: EXIT["entry-invalid"],
      edit: (ls) => {
        ls[61] = withLeaf(ls[61]!, (e) => ({ ...e, draftVersion: 2 }), true);
        return ls;
      },
    },
    { name: "another draft", scenario: () => done, draft: "other", exit: EXIT.draft },
    { name: "published tally not the export's", scenario: () => dishonest, exit: EXIT.tally },
    { name: "open consultation", scenario: () => open, exit: EXIT.ok },
    { name: "open consultation, final", scenario: () => open, final: true, exit: EXIT["not-final"] },
    { name: "the genuine response", scenario: () => done, response: "genuine", exit: EXIT.ok },
    { name: "an altered response", scenario: () => done, response: "altered", exit: EXIT.response },
    {
      name: "an anchored response leaving an article unanswered",
      scenario: () => dishonest,
      response: "genuine",
      exit: EXIT.tally,
      kinds: ["response-incomplete"],
    },
  ];

  before(async function () {
    needChromium(this);
    dir = mkdtempSync(join(tmpdir(), "gopy-audit-parity-"));
    chain = await startLocalChain();
    ({ done, dishonest, open } = await buildTamperScenarios(chain, dir));
    lines = readLines(done.exportPath);
    const worker = await browserBundle("web/src/audit.worker.ts");
    // The page, the worker and the exports from one origin, as the service serves them.
    server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      if (url.pathname === "/audit.worker.js") {
        res.writeHead(200, { "content-type": "text/javascript" }).end(worker);
      } else if (url.pathname.startsWith("/export/")) {
        try {
          res.writeHead(200, { "content-type": "application/x-ndjson" });
          res.end(readFileSync(join(dir, decodeURIComponent(url.pathname.slice("/export/".length)))));
        } catch {
          res.writeHead(404).end();
        }
      } else {
        res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>audit</title>");
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launch();
    page = await browser.newPage();
    await page.goto(`${base}/`);
  });

  after(async () => {
    await browser?.close();
    server?.close();
    await chain?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The worker's result for the export at `file` (relative to dir). */
  async function inBrowser(
    file: string,
    facts: ChainFacts,
    draft: unknown,
    final: boolean,
    response: number[] | null,
  ) {
    return page.evaluate(
      ({ url, facts, draft, final, response }) =>
        new Promise<Record<string, unknown>>((resolve, reject) => {
          const w = new Worker("/audit.worker.js", { type: "module" });
          w.onmessage = (
            ev: MessageEvent<{ type: string; result?: Record<string, unknown>; message?: string }>,
          ) => {
            if (ev.data.type === "done") resolve(ev.data.result!);
            else if (ev.data.type === "error") reject(new Error(ev.data.message));
            if (ev.data.type !== "progress") w.terminate();
          };
          w.onerror = (e) => reject(new Error(e.message));
          w.postMessage({
            url,
            facts,
            draft,
            final,
            ...(response ? { response: new Uint8Array(response) } : {}),
          });
        }),
      { url: `${base}/export/${encodeURIComponent(file)}`, facts, draft, final, response },
    );
  }

  it("for every tamper kind: same exit code, same failures (kind, count, messages), same anchors, tally and counted map", async () => {
    const other = { ...testDraft(), summary: `${testDraft().summary}.` };
    const otherPath = join(dir, "other-draft.json");
    writeFileSync(otherPath, JSON.stringify(other));
    const seen = new Set<number>();
    for (const [n, c] of cases.entries()) {
      const s = c.scenario();
      const file = `case-${n}.ndjson`;
      if (c.edit) {
        const edited = c.edit(readLines(s.exportPath));
        const path = writeLines(join(dir, file), edited);
        // A line that is not UTF-8: the one the "invalid UTF-8" case put in as a lone surrogate.
        if (edited.includes(NOT_UTF8)) {
          const bytes = readFileSync(path);
          const at = bytes.indexOf(NOT_UTF8);
          writeFileSync(
            path,
            Buffer.concat([
              bytes.subarray(0, at),
              Buffer.from([0x7b, 0xff, 0x7d]),
              bytes.subarray(at + NOT_UTF8.length),
            ]),
          );
        }
      } else {
        writeFileSync(join(dir, file), readFileSync(s.exportPath));
      }
      const args = ["--export", join(dir, file), "--consultation", s.id, "--rpc", chain.url];
      args.push("--contract", chain.registry);
      if (c.draft) args.push("--draft", otherPath);
      if (c.final) args.push("--final");
      let response: Buffer | null = null;
      if (c.response) {
        response = readFileSync(s.responsePath!);
        if (c.response === "altered") {
          response = Buffer.from(response.toString("utf8").replace("Tiếp thu", "Không tiếp thu"));
        }
        const path = join(dir, `case-${n}-response.json`);
        writeFileSync(path, response);
        args.push("--response", path);
      }
      const cli = await runAudit(args);
      expect(cli.code, `${c.name}: ${cli.stderr}`).to.equal(c.exit);
      const kinds = (cli.json.failures as { kind: string }[]).map((f) => f.kind);
      expect(kinds, c.name).to.include.members(c.kinds ?? []);
      for (const k of kinds) seen.add(EXIT[k as keyof typeof EXIT]);
      seen.add(c.exit);
      const chainId = await chain.pub.getChainId();
      const root = { v: 1 as const, chainId, registry: chain.registry, rpcUrls: [chain.url] };
      const facts = await readChainFacts(await openRegistry(root), root.chainId, s.id);
      const draft = c.draft ? other : JSON.parse(readFileSync(s.draftPath, "utf8"));
      const web = await inBrowser(file, facts, draft, c.final === true, response ? [...response] : null);
      expect(verdict(web), c.name).to.deep.equal(verdict(cli.json));
    }
    // Every verdict code was exercised: the fixtures anchor each head's counted root, so an edit that changes
    // which entry counts fails "counted" in both auditors.
    expect([...seen].sort((a, b) => a - b)).to.deep.equal(
      [
        EXIT.ok,
        EXIT["export-format"],
        EXIT["entry-invalid"],
        EXIT["leaf-hash"],
        EXIT["root-mismatch"],
        EXIT["export-length"],
        EXIT["content-hash"],
        EXIT.moderation,
        EXIT["time-window"],
        EXIT.replaces,
        EXIT.tally,
        EXIT.draft,
        EXIT["not-final"],
        EXIT.counted,
        EXIT.response,
        EXIT["response-incomplete"],
      ].sort((a, b) => a - b),
    );
  });
});
