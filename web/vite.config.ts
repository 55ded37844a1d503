/// <reference types="vitest/config" />
// Builds into ../collector/web_dist, which the collector serves at `/` (and ships in its wheel).
// `npm run dev` / `npm run preview` proxy /api and /healthz to a collector: SODAV_COLLECTOR_URL,
// default http://127.0.0.1:8000. SODAV_CONTRACT_STUB=1 answers the endpoints of API-CONTRACT.md
// that the collector does not have yet (scripts/contract-stub.ts), for development only.
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig, type PluginOption } from "vite";
import { contractStub } from "./scripts/contract-stub";

const collector = process.env.SODAV_COLLECTOR_URL ?? "http://127.0.0.1:8000";
const proxy = {
  "/api": { target: collector, changeOrigin: true },
  "/healthz": { target: collector, changeOrigin: true },
};
const plugins: PluginOption[] = [react()];
if (process.env.SODAV_CONTRACT_STUB === "1") plugins.push(contractStub(collector));

export default defineConfig({
  plugins,
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
