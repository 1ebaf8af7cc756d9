// Run first by `npm install`, `npm start` and `npm test`: on a Node.js older than package.json's
// engines.node, one line saying so (what is needed, what was found, how to get it) instead of the
// ERR_UNKNOWN_FILE_EXTENSION stack trace Node 20 prints for our TypeScript files. Plain CommonJS with no
// syntax newer than Node 8's, so that any old Node can run it.
"use strict";
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

const range = JSON.parse(readFileSync(join(__dirname, "..", "package.json"), "utf8")).engines.node;
const parse = (version) =>
  version
    .replace(/^[^0-9]*/, "")
    .split(".")
    .map((part) => Number.parseInt(part, 10) || 0);
const wanted = parse(range);
const found = parse(process.versions.node);
let older = false;
for (let i = 0; i < 3; i++) {
  if ((found[i] || 0) !== (wanted[i] || 0)) {
    older = (found[i] || 0) < (wanted[i] || 0);
    break;
  }
}
if (older) {
  process.stderr.write(
    `gopy needs Node.js ${range} but this is Node.js v${process.versions.node} (${process.execPath}): install Node.js 22 from https://nodejs.org/en/download (or \`nvm install 22\`) and put it first on PATH.\n`,
  );
  process.exit(1);
}
