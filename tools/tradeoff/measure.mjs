// measure.mjs — footprint and speed of every variant of the shipped models, for the trade-off table
// (`make tradeoff`; tools/tradeoff/report.py renders it with the task metrics of `make eval`).
//
//   node tools/tradeoff/measure.mjs [--out build/variants/measure.json] [--engines node,chromium] [--runs 30]
//
// Variants of each task: f32 (models/<task>-f32.gguf), int8 (models/<task>.gguf) and every
// build/variants/<task>-<variant>.gguf (`make variants`). For each, in each wasm build (baseline SIMD128 and relaxed
// SIMD) and each engine (this Node, and headless Chromium through playwright-core):
//   - the file size;
//   - wasm memory at 128 tokens: the engine's memory after loading the model and running one text of 128 tokens
//     (a fresh engine per measurement: a child process in Node, a fresh page in Chromium);
//   - latency at 128 tokens: logits of one 128-token text, median of --runs runs after 15 warm-up runs (and, in the
//     relaxed build, after it has chosen its int8 kernel set).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, extname, join, normalize, resolve } from "node:path";

const ROOT = new URL("../..", import.meta.url).pathname;
const TASKS = ["intent-clinc", "maint-ner", "pii-ner"];
const BUILDS = { baseline: "build/edgetag.wasm", relaxed: "build/edgetag-relaxed.wasm" };
const TOKENS = 128;

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
};

/** The variants present: [{task, variant, file}]. */
export function variants() {
  const out = [];
  for (const task of TASKS) {
    const add = (variant, file) => existsSync(join(ROOT, file)) && out.push({ task, variant, file });
    add("f32", `models/${task}-f32.gguf`);
    add("int8", `models/${task}.gguf`);
    const dir = join(ROOT, "build/variants");
    if (existsSync(dir))
      for (const f of readdirSync(dir).sort())
        if (f.startsWith(`${task}-`) && f.endsWith(".gguf")) add(f.slice(task.length + 1, -5), `build/variants/${f}`);
  }
  return out;
}

/** One text of `n` ids: [CLS] (2 in the shipped vocabularies' numbering is read from the model), then ids
 * spread over the vocabulary, then [SEP]. Passed as ids, so every variant runs exactly the same input. */
function ids(info, n) {
  const a = new Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) a[i] = 5 + ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) % (info.nVocab - 5));
  a[0] = info.clsId, a[n - 1] = info.sepId;
  return a;
}

// The measurement itself, the same code in Node and in the page (passed as source to the page).
async function measureOne({ edgetag, bytes, simd, wasmModule, wasmUrl, runs, tokens, now }) {
  const model = await edgetag.load(bytes, { simd, wasmModule, wasmUrl, cache: "none" });
  const info = model.info;
  const input = [ids(info, tokens)];
  for (let i = 0; i < 15; i++) model.logits(input); // warm-up: every export tiers up (no OSR in V8)
  // The relaxed build times its two int8 kernel sets over its first runs (web/engine.js tune()): measure the set it
  // keeps, not the timing.
  for (let i = 0; !model.engine.tuned && i < 300; i++) model.logits(input);
  const times = [];
  for (let r = 0; r < runs; r++) {
    const t0 = now();
    model.logits(input);
    times.push(now() - t0);
  }
  times.sort((x, y) => x - y);
  const memory = model.wasmMemoryBytes;
  model.dispose();
  return { ms: times[times.length >> 1], msMin: times[0], memory, q4: info.q4Matrices, int8: info.int8Matrices };
}

// ---- Node: one child process per measurement -------------------------------------------------------------

async function child() {
  const [file, simd, runs] = [arg("--file"), arg("--simd"), Number(arg("--runs"))];
  const edgetag = await import(join(ROOT, "web/edgetag.js"));
  const wasmModule = new WebAssembly.Module(readFileSync(join(ROOT, BUILDS[simd])));
  const r = await measureOne({ edgetag, bytes: readFileSync(join(ROOT, file)), simd, wasmModule, runs, tokens: TOKENS,
    now: () => performance.now() });
  process.stdout.write(JSON.stringify(r));
}

function nodeMeasure(v, simd, runs) {
  const r = spawnSync(process.execPath, [new URL(import.meta.url).pathname, "--child", "--file", v.file, "--simd", simd,
    "--runs", String(runs)], { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`node ${v.file} ${simd}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// ---- Chromium: one fresh page per measurement, the repository served over HTTP ------------------------------

const TYPES = { ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".html": "text/html",
  ".gguf": "application/octet-stream" };

function serve() {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^\/+/, "");
    if (path === "") return res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>tradeoff</title>");
    const file = join(ROOT, path);
    if (!file.startsWith(ROOT) || !existsSync(file) || !statSync(file).isFile()) return res.writeHead(404).end();
    res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" }).end(readFileSync(file));
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok(server)));
}

async function chromiumMeasureAll(list, runs) {
  const { chromium } = await import("playwright-core");
  const server = await serve();
  const base = `http://127.0.0.1:${server.address().port}/`;
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"] });
  const out = [];
  try {
    out.push(browser.version());
    for (const { v, simd } of list) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(base);
      const r = await page.evaluate(async ({ file, simd, wasmUrl, runs, tokens, src, idsSrc }) => {
        const edgetag = await import("/web/edgetag.js");
        const bytes = new Uint8Array(await (await fetch("/" + file)).arrayBuffer());
        // eslint-disable-next-line no-new-func
        const ids = new Function(`return (${idsSrc})`)();
        const measure = new Function("ids", `return (${src})`)(ids);
        return measure({ edgetag, bytes, simd, wasmUrl, runs, tokens, now: () => performance.now() });
      }, { file: v.file, simd, wasmUrl: "/" + BUILDS[simd], runs, tokens: TOKENS, src: measureOne.toString(), idsSrc: ids.toString() });
      out.push({ ...r, task: v.task, variant: v.variant, simd });
      await context.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
  return out;
}

async function main() {
  const out = arg("--out", "build/variants/measure.json");
  const engines = arg("--engines", "node,chromium").split(",");
  const runs = Number(arg("--runs", "30"));
  const list = variants();
  const rows = {};
  const key = (v) => `${v.task}/${v.variant}`;
  for (const v of list) rows[key(v)] = { task: v.task, variant: v.variant, file: v.file, bytes: statSync(join(ROOT, v.file)).size };
  if (engines.includes("node"))
    for (const v of list)
      for (const simd of Object.keys(BUILDS)) {
        const r = nodeMeasure(v, simd, runs);
        Object.assign(rows[key(v)], { [`node_${simd}_ms`]: r.ms, [`node_${simd}_memory`]: r.memory });
        process.stderr.write(`node ${process.version} ${simd} ${key(v)}: ${r.ms.toFixed(2)} ms, ${(r.memory / 2 ** 20).toFixed(1)} MiB\n`);
      }
  let chromiumVersion = null;
  if (engines.includes("chromium")) {
    const [version, ...res] = await chromiumMeasureAll(list.flatMap((v) => Object.keys(BUILDS).map((simd) => ({ v, simd }))), runs);
    chromiumVersion = version;
    for (const r of res) {
      Object.assign(rows[`${r.task}/${r.variant}`], { [`chromium_${r.simd}_ms`]: r.ms, [`chromium_${r.simd}_memory`]: r.memory });
      process.stderr.write(`chromium ${version} ${r.simd} ${r.task}/${r.variant}: ${r.ms.toFixed(2)} ms, ${(r.memory / 2 ** 20).toFixed(1)} MiB\n`);
    }
  }
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  mkdirSync(dirname(resolve(ROOT, out)), { recursive: true });
  writeFileSync(resolve(ROOT, out), JSON.stringify({ node: process.version, chromium: chromiumVersion, tokens: TOKENS, runs,
    when: new Date().toISOString(), load, rows: Object.values(rows) }, null, 1));
  process.stderr.write(`wrote ${out}\n`);
}

if (process.argv.includes("--child")) await child();
else await main();
