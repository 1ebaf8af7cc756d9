import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
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

export default defineConfig({
  base: "./",
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
