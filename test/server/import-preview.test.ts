// The import's dry run (POST …/opinions/import?dryRun=true): every row's result from the same checks as the import,
// duplicates of rows already imported flagged, and nothing written; on SQLite and PostgreSQL.
import { expect } from "chai";
import type { FastifyInstance } from "fastify";
import { missing, POSTGRES_HOW } from "../support/requires.ts";
import { devToken, dropSchema, testApp, testChain, testConfig } from "./helpers.ts";
import { importCsv, openConsultation } from "./requests.ts";

const pgUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
const backends: [string, Record<string, string> | null][] = [
  ["SQLite", {}],
  [
    "PostgreSQL",
    pgUrl
      ? { DATABASE_URL: pgUrl, DATABASE_SCHEMA: `gopy_preview_${process.pid}_${Date.now() % 1_000_000}` }
      : null,
  ],
];

for (const [backend, extraEnv] of backends) {
  describe(`service: import preview (dry run, ${backend})`, function () {
    this.timeout(120_000);
    if (extraEnv === null) {
      missing("PostgreSQL", POSTGRES_HOW);
      return;
    }
    let app: FastifyInstance;
    let agency: string;
    let other: string;
    let id: number;
    const head = async () =>
      (await app.inject({ method: "GET", url: `/api/consultations/${id}/log/head` })).json()
        .treeSize as number;

    before(async () => {
      const chain = await testChain();
      app = await testApp(testConfig(chain, extraEnv), { startAnchorer: false });
      agency = await devToken(app, "officer-a", "agency", "bo-tu-phap");
      other = await devToken(app, "officer-b", "agency", "bo-y-te");
      id = await openConsultation(app, agency);
    });
    after(async () => {
      await app?.close();
      if (extraEnv.DATABASE_SCHEMA && pgUrl) await dropSchema(pgUrl, extraEnv.DATABASE_SCHEMA);
    });

    const now = () => Math.floor(Date.now() / 1000);
    const csv = () =>
      [
        "section,stance,text,collectedAt,location",
        `dieu-1,agree,Ý kiến tại hội nghị,${now()},Hà Nội`,
        `dieu-9,agree,x,${now()},`,
        `dieu-2,maybe,x,${now()},`,
        `dieu-2,neutral,x,yesterday,`,
        `dieu-2,disagree,"Phiếu giấy, số 5",${now()},Huế`,
        "dieu-1,agree,too few",
      ].join("\n");

    it("lists every row's fault and writes nothing", async () => {
      const before = await head();
      const file = csv();
      const r = await importCsv(app, agency, id, file, true);
      expect(r.statusCode, r.body).to.equal(200);
      const body = r.json();
      expect(body).to.include({ dryRun: true, valid: 2, invalid: 4, duplicates: 0 });
      expect(
        body.rows.map((row: { line: number; error: string | null }) => [row.line, row.error]),
      ).to.deep.equal([
        [2, null],
        [3, "section: unknown section dieu-9"],
        [4, "stance must be agree, disagree or neutral"],
        [5, "collectedAt must be Unix seconds or RFC 3339"],
        [6, null],
        [7, "expected 5 fields, got 3"],
      ]);
      expect(body.rows[4]).to.include({ section: "dieu-2", stance: "disagree", text: "Phiếu giấy, số 5" });
      expect(await head()).to.equal(before);
      // the real import refuses the same file at its first bad line: one validation
      const real = await importCsv(app, agency, id, file);
      expect(real.statusCode).to.equal(400);
      expect(real.json().message).to.contain("line 3").and.contain("dieu-9");
      expect(await head()).to.equal(before);
    });

    it("flags the rows of a file already imported as duplicates", async () => {
      const file = ["section,stance,text,collectedAt,location", `dieu-3,agree,một,${now()},`].join("\n");
      const first = await importCsv(app, agency, id, file, true);
      expect(first.json()).to.include({ valid: 1, duplicates: 0 });
      const imported = await importCsv(app, agency, id, file);
      expect(imported.statusCode, imported.body).to.equal(201);
      const size = await head();
      const again = await importCsv(app, agency, id, file, true);
      expect(again.json()).to.include({ valid: 0, invalid: 0, duplicates: 1 });
      expect(again.json().rows[0]).to.include({ duplicate: true, error: null });
      expect(await head()).to.equal(size);
    });

    it("refuses a bad file, another agency and an unknown dryRun value like the import does", async () => {
      const header = await importCsv(app, agency, id, "a,b\n1,2", true);
      expect(header.statusCode).to.equal(400);
      expect(header.json().message).to.contain("header");
      expect((await importCsv(app, other, id, csv(), true)).statusCode).to.equal(403);
      const bad = await app.inject({
        method: "POST",
        url: `/api/consultations/${id}/opinions/import?dryRun=yes`,
        headers: { authorization: `Bearer ${agency}`, "content-type": "text/csv" },
        payload: csv(),
      });
      expect(bad.statusCode).to.equal(400);
      expect(bad.json().message).to.contain("dryRun");
    });
  });
}
