import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { defineConfig, type Plugin } from "vite";

// Writes verify/index.html next to index.html so that /verify/ (and /verify/#r=...) opens the verifier on
// any static host, even one without a fallback to index.html (asset paths rewritten one level up).
function verifyEntry(): Plugin {
  let outDir = "";
  return {
    name: "gopy-verify-entry",
    apply: "build",
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    writeBundle() {
      const html = readFileSync(join(outDir, "index.html"), "utf8");
      mkdirSync(join(outDir, "verify"), { recursive: true });
      writeFileSync(join(outDir, "verify", "index.html"), html.replaceAll('="./', '="../'));
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

export default defineConfig({
  base: "./",
  define: { __GOPY_OIDC__: JSON.stringify(oidcClientConfig()) },
  plugins: [verifyEntry()],
  worker: { format: "es" },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
});
