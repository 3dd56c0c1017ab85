// tune-choice.mjs — which int8 kernel set the relaxed build settles on (web/engine.js tune()), in fresh
// processes, on a quiet machine and with every core kept busy by other work: the choice must not depend on the
// load. Each child loads intent-clinc in a fresh engine, runs 128-token texts until tune() has chosen, then
// times 20 more runs (median). Then the same in headless Chromium: each cold start a fresh browser context
// (its own page, engine and compiled module) loading the library over HTTP from 127.0.0.1. `make bench-tune`.
//
//   npx -y -p node@24.21.0 node bench/tune-choice.mjs [--runs 12] [--busy-workers 2] [--engines node,chromium]
import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";

const root = fileURLToPath(new URL("..", import.meta.url));
const argv = process.argv.slice(2);
const opt = (name, dflt) => { const i = argv.indexOf(name); return i < 0 ? dflt : Number(argv[i + 1]); };

// One cold start's measurement, in a Node child and (passed as source) in a page: 128-token runs until the engine
// has chosen, then the median of 20 more.
function settle(engine, model) {
  const ids = Array.from({ length: 128 }, (_, i) => (i * 37) % 5000 + 100);
  let runs = 0;
  for (; !engine.tuned && runs < 300; runs++) model.logits(ids);
  const t = [];
  for (let i = 0; i < 20; i++) { const t0 = performance.now(); model.logits(ids); t.push(performance.now() - t0); }
  t.sort((a, b) => a - b);
  return { kernels: engine.kernels === 4 ? "dot32" : "dot16", runs, median: t[10] };
}

if (argv[0] === "--child") {
  const { init, load } = await import("../web/edgetag.js");
  const wasmModule = new WebAssembly.Module(readFileSync(root + "build/edgetag-relaxed.wasm"));
  const engine = await init({ simd: "relaxed", wasmModule });
  const model = await load(readFileSync(root + "models/intent-clinc.gguf"), { simd: "relaxed", wasmModule });
  console.log(JSON.stringify(settle(engine, model)));
  process.exit(0);
}

const runs = opt("--runs", 12), busy = opt("--busy-workers", availableParallelism());
const child = () => {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--child"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1));
};
const summary = (label, rows) => {
  const n32 = rows.filter((r) => r.kernels === "dot32").length;
  const med = (k) => { const m = rows.filter((r) => r.kernels === k).map((r) => r.median).sort((a, b) => a - b); return m.length ? m[m.length >> 1].toFixed(1) : "—"; };
  console.log(`${label.padEnd(34)} dot32 ${n32}/${rows.length}, dot16 ${rows.length - n32}/${rows.length}; median run after the choice: dot32 ${med("dot32")} ms, dot16 ${med("dot16")} ms; rounds to settle ${Math.min(...rows.map((r) => r.runs))}–${Math.max(...rows.map((r) => r.runs))}`);
};
const engines = (argv.includes("--engines") ? argv[argv.indexOf("--engines") + 1] : "node,chromium").split(",");
const busyThreads = () => Array.from({ length: busy }, () => new Worker("for (;;) {}", { eval: true }));

if (engines.includes("node")) {
  console.log(`Node ${process.version}, ${availableParallelism()} cores, ${runs} fresh processes per case`);
  summary("quiet", Array.from({ length: runs }, child));
  const hogs = busyThreads();
  try {
    summary(`${busy} busy threads beside it`, Array.from({ length: runs }, child));
  } finally {
    await Promise.all(hogs.map((w) => w.terminate()));
  }
}

// The page's part: the library imported from /web/, then settle().
async function pageRun(settle) {
  const { init, load } = await import("/web/edgetag.js");
  const wasmModule = await WebAssembly.compileStreaming(fetch("/build/edgetag-relaxed.wasm"));
  const engine = await init({ simd: "relaxed", wasmModule });
  const model = await load(new Uint8Array(await (await fetch("/models/intent-clinc.gguf")).arrayBuffer()), { simd: "relaxed", wasmModule });
  return settle(engine, model);
}

if (engines.includes("chromium")) {
  const TYPES = { ".js": "text/javascript", ".wasm": "application/wasm", ".html": "text/html", ".gguf": "application/octet-stream" };
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    if (path === "/") return res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>tune</title>");
    const file = root + path.slice(1);
    if (!/^\/(web|build|models)\/[\w./-]+$/.test(path) || path.includes("..") || !existsSync(file)) return res.writeHead(404).end();
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(readFileSync(file));
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
  const cold = async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${server.address().port}/`);
      return await page.evaluate(`(${pageRun})(${settle})`);
    } finally {
      await context.close();
    }
  };
  try {
    console.log(`Chromium ${browser.version()}, ${runs} fresh browser contexts per case`);
    const quiet = [];
    for (let i = 0; i < runs; i++) quiet.push(await cold());
    summary("quiet", quiet);
    const hogs = busyThreads();
    try {
      const loaded = [];
      for (let i = 0; i < runs; i++) loaded.push(await cold());
      summary(`${busy} busy threads beside it`, loaded);
    } finally {
      await Promise.all(hogs.map((w) => w.terminate()));
    }
  } finally {
    await browser.close();
    server.close();
  }
}
