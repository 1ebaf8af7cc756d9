import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { defineConfig, type Plugin } from "vite";
import { parseTrustRoot, type TrustRoot, TrustRootError } from "./src/trust-root.ts";

/**
 * The trust root this build verifies against, from the file named by GOPY_TRUST_ROOT. Without one the
 * bundle says so on every page that touches the chain and verifies nothing until a trust root is imported
 * in Settings: it never falls back to what the service advertises.
 */
function buildTrustRoot(): TrustRoot | null {
  const path = process.env.GOPY_TRUST_ROOT?.trim();
  if (!path) {
    process.stderr.write(
      "[gopy] GOPY_TRUST_ROOT is not set: this build has no trust root and verifies nothing until one is imported in Settings\n",
    );
    return null;
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`GOPY_TRUST_ROOT=${path}: cannot read the trust root file (${(e as Error).message})`);
  }
  try {
    return parseTrustRoot(text);
  } catch (e) {
    if (e instanceof TrustRootError) throw new Error(`GOPY_TRUST_ROOT=${path}: ${e.message}`);
    throw e;
  }
}

/**
 * Writes, beside index.html, verify/index.html (so that /verify/ and /verify/#r=... open the verifier on any
 * static host, even one without a fallback to index.html; asset paths rewritten one level up) and
 * trust-root.json, the trust root baked into this build, so anyone can see what this copy of the client trusts.
 */
function beside(root: TrustRoot | null): Plugin {
  let outDir = "";
  return {
    name: "gopy-beside-index",
    apply: "build",
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    writeBundle() {
      const html = readFileSync(join(outDir, "index.html"), "utf8");
      mkdirSync(join(outDir, "verify"), { recursive: true });
      writeFileSync(join(outDir, "verify", "index.html"), html.replaceAll('="./', '="../'));
      if (root) writeFileSync(join(outDir, "trust-root.json"), `${JSON.stringify(root, null, 2)}\n`);
    },
  };
}

// ---------- sign-in: the identity provider this build trusts (beside the trust root) ----------
// GOPY_OIDC: JSON `{"issuer", "clientId", "scope"?, "idTokenAlg"?}` or the path of a file holding it. Baked into the
// bundle, so the service cannot point the client at another provider. Default: the demo's (`npm start`).
function oidcClientConfig(): { issuer: string; clientId: string; scope: string; idTokenAlg: string } {
  const raw = process.env.GOPY_OIDC?.trim();
  const text = !raw
    ? "{}"
    : raw.startsWith("{")
      ? raw
      : readFileSync(existsSync(raw) ? raw : resolve(raw), "utf8");
  const given = JSON.parse(text) as Record<string, unknown>;
  const config = {
    issuer: String(given.issuer ?? "http://127.0.0.1:3001"),
    clientId: String(given.clientId ?? "gopy-web"),
    scope: String(given.scope ?? "profile"),
    idTokenAlg: String(given.idTokenAlg ?? "EdDSA"),
  };
  if (!/^https?:\/\/[^/]/.test(config.issuer))
    throw new Error(`GOPY_OIDC: issuer ${config.issuer} is not a URL`);
  return config;
}

export default defineConfig(() => {
  const trustRoot = buildTrustRoot();
  return {
    base: "./",
    plugins: [beside(trustRoot)],
    define: {
      __GOPY_TRUST_ROOT__: JSON.stringify(trustRoot),
      __GOPY_OIDC__: JSON.stringify(oidcClientConfig()),
    },
    worker: { format: "es" as const },
    build: {
      outDir: "dist",
      emptyOutDir: true,
      target: "es2022",
      sourcemap: false,
      // .vite/manifest.json: which chunks each entry loads (the bundle test keeps the staff console out of the
      // citizen pages' budget by it)
      manifest: true,
      chunkSizeWarningLimit: 600,
    },
  };
});
