#!/usr/bin/env node
// First-load JavaScript of the built app: the entry chunk and every chunk it imports
// statically (what the browser must fetch before the first page shows), gzip-compressed the
// way a server sends it. Pages loaded later (dynamic imports) are listed apart.
// Usage: npm run build && npm run size   (exits 1 over the budget, 300 KB by default)
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const dist = process.argv[2] ?? new URL("../../collector/web_dist", import.meta.url).pathname;
const budgetKb = Number(process.env.SODAV_FIRST_LOAD_BUDGET_KB ?? 300);
const manifest = JSON.parse(readFileSync(join(dist, ".vite", "manifest.json"), "utf8"));

const gz = (file) => gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
const kb = (bytes) => (bytes / 1024).toFixed(1).padStart(7);

function closure(keys) {
  const seen = new Set();
  const walk = (key) => {
    if (seen.has(key)) return;
    seen.add(key);
    for (const dep of manifest[key].imports ?? []) walk(dep);
  };
  keys.forEach(walk);
  return seen;
}

const entries = Object.keys(manifest).filter((k) => manifest[k].isEntry);
const initial = closure(entries);
let total = 0;
console.log("first load (gzip):");
for (const key of initial) {
  const chunk = manifest[key];
  const size = gz(chunk.file);
  total += size;
  console.log(`  ${kb(size)} KB  ${chunk.file}`);
}
console.log(`  ${kb(total)} KB  total JavaScript (budget ${budgetKb} KB)`);
const css = [...initial].flatMap((k) => manifest[k].css ?? []);
if (css.length) console.log(`  ${kb(css.reduce((s, f) => s + gz(f), 0))} KB  CSS`);

console.log("loaded later, per page (gzip, chunks not already loaded):");
const dynamic = new Set(Object.values(manifest).flatMap((c) => c.dynamicImports ?? []));
for (const key of [...dynamic].sort()) {
  const extra = [...closure([key])].filter((k) => !initial.has(k));
  const size = extra.reduce((s, k) => s + gz(manifest[k].file), 0);
  console.log(`  ${kb(size)} KB  ${key}`);
}
if (total > budgetKb * 1024) {
  console.error(`first load is ${(total / 1024).toFixed(1)} KB, over the ${budgetKb} KB budget`);
  process.exit(1);
}
