// Shared helpers for the web tests: Debian's Chromium through playwright-core, free ports (the devnet's),
// static files, screenshots.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Context } from "mocha";
import { type Browser, chromium, type Page } from "playwright-core";
import { build } from "vite";
import { skipOrFail } from "../support/requires.ts";

export { freePort } from "../../server/chain/devnet.ts";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const DIST = join(ROOT, "web", "dist");
export const SCREENSHOTS = join(ROOT, "screenshots");

export const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export function chromiumPath(): string {
  try {
    return execFileSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error("chromium is not installed: apt-get install -y chromium");
  }
}

/** In a before hook: skips the suite when Debian's Chromium is not installed (or fails, in CI). */
export function needChromium(ctx: Context): void {
  try {
    chromiumPath();
  } catch {
    skipOrFail(ctx, "Chromium", "apt-get install -y chromium");
  }
}

export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_FLAGS, headless: true });
}

/** `entry` (a path from the repository's root) bundled by Vite as one ES module for the browser: protocol/ with its
 * browser #sha256/#ed25519. */
export async function browserBundle(entry: string): Promise<string> {
  const name = entry.replace(/^.*\//, "").replace(/\.ts$/, "");
  const out = await build({
    configFile: false,
    logLevel: "warn",
    root: ROOT,
    build: {
      write: false,
      minify: false,
      lib: { entry: join(ROOT, entry), formats: ["es"], fileName: name },
    },
  });
  const outputs = Array.isArray(out) ? out : [out];
  const chunk = (outputs[0] as { output: { type: string; code?: string }[] }).output.find(
    (o) => o.type === "chunk",
  );
  return chunk!.code!;
}

/**
 * A page of `browser` with the browser build of the verification code (test/web/fixtures/harness.ts, bundled
 * by Vite: protocol/ with its browser #sha256/#ed25519) on `globalThis.gopy`.
 */
export async function openHarness(browser: Browser): Promise<Page> {
  const code = await browserBundle("test/web/fixtures/harness.ts");
  const page = await browser.newPage();
  await page.setContent("<!doctype html><title>harness</title>");
  await page.addScriptTag({ type: "module", content: code });
  await page.waitForFunction(() => "gopy" in globalThis);
  return page;
}

export function ensureDist(): void {
  if (!existsSync(join(DIST, "index.html"))) {
    execFileSync(process.execPath, [join(ROOT, "node_modules", "vite", "bin", "vite.js"), "build", "web"], {
      cwd: ROOT,
      stdio: "inherit",
    });
  }
}

/** What a trust root file holds (web/src/trust-root.ts parses it). */
export interface TrustRootFile {
  v: 1;
  chainId: number;
  registry: string;
  rpcUrls: string[];
  /** The logs' origin prefix and checkpoint key (standard base64). */
  log?: { originPrefix: string; publicKey: string };
}

/**
 * Builds the client as `npm run build` does, with GOPY_TRUST_ROOT naming a file holding `trustRoot` (null: unset),
 * into a new temporary folder (returned): each test stack gets a client that trusts its own chain.
 */
export function buildClient(trustRoot: TrustRootFile | null, oidcIssuer?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "gopy-web-dist-"));
  const file = join(dir, "trust-root.input.json");
  if (trustRoot) writeFileSync(file, JSON.stringify(trustRoot));
  const env: NodeJS.ProcessEnv = { ...process.env, GOPY_TRUST_ROOT: trustRoot ? file : "" };
  if (oidcIssuer) env.GOPY_OIDC = JSON.stringify({ issuer: oidcIssuer, clientId: "gopy-web" });
  const outDir = join(dir, "dist");
  execFileSync(
    process.execPath,
    [
      join(ROOT, "node_modules", "vite", "bin", "vite.js"),
      "build",
      "web",
      "--outDir",
      outDir,
      "--logLevel",
      "warn",
    ],
    { cwd: ROOT, stdio: ["ignore", "ignore", "ignore"], env },
  );
  return outDir;
}

export function screenshotDir(): string {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return SCREENSHOTS;
}

export const PHONE = { width: 390, height: 844 };
export const DESKTOP = { width: 1280, height: 800 };

/**
 * Screenshots of `page` at phone and desktop sizes, as <dir>/<name>-phone.png and -desktop.png (dir: screenshots/
 * by default); back to phone. Returns the paths.
 */
export async function shoot(page: Page, name: string, dir = screenshotDir()): Promise<string[]> {
  const paths: string[] = [];
  for (const [size, vp] of [
    ["phone", PHONE],
    ["desktop", DESKTOP],
  ] as const) {
    await page.setViewportSize(vp);
    const path = join(dir, `${name}-${size}.png`);
    await page.screenshot({ path, fullPage: true });
    paths.push(path);
  }
  await page.setViewportSize(PHONE);
  return paths;
}

/**
 * axe-core's WCAG 2.1 A and AA violations on `page` as it is (rule id and the first offending nodes). axe is
 * evaluated through the DevTools protocol, so the page's Content-Security-Policy stays as served.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => "axe" in globalThis))) {
    await page.evaluate(readFileSync(join(ROOT, "node_modules", "axe-core", "axe.min.js"), "utf8"));
  }
  return page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: {
          run: (...a: unknown[]) => Promise<{ violations: { id: string; nodes: { target: unknown }[] }[] }>;
        };
      }
    ).axe;
    const r = await axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    });
    return r.violations.map(
      (v) =>
        `${v.id}: ${v.nodes
          .slice(0, 3)
          .map((n) => JSON.stringify(n.target))
          .join(", ")}`,
    );
  });
}

/** Form controls without an accessible name (a <label>, aria-label or aria-labelledby). */
export function unlabelled(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLInputElement>("input, textarea, select")]
      .filter(
        (el) =>
          el.type !== "hidden" &&
          el.labels?.length === 0 &&
          !el.getAttribute("aria-label") &&
          !el.getAttribute("aria-labelledby"),
      )
      .map((el) => el.outerHTML),
  );
}
