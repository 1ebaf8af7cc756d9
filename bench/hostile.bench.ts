// Hostile input: >= 10,000 generated malformed requests across every route (quick: 10,000; --full:
// 50,000), and the token attack set (alg none, HS/RS confusion, expired, not yet valid, wrong iss/aud,
// tampered, unknown kid, ...) against the service as a child process. Figures: 5xx count (must be 0),
// crashes (0), attack tokens accepted (0), and whether the service still serves a valid opinion.
import { algNone, hsConfusion, kidOf, publicKeyPem, strangerSigned, tampered } from "../test/support/idp.ts";
import { citizen, DRAFT, log, startEvidence } from "./evidence/stack.ts";
import { FULL, lcg, report } from "./report.ts";

const REQUESTS = FULL ? 50_000 : 10_000;

const rand = lcg(2026);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const b64u = (s: string) => Buffer.from(s).toString("base64url");

const evidence = await startEvidence({ RATE_LIMIT_MAX: "1000000" });
const { idp, service } = evidence;
try {
  const base = service.url;
  const id = await evidence.open(3600);
  const citizenToken = await idp.token({ sub: citizen(1).sub });
  const agencyToken = await idp.token({ sub: "officer-1", role: "agency", agency: "bo-tu-phap" });
  const strangerAgency = await idp.token({ sub: "officer-2", role: "agency", agency: "bo-khac" });
  const adminToken = await idp.token({ sub: "admin-1", role: "admin" });
  // One real opinion, so proof and withhold routes have something to refuse around.
  await fetch(`${base}/api/consultations/${id}/opinions`, {
    method: "POST",
    headers: { authorization: `Bearer ${citizenToken}`, "content-type": "application/json" },
    body: JSON.stringify({ section: "dieu-1", stance: "agree", text: "ok" }),
  });

  const ids = [
    String(id),
    "0",
    "-1",
    "abc",
    "1.5",
    "1e3",
    "0x1",
    "99999999999999999999999999",
    "%00",
    "%ff%fe",
    "..%2f..%2fetc%2fpasswd",
    "1;DROP TABLE x",
    "<script>",
    " 1",
    "0001",
    "",
  ];
  const nums = ["-1", "0", "1", "2.5", "1e309", "NaN", "abc", "9007199254740993", "", "%00", "[]", "{}"];
  const hashes = [
    "0x",
    "zz",
    `0x${"0".repeat(64)}`,
    `0x${"G".repeat(64)}`,
    `0x${"a".repeat(63)}`,
    `0X${"a".repeat(64)}`,
    "%00",
  ];
  const big = "x".repeat(2_000_000);
  const deep = `${"[".repeat(20_000)}${"]".repeat(20_000)}`;
  const bodies: (string | Buffer | undefined)[] = [
    undefined,
    "",
    "{",
    "null",
    "[]",
    "42",
    '"text"',
    '{"section":1,"stance":[],"text":{}}',
    JSON.stringify({ section: "dieu-1", stance: "maybe", text: "x" }),
    JSON.stringify({ section: "dieu-999", stance: "agree" }),
    JSON.stringify({ section: "dieu-1", stance: "agree", text: "y".repeat(10_001) }),
    JSON.stringify({ section: "dieu-1", stance: "agree", extra: true }),
    JSON.stringify({
      section: "dieu-1",
      stance: "agree",
      text: "'; DROP TABLE entries;-- <img src=x onerror=alert(1)>",
    }),
    '{"__proto__":{"admin":true},"section":"dieu-1","stance":"agree"}',
    '{"constructor":{"prototype":{"x":1}}}',
    JSON.stringify({ ...DRAFT, opensAt: "soon", closesAt: -1 }),
    JSON.stringify({ title: "", summary: 1, sections: [] }),
    JSON.stringify({
      title: "t",
      summary: "s",
      sections: [{ id: "a b", title: "", text: 1 }],
      opensAt: 0,
      closesAt: 1,
    }),
    JSON.stringify({ reason: "NOT A CODE" }),
    JSON.stringify({ sub: "x", role: "admin" }),
    Buffer.from([0x7b, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]),
    Buffer.from([0xc0, 0xaf, 0xed, 0xa0, 0x80]),
    'section,stance,text,collectedAt,location\ndieu-1,agree,"unterminated,2026-01-01,x',
    "section,stance\n\u0000\u0001,,,,,,,,",
    `{"text":"\\ud800"}`,
    deep,
    big,
  ];
  const contentTypes = [
    "application/json",
    "text/plain",
    "text/csv",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    undefined,
  ];
  const tokens = [
    citizenToken,
    agencyToken,
    strangerAgency,
    adminToken,
    undefined,
    "garbage",
    "a.b.c",
    "Bearer",
  ];
  const routes: { method: string; path: () => string }[] = [
    { method: "GET", path: () => "/api/consultations" },
    { method: "POST", path: () => "/api/consultations" },
    { method: "GET", path: () => `/api/consultations/${pick(ids)}` },
    { method: "PUT", path: () => `/api/consultations/${pick(ids)}/draft` },
    { method: "POST", path: () => `/api/consultations/${pick(ids)}/opinions` },
    { method: "GET", path: () => "/api/me/opinions" },
    { method: "POST", path: () => `/api/consultations/${pick(ids)}/opinions/import` },
    { method: "POST", path: () => `/api/consultations/${pick(ids)}/entries/${pick(nums)}/withhold` },
    { method: "GET", path: () => `/api/consultations/${pick(ids)}/log/head` },
    {
      method: "GET",
      path: () => `/api/consultations/${pick(ids)}/log/proof?leafHash=${pick(hashes)}&treeSize=${pick(nums)}`,
    },
    {
      method: "GET",
      path: () => `/api/consultations/${pick(ids)}/log/consistency?first=${pick(nums)}&second=${pick(nums)}`,
    },
    {
      method: "GET",
      path: () => `/api/consultations/${pick(ids)}/log/entries?start=${pick(nums)}&end=${pick(nums)}`,
    },
    { method: "POST", path: () => `/api/consultations/${pick(ids)}/close` },
    { method: "GET", path: () => `/api/consultations/${pick(ids)}/tally` },
    { method: "GET", path: () => `/api/consultations/${pick(ids)}/export` },
    { method: "GET", path: () => `/api/drafts/${pick(hashes)}` },
    { method: "GET", path: () => "/api/keys" },
    { method: "GET", path: () => "/api/health" },
    { method: "POST", path: () => "/api/dev/token" },
    { method: pick(["DELETE", "PATCH", "OPTIONS"]), path: () => `/api/consultations/${pick(ids)}` },
  ];

  const statuses: Record<string, number> = {};
  let networkErrors = 0;
  let resetAfterOversized = 0;
  let done = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (done < REQUESTS) {
      done++;
      const route = pick(routes);
      const method = route.method;
      const body = method === "GET" || method === "OPTIONS" ? undefined : pick(bodies);
      const token = pick(tokens);
      const ct = pick(contentTypes);
      const headers: Record<string, string> = {};
      if (token) headers.authorization = token === "Bearer" ? "Bearer" : `Bearer ${token}`;
      if (ct && body !== undefined) headers["content-type"] = ct;
      if (rand() < 0.1) headers["idempotency-key"] = pick(["", "x".repeat(500), "\u00e9", "k1"]);
      try {
        const r = await fetch(base + route.path(), {
          method,
          headers,
          body: body === undefined ? undefined : typeof body === "string" ? body : new Uint8Array(body),
        });
        await r.arrayBuffer();
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      } catch {
        // The service answers 413 to an oversized body and closes the connection before reading it
        // all: the client then sees a reset, which is not a failure of the service.
        if (body === big) resetAfterOversized++;
        else networkErrors++;
      }
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  const seconds = (performance.now() - t0) / 1000;
  log(`hostile: ${REQUESTS} requests in ${seconds.toFixed(1)} s`);

  // The token attack set, each against a citizen route and an agency route.
  const now = Math.floor(Date.now() / 1000);
  const sub = citizen(2).sub;
  const valid = await idp.token({ sub });
  const [vh, vp, vs] = valid.split(".") as [string, string, string];
  const attacks: Record<string, string> = {
    "alg none": algNone(valid),
    "alg none, no dot": algNone(valid).slice(0, -1),
    "HS256 keyed with the provider's public key": hsConfusion(valid, await publicKeyPem(idp)),
    expired: tampered(valid, { exp: now - 60, iat: now - 3600, nbf: now - 3600 }),
    "not yet valid": tampered(valid, { nbf: now + 3600 }),
    "wrong issuer": tampered(valid, { iss: "https://evil.example" }),
    "wrong audience": tampered(valid, { aud: "another-service" }),
    "tampered payload": tampered(valid, { sub: "someone-else" }),
    "tampered signature": `${vh}.${vp}.${vs.slice(0, -4)}AAAA`,
    "unknown kid": strangerSigned(valid, "unknown-kid"),
    "the provider's kid, a stranger's key": strangerSigned(valid, kidOf(valid)),
    "alg header swapped (EdDSA key, RS256 header)": (() => {
      const [, p, sig] = valid.split(".") as [string, string, string];
      return `${b64u(JSON.stringify({ alg: "RS256", typ: "at+jwt", kid: kidOf(valid) }))}.${p}.${sig}`;
    })(),
    "no exp": tampered(valid, { exp: undefined }),
    "empty subject": strangerSigned(valid, kidOf(valid), { sub: "" }),
    "agency role without agency": strangerSigned(valid, kidOf(valid), { role: "agency" }),
  };
  let attackAccepted = 0;
  let attack5xx = 0;
  const attackStatuses: Record<string, number[]> = {};
  for (const [name, token] of Object.entries(attacks)) {
    const a = await fetch(`${base}/api/consultations/${id}/opinions`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ section: "dieu-2", stance: "disagree", text: name }),
    });
    const b = await fetch(`${base}/api/me/opinions`, { headers: { authorization: `Bearer ${token}` } });
    attackStatuses[name] = [a.status, b.status];
    for (const s of [a.status, b.status]) {
      if (s < 400) attackAccepted++;
      if (s >= 500) attack5xx++;
    }
  }
  // Still alive and still correct.
  const after = await fetch(`${base}/api/consultations/${id}/opinions`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${await idp.token({ sub: citizen(3).sub })}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({ section: "dieu-3", stance: "neutral", text: "still here" }),
  });
  const fivexx = Object.entries(statuses)
    .filter(([s]) => Number(s) >= 500)
    .reduce((n, [, c]) => n + c, 0);
  const crashed = service.process.exitCode !== null || service.process.signalCode !== null ? 1 : 0;
  report("hostile.requests", REQUESTS, "requests", {
    seconds: Number(seconds.toFixed(1)),
    statuses,
    resetAfterOversized,
    networkErrors,
  });
  report("hostile.5xx", fivexx + attack5xx, "responses", { statuses });
  report("hostile.crashes", crashed, "crashes", { networkErrors, validOpinionAfterwards: after.status });
  report("hostile.tokenAttacksAccepted", attackAccepted, "responses", {
    attacks: Object.keys(attacks).length,
    statuses: attackStatuses,
  });
} finally {
  await evidence.stop();
}
