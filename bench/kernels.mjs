// kernels.mjs — GOP/s of each GEMM kernel alone, on the shapes of a MiniLM-L6-H384 layer at 128 tokens
// (and the FFN's second GEMM over a 768-token ragged batch), per wasm flavour, in this Node, in headless
// Chromium and in WebKitGTK (MiniBrowser under Xvfb over WebDriver, bench/webkit.mjs; JavaScriptCore validates
// only the baseline build) — the bench/kernels.c harness, built by `make bench`. Prints the tables and writes
// them into bench/RESULTS.md. An engine that cannot start here is skipped with the reason.
//
//   node --no-liftoff bench/kernels.mjs [--engines node,chromium,webkit] [--shapes qkvo,ffn_up,…] [--no-write]
//   (Node 20: also --experimental-wasm-relaxed-simd; --shapes: a subset of the shapes by name, for a short check)
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { writeResultsBlock } from "./results.mjs";
import { openWebKit, webkitUnavailable } from "./webkit.mjs";

const root = new URL("..", import.meta.url).pathname;
const ALL_SHAPES = [["qkvo", 128, 384, 384], ["ffn_up", 128, 1536, 384], ["ffn_down", 128, 384, 1536],
  ["ffn_down, 768 rows", 768, 384, 1536]];
const arg = (name) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : null);
const SHAPES = arg("--shapes") ? ALL_SHAPES.filter(([name]) => arg("--shapes").split(",").includes(name.split(",")[0])) : ALL_SHAPES;
// [name, kind of bench/kernels.c's bk_run]: the kernels the engine uses are the packed ones (weights
// repacked at load); the row-major ones run models whose buffer the engine may not rewrite.
const KINDS = [["f32 row-major 2×4", 0], ["f32 packed 4×8", 7], ["int8 i16 row-major 2×4", 1], ["int8 i16 packed 4×4", 8],
  ["int8 dot16 row-major 2×4", 2], ["int8 dot16 packed 4×8", 9], ["int8 dot32 row-major 2×4", 3],
  ["int8 dot32 packed 4×8", 10], ["q4 i16 packed 2×4", 11], ["q4 dot16 packed 4×4", 12], ["q4 dot32 packed 4×4", 13]];
// The 4-bit kernels against the int8 ones they reuse the dots of (same build, same activations): the ratio of
// GOP/s (> 1: the 4-bit kernel is faster), median and best.
const PAIRS = [["q4 i16 packed 2×4", "int8 i16 packed 4×4"], ["q4 dot16 packed 4×4", "int8 dot16 packed 4×8"],
  ["q4 dot32 packed 4×4", "int8 dot32 packed 4×8"]];

// Multiply-adds per sample: ~0.2 G (WebKitGTK, whose clock moves in 1 ms steps: 1 G).
const SAMPLE_MACS = { node: 2e8, chromium: 2e8, webkit: 1e9 };

// Times every kernel of one build's harness exports `x` (initialized) on every shape; `now` is the engine's clock.
// Runs as it is in Node and, passed as source, in a browser page.
function timeKernels(x, flavour, shapes, kinds, now, sampleMacs) {
  const out = [];
  for (const [name, m, n, k] of shapes) {
    const b = x.bk_setup(m, n, k);
    if (!b) throw new Error("setup failed");
    for (const [kname, kind] of kinds) {
      if (!x.bk_run(b, kind, 1)) continue;
      const iters = Math.max(1, Math.round(sampleMacs / (m * n * k)));
      x.bk_run(b, kind, iters); // tier up
      const times = [];
      for (let r = 0; r < 9; r++) {
        const t0 = now();
        x.bk_run(b, kind, iters);
        times.push((now() - t0) / iters);
      }
      times.sort((p, q) => p - q);
      const ms = times[4];
      out.push({ flavour, shape: `${name} ${m}×${n}×${k}`, kernel: kname, ms, gops: (2 * m * n * k) / ms / 1e6,
        best: (2 * m * n * k) / times[0] / 1e6 });
    }
    x.bk_free(b);
  }
  return out;
}

// In a browser page (Chromium: page.evaluate; WebKitGTK: bench/webkit.mjs): every build the engine validates, one
// shape at a time with a turn of the event loop between (a WebDriver-driven page answers the driver's polls then).
async function pageKernels({ src, shapes, kinds, sampleMacs }) {
  const time = new Function(`return (${src})`)();
  const rows = [], unsupported = [];
  for (const flavour of ["simd", "relaxed"]) {
    const bytes = await (await fetch(`/bench-kernels-${flavour}.wasm`)).arrayBuffer();
    if (!WebAssembly.validate(bytes)) {
      unsupported.push(flavour);
      continue;
    }
    const { instance } = await WebAssembly.instantiate(bytes, {});
    instance.exports._initialize();
    for (const shape of shapes) {
      rows.push(...time(instance.exports, flavour, [shape], kinds, () => performance.now(), sampleMacs));
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
  return { rows, unsupported };
}

/** The harness builds from build/ and a blank page at /, on 127.0.0.1. */
async function kernelServer() {
  const server = createServer((req, res) => {
    const f = `${root}build/${new URL(req.url, "http://x").pathname.replace(/^\/+/, "")}`;
    if (f === `${root}build/`) return res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>kernels</title>");
    if (!/^[\w.-]+$/.test(f.slice(root.length + 6)) || !existsSync(f)) return res.writeHead(404).end();
    res.writeHead(200, { "content-type": f.endsWith(".wasm") ? "application/wasm" : "text/html" }).end(readFileSync(f));
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  return server;
}

const pageArgs = (engine) => ({ src: timeKernels.toString(), shapes: SHAPES, kinds: KINDS, sampleMacs: SAMPLE_MACS[engine] });

async function chromiumRows() {
  const { chromium } = await import("playwright-core");
  const server = await kernelServer();
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--js-flags=--no-liftoff"] });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    const { rows, unsupported } = await page.evaluate(pageKernels, pageArgs("chromium"));
    return { rows, unsupported, version: browser.version() };
  } finally {
    await browser.close();
    server.close();
  }
}

async function webkitRows() {
  const server = await kernelServer();
  try {
    const page = await openWebKit(`http://127.0.0.1:${server.address().port}/`, "document.readyState === 'complete'");
    try {
      await page.session.execute("window.pageKernels = new Function(`return (${arguments[0]})`)(); return true;", pageKernels.toString());
      const { rows, unsupported } = await page.call("pageKernels", pageArgs("webkit"));
      return { rows, unsupported, version: page.version };
    } finally {
      await page.close();
    }
  } finally {
    server.close();
  }
}

const engines = (arg("--engines") ?? "node,chromium,webkit").split(",");
const runs = []; // [{engine, rows}]
if (engines.includes("node")) {
  const rows = [];
  for (const flavour of ["simd", "relaxed"]) {
    let mod;
    try {
      mod = new WebAssembly.Module(readFileSync(`${root}build/bench-kernels-${flavour}.wasm`));
    } catch (e) {
      console.error(`skipping the ${flavour} build: ${e.message}`);
      continue;
    }
    const x = new WebAssembly.Instance(mod, {}).exports;
    x._initialize();
    rows.push(...timeKernels(x, flavour, SHAPES, KINDS, () => performance.now(), SAMPLE_MACS.node));
  }
  runs.push({ engine: `Node ${process.version}`, rows });
}
if (engines.includes("chromium")) {
  const { rows, unsupported, version } = await chromiumRows();
  runs.push({ engine: `Chromium ${version}`, rows, unsupported });
}
if (engines.includes("webkit")) {
  const missing = webkitUnavailable();
  if (missing) console.error(`kernels: WebKitGTK skipped — ${missing}`);
  else {
    try {
      const { rows, unsupported, version } = await webkitRows();
      runs.push({ engine: `WebKitGTK ${version}`, rows, unsupported });
    } catch (e) {
      console.error(`kernels: WebKitGTK skipped — it did not start or its page failed: ${e.message}`);
    }
  }
}
const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const L = [`## GEMM kernels alone — ${runs.map((r) => r.engine).join(", ")} (bench/kernels.mjs)`, "",
  `Run ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC, load average ${load}. Each sample is about 0.2 G ` +
  `multiply-adds of one kernel (after one warm-up sample; 1 G in WebKitGTK, whose performance.now() moves in 1 ms steps); ` +
  `median and best of 9 samples. GOP/s = 2 × m·n·k / time. The ` +
  `engine runs the packed kernels (weights repacked at load); "simd" is the baseline build, "relaxed" the relaxed-SIMD one. ` +
  `Chromium runs with --js-flags=--no-liftoff, as Node does; WebKitGTK (JavaScriptCore) with its defaults, tiering up during ` +
  `the warm-up sample.`];
for (const { engine, rows, unsupported } of runs) {
  L.push("", `### ${engine}`, "");
  if (unsupported?.length) L.push(`Not supported by this engine: the ${unsupported.join(", ")} build (\`WebAssembly.validate\` is false: no relaxed SIMD).`, "");
  L.push("| build | shape (m×n×k) | kernel | ms | GOP/s median | GOP/s best |", "|---|---|---|---|---|---|");
  for (const r of rows) L.push(`| ${r.flavour} | ${r.shape} | ${r.kernel} | ${r.ms.toFixed(3)} | ${r.gops.toFixed(1)} | ${r.best.toFixed(1)} |`);
  L.push("", `4-bit (Q4_0) vs int8 in ${engine}, same build, same shape: GOP/s ratio, median (best).`, "",
    "| build | shape (m×n×k) | kernels | q4 / int8 |", "|---|---|---|---|");
  for (const r of rows) {
    const pair = PAIRS.find(([q]) => q === r.kernel);
    const base = pair && rows.find((x) => x.flavour === r.flavour && x.shape === r.shape && x.kernel === pair[1]);
    if (base) L.push(`| ${r.flavour} | ${r.shape} | ${r.kernel} / ${pair[1]} | ${(r.gops / base.gops).toFixed(2)} (${(r.best / base.best).toFixed(2)}) |`);
  }
}
const text = L.join("\n");
console.log(text);

if (!process.argv.includes("--no-write")) writeResultsBlock("bench/kernels.mjs", text);
