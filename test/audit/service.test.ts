// The auditor against the real service: buildApp on a real Hardhat node (test/support/stack.ts, on the
// service's own devnet tooling and test defaults), a consultation opened through the API, citizens' opinions (with replacements and a
// withheld text), anchoring in several steps, close and tally; then `npm run audit -- --api ...`.
import { writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { entryString, type OpinionEntry } from "../../protocol/index.ts";
import { EXIT } from "../../scripts/audit/codes.ts";
import { devToken } from "../server/helpers.ts";
import { DRAFT } from "../server/requests.ts";
import { call as callAt, waitFor } from "../support/http.ts";
import { type Stack, startStack } from "../support/stack.ts";
import { runAudit } from "./helpers.ts";

describe("auditor on a consultation run by the real service", function () {
  this.timeout(240_000);
  let stack: Stack;
  let base: string;
  let id: number;
  let dir: string;

  const call = (method: string, path: string, token?: string, body?: unknown) =>
    callAt(base, method, path, token, body);
  const anchoredAt = async (size: number) =>
    waitFor(`head ${size} anchored`, async () => {
      const h = await call("GET", `/api/consultations/${id}/log/head`);
      return h.body.anchored?.treeSize === size ? h.body : null;
    });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "gopy-audit-service-"));
    stack = await startStack({ env: { ANCHOR_INTERVAL: "300ms", RATE_LIMIT_MAX: "1000" } });
    base = stack.base;
    const app = stack.app;

    const agency = await devToken(app, "officer-audit", "agency", "bo-tu-phap");
    const now = Math.floor(stack.clock.now() / 1000);
    const closesAt = now + 3600;
    const open = await call("POST", "/api/consultations", agency, { ...DRAFT, opensAt: now - 100, closesAt });
    expect(open.status, JSON.stringify(open.body)).to.equal(201);
    id = open.body.id;
    const tokens = await Promise.all(
      Array.from({ length: 24 }, (_, i) => devToken(app, `audit-citizen-${i}`)),
    );
    const stances = ["agree", "disagree", "neutral"] as const;
    let count = 0;
    for (let round = 0; round < 3; round++) {
      const rs = await Promise.all(
        tokens.map((t, i) =>
          call("POST", `/api/consultations/${id}/opinions`, t, {
            // Round 2 repeats round 0's sections: those opinions replace the earlier ones.
            section: DRAFT.sections[(i + (round % 2)) % 3]!.id,
            stance: stances[(i + round) % 3],
            text: `Ý kiến ${round}-${i}: <script>alert(1)</script> '; DROP TABLE entries;--`,
          }),
        ),
      );
      for (const r of rs) expect(r.status, JSON.stringify(r.body)).to.equal(201);
      count += rs.length;
      await anchoredAt(count);
    }
    const withhold = await call("POST", `/api/consultations/${id}/entries/5/withhold`, agency, {
      reason: "personal-data",
    });
    expect(withhold.status, JSON.stringify(withhold.body)).to.be.oneOf([200, 201]);
    await anchoredAt(count + 1);
    await stack.advance(3601); // past closesAt, on the service's clock and the chain's
    const closed = await call("POST", `/api/consultations/${id}/close`, agency);
    expect(closed.status, JSON.stringify(closed.body)).to.equal(200);
  });

  after(async () => {
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("passes: npm run audit -- --api <url> --consultation <id> --rpc <url>", async () => {
    const run = await runAudit(["--api", base, "--consultation", String(id), "--rpc", stack.node.url]);
    expect(run.code, `${run.stderr}\n${JSON.stringify(run.json?.failures, null, 1)}`).to.equal(EXIT.ok);
    const r = run.json;
    expect(r.entries).to.equal(73);
    expect(r.opinions).to.equal(72);
    expect(r.anchors.length).to.be.at.least(4);
    expect(r.anchors.every((a: { rootOk: boolean }) => a.rootOk)).to.equal(true);
    expect(r.anchors.slice(1).every((a: { consistency: string }) => a.consistency === "ok")).to.equal(true);
    expect(r.withheld).to.have.length(1);
    expect(r.withheld[0].index).to.equal(5);
    expect(r.withheld[0].moderation[0]).to.include({ index: 72, reason: "personal-data" });
    expect(r.contentHashes.checked).to.equal(71);
    expect(r.tally.ok).to.equal(true);
    expect(r.draft.ok).to.equal(true);
    const t = r.tally.document.totals.total;
    expect(t.agree + t.disagree + t.neutral).to.equal(48);
  });

  it("fails the downloaded export with one entry altered, and passes it unaltered", async () => {
    const res = await fetch(`${base}/api/consultations/${id}/export`);
    const lines = (await res.text()).split("\n").filter((l) => l !== "");
    const draftPath = join(dir, "draft.json");
    writeFileSync(draftPath, JSON.stringify(DRAFT));
    const contract = (await call("GET", `/api/consultations/${id}`)).body.chain.contract as string;
    const args = (file: string) => [
      "--export",
      file,
      "--consultation",
      String(id),
      "--rpc",
      stack.node.url,
      "--contract",
      contract,
      "--draft",
      draftPath,
    ];
    const honest = join(dir, "honest.ndjson");
    writeFileSync(honest, `${lines.join("\n")}\n`);
    expect((await runAudit(args(honest))).code).to.equal(EXIT.ok);

    const o = JSON.parse(lines[30]!) as { leaf: string };
    const e = JSON.parse(o.leaf) as OpinionEntry;
    o.leaf = entryString({ ...e, stance: e.stance === "agree" ? "disagree" : "agree" });
    lines[30] = JSON.stringify(o);
    const altered = join(dir, "altered.ndjson");
    writeFileSync(altered, `${lines.join("\n")}\n`);
    const run = await runAudit(args(altered));
    expect(run.code).to.equal(EXIT["leaf-hash"]);
  });
});
