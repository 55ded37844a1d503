/// <reference types="vitest/config" />
// Builds into ../collector/web_dist, which the collector serves at `/` (and ships in its wheel),
// with, under api-docs/, the Swagger UI and ReDoc scripts its /docs and /redoc load (no CDN).
// `npm run dev` / `npm run preview` proxy /api and /healthz to a collector: SODAV_COLLECTOR_URL,
// default http://127.0.0.1:8000.
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

const collector = process.env.SODAV_COLLECTOR_URL ?? "http://127.0.0.1:8000";
const proxy = {
  "/api": { target: collector, changeOrigin: true },
  "/healthz": { target: collector, changeOrigin: true },
};

// The files collector/webapp.py names, from the pinned devDependencies.
const API_DOCS_ASSETS = [
  "swagger-ui-dist/swagger-ui-bundle.js",
  "swagger-ui-dist/swagger-ui.css",
  "swagger-ui-dist/favicon-32x32.png",
  "redoc/bundles/redoc.standalone.js",
];

function apiDocsAssets(): Plugin {
  const modules = fileURLToPath(new URL("./node_modules/", import.meta.url));
  return {
    name: "sodav-api-docs-assets",
    apply: "build",
    writeBundle(options) {
      const out = join(options.dir ?? "dist", "api-docs");
      mkdirSync(out, { recursive: true });
      for (const file of API_DOCS_ASSETS) copyFileSync(join(modules, file), join(out, file.split("/").pop() ?? file));
    },
  };
}

export default defineConfig({
  plugins: [react(), apiDocsAssets()],
  build: {
    outDir: fileURLToPath(new URL("../collector/web_dist", import.meta.url)),
    emptyOutDir: true,
    manifest: true,
    target: "es2022",
    // one entry chunk (app shell, React, Chakra); pages are lazy chunks. The real budget is
    // scripts/size.mjs's: 300 KB gzip of first-load JavaScript.
    chunkSizeWarningLimit: 800,
  },
  server: { proxy },
  preview: { proxy },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts", "scripts/**/*.test.ts"],
  },
});
