// A newcomer on an old Node.js (the machine's /usr/bin/node is 20): `npm start`, `npm test`, `npm run audit`
// and any mocha run stop at once with one line saying what is needed, what was found and how to get Node 22,
// instead of Node 20's ERR_UNKNOWN_FILE_EXTENSION stack trace. On Node 22 the check says nothing.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { run } from "../support/process.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const OLD_NODE = process.env.GOPY_OLD_NODE ?? "/usr/bin/node";
const CHECK = join(ROOT, "scripts/require-node.cjs");
const REQUIRED = (
  JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { engines: { node: string } }
).engines.node;

function versionOf(node: string): string | null {
  const r = spawnSync(node, ["-p", "process.versions.node"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** This process's environment with the old Node first on PATH, without the npm_* variables of a parent npm. */
function oldNodeEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("npm_")));
  return { ...env, PATH: `${dirname(OLD_NODE)}:${process.env.PATH ?? ""}` };
}

describe("the Node.js version check", function () {
  this.timeout(120_000);

  it("says nothing and exits 0 on this Node.js", async () => {
    const r = await run(process.execPath, [CHECK]);
    expect(r).to.deep.equal({ code: 0, stdout: "", stderr: "" });
  });

  const old = versionOf(OLD_NODE);
  if (old === null || Number(old.split(".")[0]) >= 22) {
    // not a CI requirement: a machine without an old Node.js simply has no newcomer to protect
    it("needs a Node.js older than 22 to try the check on", function () {
      console.warn(
        `  !! SKIPPED: set GOPY_OLD_NODE to a Node.js older than 22; ${OLD_NODE} is ${old ?? "absent"}`,
      );
      this.skip();
    });
    return;
  }

  const expectOneLine = (text: string) => {
    const lines = text.split("\n").filter((l) => l.startsWith("gopy needs"));
    expect(lines, text).to.have.length(1);
    expect(lines[0]).to.include(`Node.js ${REQUIRED}`);
    expect(lines[0]).to.include(`Node.js v${old}`);
    expect(lines[0]).to.include("install Node.js 22");
  };

  it(`on Node.js ${old}: one line on stderr, nothing else, exit 1`, async () => {
    const r = await run(OLD_NODE, [CHECK]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.equal("");
    expect(r.stderr.endsWith("\n") && r.stderr.split("\n").length === 2, r.stderr).to.equal(true);
    expectOneLine(r.stderr);
  });

  for (const args of [["start"], ["test"], ["run", "audit", "--", "--help"]]) {
    it(`npm ${args.join(" ")} on Node.js ${old} stops at that line, with no stack trace`, async () => {
      const r = await run("npm", args, { cwd: ROOT, env: oldNodeEnv() });
      const output = r.stdout + r.stderr;
      expect(r.code, output).to.not.equal(0);
      expectOneLine(output);
      expect(output).to.not.match(/ERR_UNKNOWN_FILE_EXTENSION|\n\s+at /);
    });
  }

  it(`mocha on Node.js ${old} stops at that line before loading a test file`, async () => {
    const mocha = join(ROOT, "node_modules/mocha/bin/mocha.js");
    const r = await run(OLD_NODE, [mocha, "test/protocol/tally.test.ts"], { cwd: ROOT, env: oldNodeEnv() });
    expect(r.code).to.equal(1);
    expectOneLine(r.stderr);
    expect(r.stdout + r.stderr).to.not.match(/ERR_UNKNOWN_FILE_EXTENSION|passing|failing/);
  });
});
