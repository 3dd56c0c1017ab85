// run.mjs — `make bench`'s comparison: edgetag (baseline SIMD128 and relaxed-SIMD wasm, f32 and int8, and 4-bit
// Q4_0 beside int8) side by side with onnxruntime-web (wasm, 1 thread) on the same random-weight models and token
// ids, in Node (plus onnxruntime-node, native, 1 thread, as the ceiling), in headless Chromium and in WebKitGTK
// (Safari's engine family: MiniBrowser under Xvfb, driven over WebDriver). One process per engine: a Node worker
// (started with the relaxed-SIMD flags on Node 20), one Chromium page, one WebKitGTK page. Prints a markdown report
// per engine and writes it into bench/RESULTS.md (replacing that engine's previous block, keeping the rest). An
// engine that cannot start here (no WebKitGTK, no display) is skipped with the reason; its block stays as it was.
//
//   node bench/run.mjs [--engine node,chromium,webkit] [--models minilm,base] [--seqs 16,64,128,256] [--runs 20]
//                      [--rounds 4] [--sample-ms 150] [--skip chromium:base:f32[:family],...] [--no-write]
//                      [--no-cold-default] [--report-only]   (--report-only: re-render build/bench/result-ENGINE.json)
//   (family: edgetag, q4, ORT-web or ORT-node; e.g. --skip webkit:base:int8:q4)
//
// Inputs (made here when missing, as `make bench` would): build/edgetag.wasm, build/edgetag-relaxed.wasm,
// build/edgetag (the CLI, for `quantize`), build/ref/MODEL/ + build/ref/MODEL.gguf (python3 -m tools.fixtures.make_reference,
// python3 -m tools.convert), build/ref/MODEL-i8.gguf and build/ref/MODEL-q4.gguf (`build/edgetag quantize … --type
// i8` and `--type q4_0`) and build/onnx/MODEL/model-{f32,int8}.onnx (bench/onnx_export.py, checked by
// bench/onnx_check.mjs).
import { spawn, spawnSync, execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { processTree } from "./procs.mjs";
import { writeResultsBlock } from "./results.mjs";
import { serve } from "./serve.mjs";
import { openWebKit, webkitUnavailable } from "./webkit.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
const PY = "/usr/bin/python3";
const WASM_SNAPSHOT = { baseline: "build/bench/edgetag.wasm", relaxed: "build/bench/edgetag-relaxed.wasm" };
// Node 20's V8 needs a flag for relaxed SIMD, and its Liftoff tier computes the relaxed dot products wrongly;
// Node 22 and later ship relaxed SIMD on by default.
const NODE_FLAGS = Number(process.versions.node.split(".")[0]) < 22 ? ["--experimental-wasm-relaxed-simd", "--no-liftoff"] : [];

function parseArgs(argv) {
  const get = (name, dflt) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : dflt;
  };
  return {
    engines: get("--engine", "node,chromium,webkit").split(",").filter(Boolean),
    models: get("--models", "minilm,base").split(",").filter(Boolean),
    seqs: get("--seqs", "16,64,128,256").split(",").map(Number),
    runs: Number(get("--runs", "20")),
    rounds: Number(get("--rounds", "4")),
    sampleMs: Number(get("--sample-ms", "150")),
    skip: get("--skip", "").split(",").filter(Boolean),
    write: !argv.includes("--no-write"),
    coldDefault: !argv.includes("--no-cold-default"),
    worker: get("--worker", null),
    config: get("--config", null),
    out: get("--out", null),
  };
}

const log = (m) => process.stderr.write(`[bench] ${m}\n`);
const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);

// ---- inputs ---------------------------------------------------------------------------------------------

function run(cmd, args) {
  log(`$ ${cmd} ${args.join(" ")}`);
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status})`);
}

function prepare(models) {
  for (const f of ["build/edgetag.wasm", "build/edgetag-relaxed.wasm", "build/edgetag"])
    if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: run make wasm native first`);
  for (const m of models) {
    const hf = `build/ref/${m}`, st = join(ROOT, hf, "model.safetensors");
    if (!existsSync(st)) run(PY, ["-m", "tools.fixtures.make_reference", "--shape", m, "-o", hf]);
    const gguf = `build/ref/${m}.gguf`, onnxDir = `build/onnx/${m}`;
    if (mtime(join(ROOT, gguf)) < mtime(st))
      run(PY, ["-m", "tools.convert", hf, "-o", gguf, "--name", `edgetag reference ${m} (random weights)`]);
    for (const [suffix, type] of [["i8", "i8"], ["q4", "q4_0"]]) {
      const out = `build/ref/${m}-${suffix}.gguf`;
      if (mtime(join(ROOT, out)) < Math.max(mtime(join(ROOT, gguf)), mtime(join(ROOT, "build/edgetag"))))
        run(join(ROOT, "build/edgetag"), ["quantize", gguf, out, "--type", type]);
    }
    const exporter = join(ROOT, "bench/onnx_export.py");
    const onnxOld = ["model-f32.onnx", "model-int8.onnx"].some((f) => mtime(join(ROOT, onnxDir, f)) < Math.max(mtime(st), mtime(exporter)));
    if (onnxOld) run(PY, ["-m", "bench.onnx_export", hf, "-o", onnxDir]);
  }
}

/** bench/onnx_check.mjs on each model's ONNX pair: f32 vs PyTorch (≤ 1e-4, else stop), int8 vs f32. */
function checkOnnx(models) {
  const lines = [];
  for (const m of models) {
    log(`$ node bench/onnx_check.mjs build/onnx/${m}`);
    const r = spawnSync(process.execPath, ["bench/onnx_check.mjs", `build/onnx/${m}`], { cwd: ROOT, encoding: "utf8" });
    process.stderr.write(r.stdout + r.stderr);
    if (r.status !== 0) throw new Error(`bench/onnx_check.mjs build/onnx/${m} failed`);
    lines.push(...r.stdout.trim().split("\n").map((l) => `${m}, ${l}`));
  }
  return lines;
}

// ---- the Node worker (runs inside the flagged child process) ---------------------------------------------

async function nodeWorker(args) {
  const cfg = JSON.parse(args.config);
  const { hookWasmMemories, runSuite } = await import("./suite.mjs");
  const edgetag = await import("../web/edgetag.js");
  const ortWebMemory = hookWasmMemories();
  const ortWeb = await import("onnxruntime-web");
  ortWeb.env.wasm.numThreads = 1;
  const cold = args.worker === "node-cold";
  const ortNode = cold ? null : await import("onnxruntime-node");
  const relaxed = edgetag.relaxedSimdSupported();
  const skip = new Set(cfg.skip ?? []);
  const host = {
    engine: "node", edgetag, ortWeb, ortNode, ortWebMemory, log,
    read: async (p) => readFileSync(join(ROOT, p)),
    wasm: { baseline: readFileSync(join(ROOT, cfg.wasmFiles.baseline)), relaxed: readFileSync(join(ROOT, cfg.wasmFiles.relaxed)) },
    minSampleMs: 0,
    skip: (model, precision, family) => skip.has(`${model}:${precision}`) || skip.has(`${model}:${precision}:${family}`),
    unsupported: (c) => c.flavour === "relaxed" && !relaxed,
  };
  const result = await runSuite(host, { ...cfg, coldOnly: cold });
  result.node = process.version;
  result.execArgv = process.execArgv;
  result.relaxedSimd = relaxed;
  result.ortVersion = ortWeb.env.versions.web;
  result.ortNodeVersion = ortNode?.env.versions.node ?? null;
  result.peakRss = process.resourceUsage().maxRSS * 1024;
  writeFileSync(args.out, JSON.stringify(result));
}

function spawnNodeWorker(kind, cfg, flags) {
  const dir = mkdtempSync(join(tmpdir(), "edgetag-bench-"));
  const out = join(dir, "result.json");
  const argv = [...flags, join(ROOT, "bench/run.mjs"), "--worker", kind, "--config", JSON.stringify(cfg), "--out", out];
  log(`$ ${["node", ...flags].join(" ")} bench/run.mjs --worker ${kind} …`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`the ${kind} worker failed (${code})`));
      const r = JSON.parse(readFileSync(out, "utf8"));
      rmSync(dir, { recursive: true, force: true });
      resolve(r);
    });
  });
}

// ---- Chromium ----------------------------------------------------------------------------------------

const SERVED = ["bench/", "web/", "build/", "node_modules/onnxruntime-web/dist/"];

/** VmHWM (peak RSS) of Chromium's processes: the renderer's and the sum over all of them. */
function chromiumPeaks(profile) {
  const type = (p) => /--type=([a-z-]+)/.exec(p.cmd)?.[1] ?? "browser";
  const mine = processTree((p) => p.cmd.includes(`--user-data-dir=${profile}`) && type(p) === "browser");
  return {
    renderer: Math.max(0, ...mine.filter((p) => type(p) === "renderer").map((p) => p.hwm)),
    total: mine.reduce((a, p) => a + p.hwm, 0),
    processes: mine.map((p) => `${type(p)} ${(p.hwm / 2 ** 20).toFixed(0)} MB`),
  };
}

async function chromiumRun(cfg) {
  const { chromium } = await import("playwright-core");
  const server = await serve(SERVED);
  const url = `http://127.0.0.1:${server.address().port}/bench/page.html`;
  const profile = mkdtempSync(join(tmpdir(), "edgetag-bench-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  try {
    const page = context.pages()[0] ?? await context.newPage();
    page.on("console", (m) => log(`chromium: ${m.text()}`));
    page.on("pageerror", (e) => log(`chromium page error: ${e.message}`));
    await page.goto(url);
    await page.waitForFunction(() => window.benchReady === true, null, { timeout: 60_000 });
    page.setDefaultTimeout(0);
    const result = await page.evaluate((c) => window.runBench(c), { ...cfg, engine: "chromium" });
    result.chromium = context.browser()?.version() ?? execFileSync("/usr/bin/chromium", ["--version"], { encoding: "utf8" }).trim();
    result.peaks = chromiumPeaks(profile);
    result.userAgent = await page.evaluate(() => navigator.userAgent);
    return result;
  } finally {
    await context.close();
    server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

// ---- WebKitGTK ----------------------------------------------------------------------------------------

/** The same page in WebKitGTK (bench/webkit.mjs); {skipped: why} when it cannot run here. */
async function webkitRun(cfg) {
  const missing = webkitUnavailable();
  if (missing) return { skipped: missing };
  const server = await serve(SERVED);
  let page;
  try {
    page = await openWebKit(`http://127.0.0.1:${server.address().port}/bench/page.html`, "window.benchReady === true");
  } catch (e) {
    server.close();
    return { skipped: `WebKitGTK did not start or the page did not load: ${e.message}` };
  }
  try {
    const result = await page.call("runBench", { ...cfg, engine: "webkit", yieldBetweenSamples: true }, (l) => log(`webkit: ${l}`));
    result.webkit = page.version;
    result.userAgent = page.userAgent;
    result.peaks = page.peaks();
    return result;
  } finally {
    await page.close();
    server.close();
  }
}

// ---- report ---------------------------------------------------------------------------------------------

const MB = (b) => (b == null ? "n/a" : `${(b / 2 ** 20).toFixed(1)}`);
const ms = (v) => (v == null ? "–" : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const fmtX = (v) => (v == null ? "–" : `${v.toFixed(2)}×`);
const NAMES = ["edgetag baseline", "edgetag relaxed", "edgetag baseline q4", "edgetag relaxed q4", "ORT-web", "ORT-node"];
const isQ4 = (name) => name.endsWith(" q4");
/** The engine's name and version, as the report's headings give it. */
const engineName = (r) => ({ node: `Node ${r.node}`, chromium: `Chromium ${r.chromium}`, webkit: `WebKitGTK ${r.webkit}` })[r.engine];

function machine() {
  const lscpu = execFileSync("lscpu", { encoding: "utf8" });
  const field = (k) => new RegExp(`^${k}:\\s*(.+)$`, "m").exec(lscpu)?.[1].trim();
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  return { cpu: field("Model name"), cpus: field("CPU\\(s\\)"), mem: `${(totalmem() / 2 ** 30).toFixed(0)} GiB`, load };
}

function sizes() {
  const files = [["edgetag.wasm (baseline)", WASM_SNAPSHOT.baseline], ["edgetag-relaxed.wasm", WASM_SNAPSHOT.relaxed],
    ["ORT-web ort-wasm-simd-threaded.wasm (what `onnxruntime-web` loads in Node and `onnxruntime-web/wasm` in browsers)", "node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm"],
    ["ORT-web ort-wasm-simd-threaded.jsep.wasm (what the default `onnxruntime-web` import loads in browsers)", "node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.jsep.wasm"]];
  return files.map(([name, f]) => {
    const b = readFileSync(join(ROOT, f));
    return { name, raw: b.length, gzip: gzipSync(b, { level: 9 }).length };
  });
}

function report(r, meta) {
  const L = [];
  const engine = engineName(r);
  L.push(`## edgetag vs onnxruntime side by side — ${engine} (bench/run.mjs)`, "");
  const busy = Math.max(Number(meta.loadStart.split(" ")[0]), Number(meta.loadEnd.split(" ")[0])) > 1.5;
  L.push(`Run ${meta.date} on ${meta.machine.cpu}, ${meta.machine.cpus} cores, ${meta.machine.mem}, Debian 12; load average ` +
    `${meta.loadStart} at the start and ${meta.loadEnd} at the end (the benchmark itself keeps one core busy)` +
    (busy ? " — **something else was running**, so absolute times are noisy" : "") + `. Read the ratios: they come from the ` +
    `same run with the runtimes interleaved in ${meta.cfg.rounds} rounds per row. Build: ${meta.build}.`);
  const timer = `performance.now() is coarse${r.timerStepMs ? ` (steps of ${r.timerStepMs} ms seen)` : ""}, so a sample is ` +
    `⌈${meta.cfg.sampleMs} ms / run⌉ back-to-back runs, averaged`;
  const how = {
    node: () => `One Node process (\`${["node", ...r.execArgv].join(" ")}\`${r.execArgv.length ? "" : "; relaxed SIMD is on by default from Node 22"}): ` +
      `${NAMES.join(", ")} (onnxruntime-node ${r.ortNodeVersion}, native CPU EP, 1 intra-op thread — the ceiling).`,
    chromium: () => `One headless Chromium page (\`/usr/bin/chromium\` via playwright-core, served from 127.0.0.1, not cross-origin ` +
      `isolated: ${timer}).`,
    webkit: () => `One WebKitGTK ${r.webkit} page (Debian's MiniBrowser under Xvfb, driven over WebDriver by WebKitWebDriver — ` +
      `\`tests/js/browser/webdriver.mjs\` — and served from 127.0.0.1; JavaScriptCore, Safari's engine; not cross-origin isolated: ` +
      `${timer}; the page yields to its event loop between samples so that the driver's polls are answered).`,
  }[r.engine]();
  L.push("", `${how} onnxruntime-web ${r.ortVersion}: \`numThreads = 1\`, wasm execution provider, SIMD ` +
    `(\`ort-wasm-simd-threaded.wasm\`, which has no relaxed-SIMD instructions), default graph optimizations (all). ` +
    `Models: random-weight Hugging Face BertModel checkpoints (\`tools/fixtures/make_reference.py\`) → edgetag's GGUF (f32; int8 by ` +
    `\`build/edgetag quantize --type i8\`) and ONNX (\`bench/onnx_export.py\`: f32, and int8 as onnxruntime's \`quantize_dynamic\` ` +
    `makes it — DynamicQuantizeLinear + MatMulInteger, int8 weights per output channel) from the same weights. Same token ids ` +
    `everywhere; ORT gets the mixed batch padded to 256 with an attention mask, edgetag as one ragged batch. ` +
    `The int8 tables also time edgetag on the same weights quantized to 4 bits (\`build/edgetag quantize --type q4_0\`: ` +
    `llama.cpp's Q4_0 blocks of 32 with an f16 scale), columns "q4": onnxruntime has no 4-bit path for these encoders, so ` +
    `q4 is compared with edgetag's own int8 build of the same flavour, interleaved in the same rounds (×int8 = int8 median / ` +
    `q4 median). ` +
    `Per row: median / min ms of ${meta.cfg.runs} timed runs after warm-up (short calls first, then 2 at the row's shape); ` +
    `×ORT = ORT-web median / this median (same precision); GOP/s = 2 × the multiply-adds of all matmuls incl. attention ` +
    `over the real (unpadded) tokens, at the median.`);
  for (const m of r.models) {
    const s = m.shape;
    L.push("", `### ${m.name}: ${s.nLayer} layers, hidden ${s.nEmbd}, ${s.nHead} heads, FFN ${s.nFF}`);
    for (const g of m.groups) {
      const names = NAMES.filter((n) => g.configs[n]);
      L.push("", `**${g.precision}** — GGUF ${MB(g.bytes.edgetag)} MB${g.bytes.q4 ? ` (q4: ${MB(g.bytes.q4)} MB)` : ""}, ONNX ${MB(g.bytes.onnx)} MB` +
        (g.skipped.length ? ` (skipped: ${g.skipped.join(", ")})` : "") +
        (g.unsupported?.length ? ` (not supported by this engine: ${g.unsupported.join(", ")} — no relaxed SIMD, ` +
          "`WebAssembly.validate` is false for the relaxed build)" : ""), "");
      const head = ["input", "tokens", ...names.flatMap((n) => (n === "ORT-web" ? [`${n} ms`] : [`${n} ms`, isQ4(n) ? "×int8" : "×ORT"])),
        "GOP/s " + names.map((n) => n.replace("edgetag ", "")).join(" / ")];
      L.push(`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`);
      for (const row of g.rows) {
        const web = row.results["ORT-web"]?.median;
        const cells = [row.input, row.tokens];
        for (const n of names) {
          const x = row.results[n];
          cells.push(`${ms(x.median)} / ${ms(x.min)}`);
          if (isQ4(n)) {
            const int8 = row.results[n.slice(0, -3)]?.median;
            cells.push(int8 ? fmtX(int8 / x.median) : "–");
          } else if (n !== "ORT-web") cells.push(web ? `**${fmtX(web / x.median)}**` : "–");
        }
        cells.push(names.map((n) => (2 * row.macs / row.results[n].median / 1e6).toFixed(1)).join(" / "));
        L.push(`| ${cells.join(" | ")} |`);
      }
    }
    L.push("", `Cold start (bytes in memory → first result at 128 tokens), wasm memory, and the pooler output's max |Δ| vs ` +
      `${m.accuracyRef ?? "—"} (at 128 tokens / over the mixed batch). Every runtime's load includes copying the model into ` +
      `memory it has not touched before; on this machine (a virtual machine, where a first touch of a page is slow) a plain ` +
      `ArrayBuffer copy of the same size takes ` +
      m.groups.map((g) => `${ms(g.firstTouchMs)} ms for the ${g.precision} file (${MB(g.bytes.edgetag ?? g.bytes.onnx ?? g.bytes.q4)} MB)`).join(" and ") + ".", "");
    L.push("| precision | runtime | cold ms: engine + load + first run | wasm memory MB after seq " +
      `${Math.max(...meta.cfg.seqs)} / after all runs | max abs Δ pooler |`, "|---|---|---|---|---|");
    for (const g of m.groups)
      for (const n of NAMES.filter((x) => g.configs[x])) {
        const c = g.configs[n];
        const eng = c.cold.engineMs != null ? `${ms(c.cold.engineMs)} compile` : n === "ORT-web" ? "(start: see below)" : "–";
        const total = (c.cold.engineMs ?? 0) + c.cold.loadMs + c.cold.firstMs;
        L.push(`| ${isQ4(n) ? "q4" : g.precision} | ${n}${c.kernels ? ` (${c.kernels} after warm-up)` : ""} | **${ms(total)}** = ${eng} + ${ms(c.cold.loadMs)} ${n.startsWith("ORT") ? "session" : "instantiate + load"} + ` +
          `${ms(c.cold.firstMs)} | ${MB(c.memoryAfterSeqMax)} / ${MB(c.memoryAfterRuns)} | ` +
          `${c.maxDiff128 == null ? "–" : c.maxDiff128.toExponential(1)} / ${c.maxDiffBatch == null ? "–" : c.maxDiffBatch.toExponential(1)} |`);
      }
  }
  L.push("", `onnxruntime's own start (a one-node model: ${r.engine === "node" ? "import, wasm read + compile" : "wasm fetch + compile"} + ` +
    `instantiate + init), paid once per process and not in the cold starts above: ` +
    Object.entries(r.startup).map(([k, v]) => `${k} ${ms(v)} ms`).join(", ") + ". " +
    `ORT-web's wasm memory is one shared memory for all its sessions (it never shrinks; the run goes int8 then f32, ` +
    `minilm then base), read through a wrapped \`WebAssembly.Memory\`; edgetag's is each config's own instance ` +
    `(\`model.wasmMemoryBytes\`); ORT-node has none (native heap).`);
  L.push("", r.engine === "node" && r.execArgv.includes("--no-liftoff")
    ? "edgetag's \"compile\" is `WebAssembly.compile` of the wasm bytes; with `--no-liftoff` V8 compiles every function " +
      "with TurboFan up front, and a second compile of the same bytes hits V8's module cache (hence ~1 ms after the first). " +
      "The same flag makes onnxruntime-web's start slow here (TurboFan on its 14 MB wasm): see the flag-less cold starts below."
    : r.engine === "webkit"
      ? "JavaScriptCore compiles wasm in tiers (a fast baseline compiler, BBQ, then the optimizing OMG for hot functions, in the " +
        "background), so edgetag's \"compile\" is small and the first runs pay for code generation."
      : `${r.engine === "node" ? "Node" : "Chromium"} compiles wasm lazily (Liftoff on first call, TurboFan in the background ` +
        "for hot functions), so edgetag's \"compile\" is small and the first run pays for code generation.");
  if (r.engine === "node") L.push("", `Peak RSS of the process (all runtimes and models of the run together): ${MB(r.peakRss)} MB.`);
  else if (r.peaks) L.push("", `Peak RSS (VmHWM): ${r.engine === "webkit" ? "web content process" : "renderer"} ${MB(r.peaks.renderer)} MB; ` +
    `all ${r.engine === "webkit" ? "MiniBrowser and WebKit" : "Chromium"} processes summed ${MB(r.peaks.total)} MB ` +
    `(${r.peaks.processes.join(", ")}). Relaxed SIMD available: ${r.relaxedSimd}; cross-origin isolated: ${r.crossOriginIsolated}.`);
  if (meta.coldDefault) {
    const c = meta.coldDefault;
    L.push("", `Cold start in a plain \`node\` (no flags: Liftoff on, so no relaxed build), separate process: ORT-web start ` +
      `${ms(c.startup["ORT-web"])} ms; ` + c.models.map((m) => m.groups.map((g) => Object.entries(g.configs).map(([n, x]) =>
        `${m.name} ${g.precision} ${n} ${ms((x.cold.engineMs ?? 0) + x.cold.loadMs + x.cold.firstMs)} ms (` +
        (x.cold.engineMs != null ? `${ms(x.cold.engineMs)} compile + ` : "") + `${ms(x.cold.loadMs)} + ${ms(x.cold.firstMs)})`).join("; ")).join("; ")).join("; ") + ".");
  }
  if (meta.sizes) {
    L.push("", "Wasm binaries:", "", "| file | raw bytes | gzip -9 bytes |", "|---|---|---|");
    for (const s of meta.sizes) L.push(`| ${s.name} | ${s.raw.toLocaleString("en")} | ${s.gzip.toLocaleString("en")} |`);
  }
  if (meta.onnxCheck?.length) L.push("", "ONNX export check (`bench/onnx_check.mjs`, a padded batch of 2 random texts, 64 and 37 tokens):", "",
    ...meta.onnxCheck.map((l) => `- ${l}`));
  L.push("", ...targets(r, meta));
  return L.join("\n");
}

/** The issue's targets that this run measures, MiniLM shape. */
function targets(r, meta) {
  const maxSeq = Math.max(...meta.cfg.seqs);
  const m = r.models.find((x) => x.name === "minilm");
  if (!m) return [];
  const out = ["Against the issue's targets (minilm):", ""];
  for (const g of m.groups) {
    const row = g.rows.find((x) => x.input === "seq 128");
    const web = row?.results["ORT-web"]?.median;
    for (const [n, need] of [["edgetag relaxed", 1.8], ["edgetag baseline", 1.4]]) {
      const x = row?.results[n];
      if (!x || !web) continue;
      const ratio = web / x.median;
      out.push(`- seq 128 ${g.precision} ${n}: ${fmtX(ratio)} ORT-web (target ≥ ${need}×) — ${ratio >= need ? "met" : "**missed**"} ` +
        `(ratio of the minimums: ${fmtX(row.results["ORT-web"].min / x.min)}); ` +
        `whole-model ${(2 * row.macs / x.median / 1e6).toFixed(1)} GOP/s`);
    }
    for (const n of ["edgetag relaxed q4", "edgetag baseline q4"]) {
      const q = row?.results[n], int8 = row?.results[n.slice(0, -3)];
      if (!q || !int8) continue;
      out.push(`- seq 128 q4 (Q4_0) ${n.slice(0, -3)}: ${ms(q.median)} ms against ${ms(int8.median)} ms for its int8 build, ` +
        `${fmtX(int8.median / q.median)} (> 1: q4 faster; no ORT-web peer runs 4-bit encoders, so this is edgetag's own int8 ` +
        `in the same run); whole-model ${(2 * row.macs / q.median / 1e6).toFixed(1)} GOP/s`);
    }
    const batch = g.rows.find((x) => x.input === "8 mixed, one batch"), single = g.rows.find((x) => x.input === "8 mixed, one at a time");
    for (const n of ["edgetag baseline", "edgetag relaxed"]) {
      if (!batch?.results[n] || !single?.results[n]) continue;
      const tb = batch.tokens / batch.results[n].median * 1e3, ts = single.tokens / single.results[n].median * 1e3;
      out.push(`- ${g.precision} ${n}, 8 mixed texts: ${tb.toFixed(0)} tokens/s as one ragged batch vs ${ts.toFixed(0)} one at a time ` +
        `(${(tb / ts).toFixed(2)}×; target ≥ 1) — ${tb >= ts ? "met" : "**missed**"}`);
    }
    if (g.precision === "int8") {
      for (const n of ["edgetag baseline", "edgetag relaxed"]) {
        const c = g.configs[n];
        if (!c) continue;
        const ready = c.cold.loadMs, own = ready - (g.firstTouchMs ?? 0);
        out.push(`- int8 ${n}: instantiate + model ready ${ms(ready)} ms (target ≤ 30 ms; + ${ms(c.cold.engineMs)} ms compile ` +
          `from bytes) — ${ready <= 30 ? "met" : "**missed**"}` +
          (g.firstTouchMs != null ? `; of which ${ms(g.firstTouchMs)} ms is this machine's cost of writing ${MB(g.bytes.edgetag)} MB ` +
            `into fresh memory (a plain ArrayBuffer copy of the file, measured beside it), leaving ${ms(own)} ms of engine work — ` +
            `${own <= 30 ? "met" : "**missed**"} without it` : "") +
          `; wasm memory at seq ${maxSeq} ${MB(c.memoryAfterSeqMax)} MB vs ` +
          `model ${MB(g.bytes.edgetag)} + 16 MB — ${c.memoryAfterSeqMax <= g.bytes.edgetag + 16 * 2 ** 20 ? "met" : "**missed**"}`);
      }
    }
  }
  return out;
}

function writeResults(engine, text) {
  writeResultsBlock(`bench/run.mjs ${engine}`, text);
  log(`wrote the ${engine} block of bench/RESULTS.md`);
}

// ---- main -----------------------------------------------------------------------------------------------

const args = parseArgs(process.argv.slice(2));
const saved = (engine) => join(ROOT, `build/bench/result-${engine}.json`);
if (args.worker) {
  await nodeWorker(args);
} else if (process.argv.includes("--report-only")) { // re-render the last run's saved results
  for (const engine of args.engines) {
    if (!existsSync(saved(engine))) continue;
    const { r, meta } = JSON.parse(readFileSync(saved(engine), "utf8"));
    writeFileSync(saved(engine), JSON.stringify({ r, meta }));
    const text = report(r, meta);
    console.log(text + "\n");
    if (args.write) writeResults(engine, text);
  }
} else {
  prepare(args.models);
  // Both engines run the same wasm even if build/ is rebuilt meanwhile: a snapshot taken now.
  mkdirSync(join(ROOT, "build/bench"), { recursive: true });
  copyFileSync(join(ROOT, "build/edgetag.wasm"), join(ROOT, WASM_SNAPSHOT.baseline));
  copyFileSync(join(ROOT, "build/edgetag-relaxed.wasm"), join(ROOT, WASM_SNAPSHOT.relaxed));
  const onnxCheck = checkOnnx(args.models);
  const git = (a) => spawnSync("git", a, { cwd: ROOT, encoding: "utf8" }).stdout.trim();
  const build = `edgetag at commit ${git(["rev-parse", "--short", "HEAD"])}` +
    (git(["status", "--porcelain", "src", "include", "web"]) ? " plus uncommitted changes in src/include/web" : "") +
    `, wasm built ${new Date(mtime(join(ROOT, "build/edgetag.wasm"))).toISOString().slice(0, 16).replace("T", " ")} UTC`;
  const cfg = { models: args.models, seqs: args.seqs, runs: args.runs, rounds: args.rounds, sampleMs: args.sampleMs,
    wasmFiles: WASM_SNAPSHOT };
  for (const engine of args.engines) {
    const skip = args.skip.filter((s) => s.startsWith(`${engine}:`)).map((s) => s.slice(engine.length + 1));
    const meta = { cfg, onnxCheck, build, sizes: sizes(), machine: machine(), date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC" };
    meta.loadStart = meta.machine.load;
    let r;
    if (engine === "node") {
      r = await spawnNodeWorker("node", { ...cfg, skip }, NODE_FLAGS);
      if (args.coldDefault && NODE_FLAGS.length) meta.coldDefault = await spawnNodeWorker("node-cold", { ...cfg, skip }, []);
    } else if (engine === "chromium") {
      r = await chromiumRun({ ...cfg, skip });
    } else if (engine === "webkit") {
      try {
        r = await webkitRun({ ...cfg, skip });
      } catch (e) {
        r = { skipped: `the run failed: ${e.message}` };
      }
      if (r.skipped) {
        log(`webkit: skipped — ${r.skipped}; bench/RESULTS.md keeps its previous WebKitGTK block`);
        continue;
      }
    } else throw new Error(`unknown engine ${engine}`);
    meta.loadEnd = machine().load;
    writeFileSync(saved(engine), JSON.stringify({ r, meta }));
    const text = report(r, meta);
    console.log(text + "\n");
    if (args.write) writeResults(engine, text);
  }
}
