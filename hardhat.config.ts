import { createRequire } from "node:module";
import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { defineConfig } from "hardhat/config";
import { mochaHooks } from "./test/support/mocha-hooks.ts";

// The compiler comes from the `solc` npm package, never from a download: machines running Gopy's
// tests may reach nothing but the npm registry.
const require = createRequire(import.meta.url);
const solcVersion: string = require("solc/package.json").version;
const soljsonPath = require.resolve("solc/soljson.js");

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    version: solcVersion,
    path: soljsonPath,
    settings: {
      optimizer: { enabled: true, runs: 10_000 },
      evmVersion: "cancun",
    },
  },
  paths: {
    sources: "contracts",
    tests: { mocha: "test/contracts", solidity: "test/contracts" },
  },
  // The seed of the contract tests' random choices is printed under a failing test, as in every mocha run.
  test: { mocha: { rootHooks: mochaHooks } },
  networks: {
    localhost: { type: "http", chainType: "l1", url: "http://127.0.0.1:8545" },
  },
});
