/**
 * `npm start`: a fresh local demo, every run.
 *   1. compiles the contracts if their artifacts are missing (Hardhat, solc from npm: nothing downloaded);
 *   2. starts `hardhat node` on 127.0.0.1:8545 (child process) — a new chain;
 *   3. deploys ConsultationRegistry with its Ignition module, grants AGENCY_ROLE and sets each agency's operator;
 *      writes the demo's trust root (data/trust-root.json: chain id, registry, RPC URL, the logs' checkpoint key and
 *      the demo witness, quorum 1) and builds the web client
 *      with it (`GOPY_TRUST_ROOT=data/trust-root.json vite build web`) unless web/dist already holds a build of the
 *      same sources for that trust root;
 *   4. starts the demo OpenID Provider on 127.0.0.1:3001 (scripts/demo-idp.ts: demo accounts, password `demo`), and
 *      the service on 127.0.0.1:3000 with a new SQLite file (data/demo.sqlite), accepting that provider's tokens;
 *      the service registers its receipt-signing key on chain (addReceiptKey), waited for here;
 *   5. seeds a consultation on a Vietnamese draft (several articles), open now, with some opinions;
 *   6. prints the URLs and how to get a token. Ctrl-C stops everything.
 * A real deployment is configuration (docs/SERVICE.md), not this command.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { ed25519NoteKey, witnessKey } from "../protocol/index.ts";
import { buildApp } from "../server/app.ts";
import {
  type DevNode,
  deployWithIgnition,
  ensureCompiled,
  makeAgency,
  startHardhatNode,
} from "../server/chain/devnet.ts";
import { ConfigError, loadConfig } from "../server/config.ts";
import { receiptKeyBytes32 } from "../server/receipt-keys.ts";
import { buildWitness } from "../witness/app.ts";
import { DEMO_ACCOUNTS, DEMO_PASSWORD, type DemoIdp, startDemoIdp } from "./demo-idp.ts";

const ROOT = join(import.meta.dirname, "..");
const HOST = "127.0.0.1";
const PORT = 3000;
/** The demo logs' origin prefix (LOG_ORIGIN_PREFIX): consultation <id>'s log is localhost/gopy/logs/<id>. */
const LOG_ORIGIN_PREFIX = "localhost/gopy/logs";
/** The demo witness's port (npm start runs one; it cosigns every checkpoint). */
const WITNESS_PORT = 3002;
const CHAIN_PORT = 8545;
/** The demo OpenID Provider's port: its issuer http://127.0.0.1:3001 is what web/vite.config.ts bakes by default. */
const IDP_PORT = 3001;
const log = (msg: string) => process.stderr.write(`[gopy] ${msg}\n`);

const DRAFT = {
  title: "Dự thảo Luật Bảo vệ dữ liệu cá nhân (sửa đổi)",
  summary:
    "Bộ Tư pháp lấy ý kiến nhân dân về dự thảo sửa đổi Luật Bảo vệ dữ liệu cá nhân: quyền của chủ thể dữ liệu, " +
    "nghĩa vụ của bên kiểm soát dữ liệu và xử lý vi phạm.",
  sections: [
    {
      id: "dieu-1",
      title: "Điều 1. Phạm vi điều chỉnh",
      text:
        "Luật này quy định về dữ liệu cá nhân, bảo vệ dữ liệu cá nhân, quyền và nghĩa vụ của cơ quan, tổ chức, cá nhân " +
        "có liên quan đến bảo vệ dữ liệu cá nhân.",
    },
    {
      id: "dieu-2",
      title: "Điều 2. Giải thích từ ngữ",
      text:
        "Dữ liệu cá nhân là thông tin dưới dạng ký hiệu, chữ viết, chữ số, hình ảnh, âm thanh hoặc dạng tương tự trên " +
        "môi trường điện tử gắn liền với một con người cụ thể hoặc giúp xác định một con người cụ thể.",
    },
    {
      id: "dieu-3",
      title: "Điều 3. Quyền của chủ thể dữ liệu",
      text:
        "Chủ thể dữ liệu có quyền được biết, quyền đồng ý, quyền truy cập, quyền rút lại sự đồng ý, quyền xóa dữ liệu " +
        "và quyền yêu cầu bồi thường thiệt hại theo quy định của pháp luật.",
    },
    {
      id: "dieu-4",
      title: "Điều 4. Nghĩa vụ của bên kiểm soát dữ liệu",
      text:
        "Bên kiểm soát dữ liệu phải áp dụng biện pháp kỹ thuật và tổ chức phù hợp, thông báo vi phạm trong thời hạn 72 " +
        "giờ kể từ khi phát hiện và lưu giữ nhật ký xử lý dữ liệu.",
    },
    {
      id: "dieu-5",
      title: "Điều 5. Xử lý vi phạm",
      text: "Tổ chức vi phạm quy định về mua, bán dữ liệu cá nhân có thể bị phạt tiền đến 5% doanh thu của năm trước liền kề.",
    },
    {
      id: "dieu-6",
      title: "Điều 6. Hiệu lực thi hành",
      text: "Luật này có hiệu lực thi hành từ ngày 01 tháng 01 năm 2027.",
    },
  ],
};

const OPINIONS: [string, "agree" | "disagree" | "neutral", string][] = [
  ["dieu-1", "agree", "Phạm vi điều chỉnh rõ ràng, nên áp dụng cả cho dữ liệu trên giấy."],
  ["dieu-2", "neutral", "Cần định nghĩa thêm thế nào là dữ liệu cá nhân nhạy cảm."],
  ["dieu-3", "agree", "Quyền xóa dữ liệu rất cần thiết, nhất là với các ứng dụng vay tiền."],
  ["dieu-3", "agree", "Đề nghị quy định thời hạn tối đa để bên kiểm soát trả lời yêu cầu truy cập."],
  ["dieu-4", "disagree", "Thời hạn 72 giờ là quá ngắn đối với doanh nghiệp nhỏ và hộ kinh doanh."],
  ["dieu-4", "agree", "Đồng ý với thời hạn 72 giờ như các nước khác."],
  ["dieu-5", "agree", "Mức phạt 5% doanh thu đủ sức răn đe."],
  ["dieu-5", "disagree", "Mức phạt quá cao, có thể làm doanh nghiệp khởi nghiệp phá sản."],
  ["dieu-6", "neutral", "Nên lùi thời điểm hiệu lực để doanh nghiệp có thời gian chuẩn bị."],
  ["dieu-1", "agree", ""],
  ["dieu-2", "agree", "Định nghĩa phù hợp với Nghị định 13/2023/NĐ-CP."],
  ["dieu-3", "neutral", "Cần hướng dẫn cụ thể cách người cao tuổi thực hiện quyền của mình."],
];

/** Newest modification time (ms) of a file or of the files below a folder; 0 when absent. */
function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const e of readdirSync(path, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) newest = Math.max(newest, statSync(join(e.parentPath, e.name)).mtimeMs);
  }
  return newest;
}

/**
 * Builds web/dist (vite build web, with this Node, GOPY_TRUST_ROOT=`trustRootFile`) when web/dist/index.html is
 * missing, older than the client's sources (web/src, web/index.html, web/vite.config.ts, and protocol/, which the
 * client bundles) or built for another trust root: a fresh clone serves a client that trusts the demo's chain at /
 * after `npm install && npm start`. Returns false when the build failed (the demo still runs).
 */
function ensureWebBuilt(trustRootFile: string): boolean {
  const index = join(ROOT, "web/dist/index.html");
  const published = join(ROOT, "web/dist/trust-root.json");
  const built = existsSync(index) ? statSync(index).mtimeMs : 0;
  const sources = Math.max(
    ...["web/src", "web/index.html", "web/vite.config.ts", "protocol"].map((p) => newestMtime(join(ROOT, p))),
  );
  const sameTrustRoot =
    existsSync(published) &&
    JSON.stringify(JSON.parse(readFileSync(published, "utf8"))) ===
      JSON.stringify(JSON.parse(readFileSync(trustRootFile, "utf8")));
  if (built > 0 && built >= sources && sameTrustRoot) return true;
  log(
    built === 0
      ? "building the web client with the demo's trust root (vite build web)…"
      : sameTrustRoot
        ? "web client sources changed: rebuilding…"
        : "the demo's trust root changed: rebuilding the web client…",
  );
  const r = spawnSync(process.execPath, [join(ROOT, "node_modules/vite/bin/vite.js"), "build", "web"], {
    cwd: ROOT,
    stdio: ["ignore", process.stderr, process.stderr],
    env: { ...process.env, GOPY_TRUST_ROOT: trustRootFile },
  });
  if (r.status !== 0) {
    log(`web client build failed (${r.error?.message ?? `exit ${r.status}`}); serving the API only`);
    return false;
  }
  return existsSync(index);
}

async function main(): Promise<void> {
  let node: DevNode | null = null;
  let app: FastifyInstance | null = null;
  let idp: DemoIdp | null = null;
  let witness: FastifyInstance | null = null;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log("stopping…");
    try {
      await app?.close();
    } catch {
      /* closing anyway */
    }
    await node?.stop();
    await idp?.close();
    await witness?.close().catch(() => undefined);
    log("stopped.");
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));

  try {
    if (!existsSync(join(ROOT, "artifacts/contracts/ConsultationRegistry.sol/ConsultationRegistry.json"))) {
      log("compiling contracts (hardhat compile)…");
      ensureCompiled(ROOT);
    }

    log(`starting a fresh local chain (hardhat node) on ${HOST}:${CHAIN_PORT}…`);
    try {
      const probe = await fetch(`http://${HOST}:${CHAIN_PORT}`, { method: "POST" }).catch(() => null);
      if (probe) throw new Error(`port ${CHAIN_PORT} is in use: stop the other chain (or demo) first`);
    } catch (e) {
      throw e instanceof Error ? e : new Error(String(e));
    }
    const dataDir = join(ROOT, "data");
    mkdirSync(dataDir, { recursive: true });
    node = await startHardhatNode({
      port: CHAIN_PORT,
      root: ROOT,
      logFile: join(dataDir, "hardhat-node.log"),
    });

    log("deploying ConsultationRegistry with its Ignition module…");
    const registry = await deployWithIgnition(node.url, ROOT);
    const agencies = {
      "bo-tu-phap": await makeAgency(node.url, registry, 1, 3),
      "bo-y-te": await makeAgency(node.url, registry, 2, 4),
    };
    log(`registry ${registry}; agencies bo-tu-phap, bo-y-te (AGENCY_ROLE + operator)`);

    // what the demo's web client trusts: this chain and this registry, read through this node
    // and the logs' checkpoint key: kept in data/ across starts, so the trust root (and the build) stay the same
    const seedFile = join(dataDir, "checkpoint-key-seed");
    if (!existsSync(seedFile))
      writeFileSync(seedFile, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600 });
    const checkpointSeed = readFileSync(seedFile, "utf8").trim();
    const checkpointKey = ed25519NoteKey("demo", Buffer.from(checkpointSeed, "hex")).publicKey;
    // the demo witness's key, kept in data/ too: the trust root requires its cosignature (quorum 1 of 1)
    const witnessSeedFile = join(dataDir, "witness-key-seed");
    if (!existsSync(witnessSeedFile))
      writeFileSync(witnessSeedFile, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600 });
    const witnessKeyPair = witnessKey(
      "witness.localhost",
      Buffer.from(readFileSync(witnessSeedFile, "utf8").trim(), "hex"),
    );
    const trustRootFile = join(dataDir, "trust-root.json");
    const trustRoot = {
      v: 1,
      chainId: 31337,
      registry: registry.toLowerCase(),
      rpcUrls: [node.url],
      log: { originPrefix: LOG_ORIGIN_PREFIX, publicKey: Buffer.from(checkpointKey).toString("base64") },
      witnesses: [witnessKeyPair.vkey],
      quorum: 1,
    };
    writeFileSync(trustRootFile, `${JSON.stringify(trustRoot, null, 2)}\n`);
    ensureWebBuilt(trustRootFile);

    // a new database with the new chain: the two never disagree
    const sqlite = join(dataDir, "demo.sqlite");
    for (const f of [sqlite, `${sqlite}-wal`, `${sqlite}-shm`]) rmSync(f, { force: true });

    // ---------- the demo identity provider (sign-in for the web client; tokens for scripts) ----------
    log(`starting the demo OpenID Provider on ${HOST}:${IDP_PORT}…`);
    idp = await startDemoIdp({
      port: IDP_PORT,
      webOrigins: [`http://${HOST}:${PORT}`],
      nodeEnv: "development",
    }).catch((e: Error & { code?: string }) => {
      throw e.code === "EADDRINUSE" ? new Error(`port ${IDP_PORT} is in use: stop the other demo first`) : e;
    });
    // ---------- a C2SP witness for the demo: it cosigns every consultation's checkpoints ----------
    for (const f of ["witness.sqlite", "witness.sqlite-wal", "witness.sqlite-shm"])
      rmSync(join(dataDir, f), { force: true });
    witness = await buildWitness({
      database: join(dataDir, "witness.sqlite"),
      key: witnessKeyPair,
      logs: [],
      families: [{ originPrefix: LOG_ORIGIN_PREFIX, publicKey: checkpointKey }],
    });
    const witnessUrl = await witness.listen({ host: HOST, port: WITNESS_PORT });
    log(`witness ${witnessKeyPair.name} on ${witnessUrl} (vkey ${witnessKeyPair.vkey})`);
    const identity = {
      OIDC_ISSUERS: JSON.stringify([
        { issuer: idp.issuer, audience: idp.audience, roles: ["citizen", "agency"] },
      ]),
      DEV_IDP_URL: idp.issuer,
      // the web client reads the provider's discovery document and exchanges its code at the token endpoint
      CSP_CONNECT_SRC: idp.issuer,
    };

    // /metrics is for operators: the demo makes a token and prints how to scrape with it
    const metricsToken = randomBytes(32).toString("hex");
    const config = loadConfig({
      NODE_ENV: "development",
      HOST,
      PORT: String(PORT),
      LOG_LEVEL: "info",
      SQLITE_PATH: sqlite,
      RPC_URL: node.url,
      // what browsers (the web client's verification) read the chain through; the same local node in the demo
      PUBLIC_RPC_URL: node.url,
      REGISTRY_ADDRESS: registry,
      CHAIN_ID: "31337",
      AGENCIES: JSON.stringify(agencies),
      PSEUDONYM_SECRET: randomBytes(32).toString("hex"),
      RECEIPT_KEY_SEED: randomBytes(32).toString("hex"),
      CHECKPOINT_KEY_SEED: checkpointSeed,
      LOG_ORIGIN_PREFIX,
      WITNESSES: JSON.stringify([{ url: witnessUrl, vkey: witnessKeyPair.vkey }]),
      ...identity,
      METRICS_TOKEN: metricsToken,
      ANCHOR_INTERVAL: "10s",
      MAX_ANCHOR_DELAY: "5m",
      WEB_DIST: join(ROOT, "web/dist"),
    });
    app = await buildApp(config, { logger: { level: "warn" } });
    await app.listen({ host: HOST, port: PORT });
    const base = `http://${HOST}:${PORT}`;
    // verifiers take receipt keys from the chain: the demo's key is there before the first receipt is signed
    const receiptKey = receiptKeyBytes32(app.gopy.receiptKey.publicJwk.x);
    if (!(await app.gopy.receiptKeys?.ensure(receiptKey)))
      throw new Error("the receipt key could not be registered");
    log(`receipt key ${receiptKey} registered on chain`);

    log("seeding a demo consultation…");
    const token = async (sub: string, role: string, agency?: string) => {
      const r = await fetch(`${base}/api/dev/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(agency ? { sub, role, agency } : { sub, role }),
      });
      return ((await r.json()) as { token: string }).token;
    };
    const officer = await token("can-bo-tu-phap-01", "agency", "bo-tu-phap");
    const now = Math.floor(Date.now() / 1000);
    const opened = await fetch(`${base}/api/consultations`, {
      method: "POST",
      headers: { authorization: `Bearer ${officer}`, "content-type": "application/json" },
      body: JSON.stringify({ ...DRAFT, opensAt: now, closesAt: now + 30 * 24 * 3600 }),
    });
    if (opened.status !== 201) throw new Error(`seeding failed: ${opened.status} ${await opened.text()}`);
    const { id } = (await opened.json()) as { id: number };
    for (let i = 0; i < OPINIONS.length; i++) {
      const [section, stance, text] = OPINIONS[i]!;
      const t = await token(`cong-dan-${String(i + 1).padStart(3, "0")}`, "citizen");
      const r = await fetch(`${base}/api/consultations/${id}/opinions`, {
        method: "POST",
        headers: { authorization: `Bearer ${t}`, "content-type": "application/json" },
        body: JSON.stringify({ section, stance, text }),
      });
      if (r.status !== 201) throw new Error(`seeding opinion failed: ${r.status} ${await r.text()}`);
    }

    const web = existsSync(join(ROOT, "web/dist/index.html"));
    process.stdout.write(
      [
        "",
        "Gopy demo is running (a fresh chain and database each run).",
        "",
        `  Web client     ${web ? `${base}/` : "(not built: see the build error above; `npm run build`)"}`,
        `  Trust root     ${web ? `${base}/trust-root.json` : "(none: the web client is not built)"}  (what the client verifies against)`,
        `  API docs       ${base}/docs`,
        `  Health         ${base}/api/health`,
        `  Metrics        curl -H 'authorization: Bearer ${metricsToken}' ${base}/metrics`,
        `  Consultation   ${base}/api/consultations/${id}  (${OPINIONS.length} opinions; anchored every 10 s)`,
        `  Chain (RPC)    ${node.url}  chain id 31337, registry ${registry}`,
        `  Sign-in (OIDC) ${idp.issuer}  demo OpenID Provider; password \`${DEMO_PASSWORD}\` for every account:`,
        ...DEMO_ACCOUNTS.map(
          (a) => `                 ${a.username.padEnd(11)} ${a.role}${a.agency ? ` (${a.agency})` : ""}`,
        ),
        "",
        "Get a token the demo provider signs, without a browser (development only):",
        `  curl -s -X POST ${base}/api/dev/token -H 'content-type: application/json' \\`,
        `       -d '{"sub":"cong-dan-999","role":"citizen"}'`,
        `  agency staff: -d '{"sub":"can-bo-01","role":"agency","agency":"bo-tu-phap"}'`,
        "Then give an opinion:",
        `  curl -s -X POST ${base}/api/consultations/${id}/opinions -H "authorization: Bearer $TOKEN" \\`,
        `       -H 'content-type: application/json' -d '{"section":"dieu-3","stance":"agree","text":"Tôi đồng ý"}'`,
        "",
        "Ctrl-C stops everything.",
        "",
      ].join("\n"),
    );
  } catch (e) {
    if (e instanceof ConfigError) log(`configuration error: ${e.message}`);
    else log(`start failed: ${e instanceof Error ? e.message : String(e)}`);
    await stop(1);
  }
}

void main();
