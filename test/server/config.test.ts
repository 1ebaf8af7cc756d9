/** Configuration: validated once; a bad value names the variable; .env.example documents every variable. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { ConfigError, loadConfig } from "../../server/config.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const base = {
  NODE_ENV: "development",
  PSEUDONYM_SECRET: "11".repeat(32),
  RECEIPT_KEY_SEED: "22".repeat(32),
  CHECKPOINT_KEY_SEED: "33".repeat(32),
  OIDC_ISSUERS: JSON.stringify([
    { issuer: "http://127.0.0.1:3001", audience: "gopy", roles: ["citizen", "agency"] },
  ]),
  DEV_IDP_URL: "http://127.0.0.1:3001",
};

function failsOn(env: Record<string, string>, variable: string): void {
  try {
    loadConfig({ ...base, ...env });
  } catch (e) {
    expect(e).to.be.instanceOf(ConfigError);
    expect((e as ConfigError).variable.startsWith(variable), (e as Error).message).to.equal(true);
    expect((e as Error).message).to.contain(variable);
    return;
  }
  throw new Error(`expected ${variable} to be refused`);
}

describe("configuration", () => {
  it("has typed defaults", () => {
    const c = loadConfig(base);
    expect(c.port).to.equal(3000);
    expect(c.anchor.intervalMs).to.equal(60_000);
    expect(c.anchor.maxDelayMs).to.equal(300_000);
    expect(c.databaseUrl).to.equal(null);
    expect(c.jwt.algorithms).to.deep.equal(["RS256", "ES256", "EdDSA"]);
    expect(loadConfig({ ...base, ANCHOR_INTERVAL: "10s" }).anchor.intervalMs).to.equal(10_000);
    expect(loadConfig({ ...base, ANCHOR_INTERVAL: "250ms" }).anchor.intervalMs).to.equal(250);
  });

  it("stops on a bad value, naming the variable", () => {
    failsOn({ PORT: "http" }, "PORT");
    failsOn({ PORT: "70000" }, "PORT");
    failsOn({ NODE_ENV: "staging" }, "NODE_ENV");
    failsOn({ ANCHOR_INTERVAL: "soon" }, "ANCHOR_INTERVAL");
    failsOn({ BATCH_MAX: "0" }, "BATCH_MAX");
    failsOn({ PSEUDONYM_SECRET: "abcd" }, "PSEUDONYM_SECRET");
    failsOn({ PSEUDONYM_SECRET: "" }, "PSEUDONYM_SECRET");
    failsOn({ RECEIPT_KEY_SEED: "zz".repeat(32) }, "RECEIPT_KEY_SEED");
    failsOn({ CHECKPOINT_KEY_SEED: "" }, "CHECKPOINT_KEY_SEED");
    failsOn({ CHECKPOINT_KEY_SEED: "33".repeat(31) }, "CHECKPOINT_KEY_SEED");
    failsOn({ LOG_ORIGIN_PREFIX: "https://consult.example.gov.vn/logs" }, "LOG_ORIGIN_PREFIX");
    failsOn({ LOG_ORIGIN_PREFIX: "consult.example.gov.vn/logs/" }, "LOG_ORIGIN_PREFIX");
    failsOn({ LOG_ORIGIN_PREFIX: "consult example/logs" }, "LOG_ORIGIN_PREFIX");
    failsOn({ LOG_ORIGIN_PREFIX: "a+b/logs" }, "LOG_ORIGIN_PREFIX");
    failsOn({ RPC_URL: "http://127.0.0.1:8545" }, "REGISTRY_ADDRESS");
    failsOn({ RPC_URL: "not a url", REGISTRY_ADDRESS: `0x${"1".repeat(40)}` }, "RPC_URL");
    failsOn({ RPC_URL: "http://x", REGISTRY_ADDRESS: "0x12" }, "REGISTRY_ADDRESS");
    failsOn({ AGENCIES: "{" }, "AGENCIES");
    failsOn(
      { AGENCIES: JSON.stringify({ a: { address: "0x1", operatorKey: `0x${"1".repeat(64)}` } }) },
      "AGENCIES",
    );
    failsOn({ JWT_ALGORITHMS: "HS256" }, "JWT_ALGORITHMS");
    failsOn({ JWT_ALGORITHMS: "none" }, "JWT_ALGORITHMS");
    failsOn({ NODE_ENV: "production" }, "DEV_IDP_URL");
    failsOn({ DEV_IDP_URL: "http://127.0.0.1:4444" }, "DEV_IDP_URL");
    failsOn({ LOG_LEVEL: "loud" }, "LOG_LEVEL");
  });

  it("reads OIDC_ISSUERS: each issuer's audience, roles and claim names, refusing what would be ambiguous", () => {
    const issuers = (list: unknown) => ({ OIDC_ISSUERS: JSON.stringify(list), DEV_IDP_URL: "" });
    const citizens = { issuer: "https://id.example.gov.vn", audience: "gopy", roles: ["citizen"] };
    const staff = {
      issuer: "https://login.microsoftonline.com/0b1c/v2.0",
      audience: "api://gopy",
      roles: ["agency"],
      subjectClaim: "oid",
      roleClaim: "roles",
      roleValues: { "Gopy.Staff": "agency" },
      agency: "bo-tu-phap",
    };
    const c = loadConfig({ ...base, ...issuers([citizens, staff]) });
    expect(c.jwt.issuers.map((i) => [i.issuer, i.roles, i.defaultRole])).to.deep.equal([
      ["https://id.example.gov.vn", ["citizen"], "citizen"],
      ["https://login.microsoftonline.com/0b1c/v2.0", ["agency"], null],
    ]);
    expect(c.jwt.issuers[1]).to.include({ subjectClaim: "oid", roleClaim: "roles", agency: "bo-tu-phap" });
    expect(c.jwt.issuers[1]!.roleValues).to.deep.equal({ "Gopy.Staff": "agency" });
    expect(c.devIdpUrl).to.equal(null);
    failsOn({ OIDC_ISSUERS: "" }, "OIDC_ISSUERS");
    failsOn({ OIDC_ISSUERS: "{" }, "OIDC_ISSUERS");
    failsOn(issuers([]), "OIDC_ISSUERS");
    failsOn(issuers([{ ...citizens, issuer: "not a url" }]), "OIDC_ISSUERS[0].issuer");
    failsOn(issuers([citizens, citizens]), "OIDC_ISSUERS[1].issuer");
    failsOn(issuers([{ ...citizens, audience: "" }]), "OIDC_ISSUERS[0].audience");
    failsOn(issuers([{ ...citizens, roles: ["mayor"] }]), "OIDC_ISSUERS[0].roles");
    failsOn(issuers([{ ...citizens, roles: [] }]), "OIDC_ISSUERS[0].roles");
    failsOn(issuers([{ ...citizens, claimz: "sub" }]), "OIDC_ISSUERS[0].claimz");
    failsOn(issuers([{ ...staff, roleValues: { x: "root" } }]), "OIDC_ISSUERS[0].roleValues.x");
    failsOn(issuers([{ ...staff, defaultRole: "citizen" }]), "OIDC_ISSUERS[0].defaultRole");
    failsOn(issuers([citizens, { ...staff, roles: ["citizen"] }]), "OIDC_ISSUERS");
  });

  it("names the variables that OIDC_ISSUERS and DEV_IDP_URL replaced", () => {
    for (const replaced of ["JWT_JWKS_URL", "JWT_PUBLIC_KEY", "JWT_ISSUER", "JWT_AUDIENCE", "DEV_IDP"]) {
      failsOn({ [replaced]: "x" }, replaced);
    }
  });

  it("serves the development token mint only with NODE_ENV=development set explicitly", () => {
    const { NODE_ENV: _explicit, ...unset } = base;
    for (const env of [unset, { ...base, NODE_ENV: "" }, { ...base, NODE_ENV: "test" }] as Record<
      string,
      string
    >[]) {
      expect(() => loadConfig(env), JSON.stringify(env.NODE_ENV)).to.throw(
        ConfigError,
        /DEV_IDP_URL.*NODE_ENV=development/,
      );
    }
    expect(loadConfig(base).devIdpUrl).to.equal("http://127.0.0.1:3001");
    // NODE_ENV unset is production
    expect(loadConfig({ ...unset, DEV_IDP_URL: "" }).nodeEnv).to.equal("production");
  });

  it("keeps agency ids that are names of Object.prototype as agencies, and refuses __proto__", () => {
    const agency = { address: `0x${"1".repeat(40)}`, operatorKey: `0x${"2".repeat(64)}` };
    const ids = ["constructor", "toString", "hasOwnProperty", "valueOf"];
    const c = loadConfig({
      ...base,
      AGENCIES: JSON.stringify(Object.fromEntries(ids.map((id) => [id, agency]))),
    });
    expect(Object.keys(c.chain.agencies)).to.deep.equal(ids);
    for (const id of ids) expect(Object.hasOwn(c.chain.agencies, id), id).to.equal(true);
    failsOn({ AGENCIES: `{"__proto__": ${JSON.stringify(agency)}}` }, "AGENCIES");
  });

  it("never echoes a mistyped operator key", () => {
    const secretish = `0x${"ab".repeat(31)}`;
    try {
      loadConfig({
        ...base,
        AGENCIES: JSON.stringify({ a: { address: `0x${"1".repeat(40)}`, operatorKey: secretish } }),
      });
      throw new Error("accepted");
    } catch (e) {
      expect((e as Error).message).to.not.contain(secretish.slice(2));
    }
  });

  it("documents every variable in .env.example, and the example parses", () => {
    const source = readFileSync(join(ROOT, "server/config.ts"), "utf8");
    const used = new Set([...source.matchAll(/\(env, "([A-Z_]+)"/g)].map((m) => m[1]!));
    used.add("AGENCIES");
    const example = readFileSync(join(ROOT, ".env.example"), "utf8");
    const documented = new Map<string, string>();
    for (const line of example.split("\n")) {
      const m = /^([A-Z_]+)=(.*)$/.exec(line);
      if (m) documented.set(m[1]!, m[2]!);
    }
    for (const v of used) expect(documented.has(v), `${v} missing from .env.example`).to.equal(true);
    const env = Object.fromEntries(documented);
    env.PSEUDONYM_SECRET = "11".repeat(32);
    env.RECEIPT_KEY_SEED = "22".repeat(32);
    env.CHECKPOINT_KEY_SEED = "33".repeat(32);
    env.AGENCIES = JSON.stringify({
      "bo-tu-phap": { address: `0x${"1".repeat(40)}`, operatorKey: `0x${"2".repeat(64)}` },
    });
    const c = loadConfig(env);
    expect(c.nodeEnv).to.equal("production");
    expect(c.devIdpUrl).to.equal(null);
    expect(c.jwt.issuers.length).to.be.greaterThan(0);
  });
});
