// e2e.mjs — `make bench-e2e`: edgetag end to end against transformers.js — text in, labels and entities out,
// tokenization included — on the same weights, in Node and in headless Chromium (and, when asked, WebKitGTK).
// edgetag's library (web/edgetag.js: load(), model.classify(texts), model.extract(text)) against transformers.js's
// pipeline("text-classification" | "token-classification") on onnxruntime-web's wasm backend, one thread, local
// files only; edgetag int8 (relaxed where the engine has relaxed SIMD, and baseline) against transformers.js q8
// (onnx/model_quantized.onnx), f32 against fp32. Models: the shipped shape (models/intent-clinc, models/pii-ner)
// and MiniLM's with random-weight heads (build/e2e/minilm-cls, -tok). Texts: bench/e2e-texts.json. The suite is
// bench/e2e-suite.mjs; it also reports how far the answers agree (token ids, labels, entity spans). Prints a
// markdown report per engine and writes it into bench/RESULTS.md between its `<!-- bench/e2e.mjs ENGINE -->` markers.
//
//   node bench/e2e.mjs [--engines node,chromium[,webkit]] [--models intent-clinc,pii-ner,minilm-cls,minilm-tok]
//                      [--runs 12] [--rounds 3] [--sample-ms 150] [--no-write]
//
// Inputs (`make bench-e2e` makes them): build/edgetag.wasm, build/edgetag-relaxed.wasm; the GGUF files
// (models/NAME.gguf and models/NAME-f32.gguf; build/e2e/minilm-*.gguf and -f32.gguf from make_reference + convert +
// quantize); build/e2e/hf/NAME/ (bench/hf_export.py from the f32 GGUF).
import { spawn, spawnSync, execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { writeResultsBlock } from "./results.mjs";

const ROOT = new URL("..", import.meta.url).pathname;
const WASM_SNAPSHOT = { baseline: "build/bench/e2e/edgetag.wasm", relaxed: "build/bench/e2e/edgetag-relaxed.wasm" };
const SERVED = ["bench/", "web/", "build/", "models/", "node_modules/@huggingface/transformers/dist/"];

const MODELS = {
  "intent-clinc": { task: "classify", about: "the shipped intent classifier", hf: "intent-clinc",
    files: { int8: "models/intent-clinc.gguf", f32: "models/intent-clinc-f32.gguf" } },
  "pii-ner": { task: "extract", about: "the shipped PII tagger", hf: "pii-ner",
    files: { int8: "models/pii-ner.gguf", f32: "models/pii-ner-f32.gguf" } },
  "minilm-cls": { task: "classify", about: "MiniLM's shape with a random-weight classification head", hf: "minilm-cls",
    files: { int8: "build/e2e/minilm-cls.gguf", f32: "build/e2e/minilm-cls-f32.gguf" } },
  "minilm-tok": { task: "extract", about: "MiniLM's shape with a random-weight token-classification head", hf: "minilm-tok",
    files: { int8: "build/e2e/minilm-tok.gguf", f32: "build/e2e/minilm-tok-f32.gguf" } },
};

function parseArgs(argv) {
  const get = (name, dflt) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : dflt;
  };
  return {
    engines: get("--engines", "node,chromium").split(",").filter(Boolean),
    models: get("--models", Object.keys(MODELS).join(",")).split(",").filter(Boolean),
    runs: Number(get("--runs", "12")),
    rounds: Number(get("--rounds", "3")),
    sampleMs: Number(get("--sample-ms", "150")),
    write: !argv.includes("--no-write"),
    worker: argv.includes("--worker"),
    config: get("--config", null),
    out: get("--out", null),
  };
}

const log = (m) => process.stderr.write(`[e2e] ${m}\n`);

// ---- the Node worker (a child process: a fresh heap, and transformers.js's onnxruntime hook stays in it) ------

async function nodeWorker(args) {
  const cfg = JSON.parse(args.config);
  const { runE2E } = await import("./e2e-suite.mjs");
  const edgetag = await import("../web/edgetag.js");
  // transformers.js 3.x in Node offers only onnxruntime-node (device "cpu", native code; "wasm" is refused). Its hook
  // for a runtime the host provides, globalThis[Symbol.for("onnxruntime")], hands it onnxruntime-web instead — the
  // version it depends on itself — so that the wasm backend runs as in browsers. With the hook it lists no devices of
  // its own: device "auto" asks for none, and session_options.executionProviders ["wasm"] stands.
  const fromTransformers = createRequire(join(ROOT, "node_modules/@huggingface/transformers/package.json"));
  const ort = await import(pathToFileURL(fromTransformers.resolve("onnxruntime-web")).href);
  globalThis[Symbol.for("onnxruntime")] = ort;
  const { env, pipeline } = await import("@huggingface/transformers");
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.useFSCache = false;
  env.localModelPath = join(ROOT, "build/e2e/hf/");
  env.backends.onnx.wasm.numThreads = 1;
  env.backends.onnx.wasm.wasmPaths = undefined; // transformers.js points it at a CDN; onnxruntime-web finds its own files
  if (env.backends.onnx !== ort.env) throw new Error("transformers.js did not take onnxruntime-web from the hook");
  const host = {
    engine: "node", edgetag, relaxedSupported: edgetag.relaxedSimdSupported(), minSampleMs: 0, log,
    read: async (p) => readFileSync(join(ROOT, p)),
    wasm: { baseline: readFileSync(join(ROOT, cfg.wasmFiles.baseline)), relaxed: readFileSync(join(ROOT, cfg.wasmFiles.relaxed)) },
    pipeline: (task, name, dtype) => pipeline(task, name, { dtype, device: "auto", session_options: { executionProviders: ["wasm"] } }),
  };
  const result = await runE2E(host, cfg);
  Object.assign(result, { node: process.version, relaxedSimd: host.relaxedSupported, transformers: env.version,
    ort: ort.env.versions.web, backend: "onnxruntime-web (Node build), through transformers.js's onnxruntime hook",
    peakRss: process.resourceUsage().maxRSS * 1024 });
  writeFileSync(args.out, JSON.stringify(result));
}

function spawnNodeWorker(cfg) {
  const dir = mkdtempSync(join(tmpdir(), "edgetag-e2e-"));
  const out = join(dir, "result.json");
  log("$ node bench/e2e.mjs --worker …");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, "bench/e2e.mjs"), "--worker", "--config", JSON.stringify(cfg), "--out", out],
      { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`the Node worker failed (${code})`));
      const r = JSON.parse(readFileSync(out, "utf8"));
      rmSync(dir, { recursive: true, force: true });
      resolve(r);
    });
  });
}

// ---- browsers ---------------------------------------------------------------------------------------------

async function chromiumRun(cfg) {
  const { chromium } = await import("playwright-core");
  const { serve } = await import("./serve.mjs");
  const server = await serve(SERVED);
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"] });
  try {
    const page = await browser.newPage();
    page.on("console", (m) => log(`chromium: ${m.text()}`));
    page.on("pageerror", (e) => log(`chromium page error: ${e.message}`));
    await page.goto(`http://127.0.0.1:${server.address().port}/bench/e2e.html`);
    await page.waitForFunction(() => window.benchReady === true, null, { timeout: 60_000 });
    page.setDefaultTimeout(0);
    const result = await page.evaluate((c) => window.runE2E(c), { ...cfg, engine: "chromium" });
    result.chromium = browser.version();
    return result;
  } finally {
    await browser.close();
    server.close();
  }
}

async function webkitRun(cfg) {
  const { openWebKit, webkitUnavailable } = await import("./webkit.mjs");
  const missing = webkitUnavailable();
  if (missing) return { skipped: missing };
  const { serve } = await import("./serve.mjs");
  const server = await serve(SERVED);
  let page;
  try {
    page = await openWebKit(`http://127.0.0.1:${server.address().port}/bench/e2e.html`, "window.benchReady === true");
  } catch (e) {
    server.close();
    return { skipped: `WebKitGTK did not start or the page did not load: ${e.message}` };
  }
  try {
    const result = await page.call("runE2E", { ...cfg, engine: "webkit", yieldBetweenSamples: true }, (l) => log(`webkit: ${l}`));
    result.webkit = page.version;
    return result;
  } finally {
    await page.close();
    server.close();
  }
}

// ---- report ---------------------------------------------------------------------------------------------

const ms = (v) => (v == null ? "–" : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const fmtX = (v) => (v == null ? "–" : `${v.toFixed(2)}×`);
const pct = (a, b) => (b ? `${(100 * a / b).toFixed(1)} %` : "–");
const EDGETAG = ["edgetag relaxed", "edgetag baseline"];
const TJS = "transformers.js";

function machine() {
  const lscpu = execFileSync("lscpu", { encoding: "utf8" });
  const field = (k) => new RegExp(`^${k}:\\s*(.+)$`, "m").exec(lscpu)?.[1].trim();
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  return { cpu: field("Model name"), cpus: field("CPU\\(s\\)"), mem: `${(totalmem() / 2 ** 30).toFixed(0)} GiB`, load };
}

const range = (a) => (a.length ? `${Math.min(...a)}–${Math.max(...a)} (mean ${(a.reduce((x, y) => x + y, 0) / a.length).toFixed(0)})` : "–");

function report(r, meta) {
  const engine = { node: `Node ${r.node}`, chromium: `Chromium ${r.chromium}`, webkit: `WebKitGTK ${r.webkit}` }[r.engine];
  const L = [`## edgetag vs transformers.js end to end — ${engine} (bench/e2e.mjs)`, ""];
  const busy = Math.max(Number(meta.loadStart.split(" ")[0]), Number(meta.loadEnd.split(" ")[0])) > 1.5;
  L.push(`Run ${meta.date} on ${meta.machine.cpu}, ${meta.machine.cpus} cores, ${meta.machine.mem}, Debian 12; load average ` +
    `${meta.loadStart} at the start and ${meta.loadEnd} at the end (the benchmark itself keeps one core busy)` +
    (busy ? " — **something else was running**, so absolute times are noisy" : "") + `. Read the ratios: the runtimes are ` +
    `interleaved in ${meta.cfg.rounds} rounds per row. Build: ${meta.build}.`, "");
  const where = {
    node: "in one Node process; transformers.js's Node build offers only onnxruntime-node (native code), so its hook for a " +
      "runtime the host provides (`globalThis[Symbol.for(\"onnxruntime\")]`) hands it the onnxruntime-web it depends on, " +
      "whose wasm backend then runs as in browsers (`device: \"auto\"`, `session_options.executionProviders: [\"wasm\"]`)",
    chromium: "in one headless Chromium page (`/usr/bin/chromium` via playwright-core, served from 127.0.0.1, not " +
      "cross-origin isolated); transformers.js's browser bundle (`dist/transformers.js`, onnxruntime-web's JSEP build inside), " +
      "`device: \"wasm\"`",
    webkit: "in one WebKitGTK page (MiniBrowser under Xvfb over WebDriver, bench/webkit.mjs; JavaScriptCore has no relaxed " +
      "SIMD); transformers.js's browser bundle, `device: \"wasm\"`",
  }[r.engine];
  L.push(`Text in → labels or entities out, tokenization included, ${where}. edgetag: its library (\`load()\` of the GGUF ` +
    `bytes, then \`model.classify(texts)\` / \`model.extract(text)\`, entities with character offsets; one wasm instance per ` +
    `runtime). transformers.js ${r.transformers}: \`pipeline("text-classification" | "token-classification", name, ` +
    `{dtype})\` on onnxruntime-web ${r.ort}, wasm backend, \`numThreads = 1\`, local files only (\`env.allowRemoteModels = ` +
    `false\`, \`env.localModelPath\`). Same weights: each model's f32 GGUF is taken back to a Hugging Face folder by ` +
    `\`bench/hf_export.py\` — config.json with id2label, tokenizer.json (the GGUF's WordPiece vocabulary and casing as ` +
    `BertTokenizer), onnx/model.onnx and onnx/model_quantized.onnx (onnxruntime \`quantize_dynamic\`'s int8 graph: ` +
    `DynamicQuantizeLinear + MatMulInteger, per-channel int8 weights; what \`dtype: "q8"\` loads); edgetag's int8 file is ` +
    `\`edgetag quantize --type i8\` of the same f32 file (per-channel int8). So edgetag int8 runs against transformers.js q8 ` +
    `and f32 against fp32. transformers.js batches by padding to the longest text with an attention mask; edgetag ` +
    `classifies a batch as one ragged batch and extracts text by text. Per row: median / min ms **per call** over ` +
    `${meta.cfg.runs} samples after warm-up (a sample: the row's calls back to back` +
    (r.engine === "node" ? "" : `, repeated to at least ${meta.cfg.sampleMs} ms and averaged: the page's clock is coarse`) +
    `); ×tjs = transformers.js median / edgetag median. Relaxed SIMD here: ${r.relaxedSimd ? "yes" : "**no** (the relaxed build is not run)"}.`);

  const summary = {};
  for (const m of r.models) {
    const s = m.shape, spec = MODELS[m.name];
    L.push("", `### ${m.name} — ${spec.about} (${m.task === "classify" ? "text classification" : "token classification"}: ` +
      `${s.nLayer} layers, hidden ${s.nEmbd}, ${s.nHead} heads, FFN ${s.nFF}, ${s.nLabels} labels, ${s.nVocab} tokens of vocabulary` +
      `${m.task === "extract" ? `, entities by the "${s.aggregation}" aggregation` : ""})`, "");
    L.push(`Tokens per text ([CLS] and [SEP] included): ${m.tokens.short.length} short texts ${range(m.tokens.short)}, ` +
      `${m.tokens.long.length} long ones ${range(m.tokens.long)}.`, "");
    const names = [...EDGETAG.filter((n) => m.groups.some((g) => g.runtimes[n])), TJS];
    const head = ["precision", "input", ...names.flatMap((n) => (n === TJS ? [`${n} ms`] : [`${n} ms`, "×tjs"]))];
    L.push(`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`);
    for (const g of m.groups)
      for (const row of g.rows) {
        const tjs = row.results[TJS]?.median;
        const cells = [`${g.precision} / ${g.peer}`, row.input];
        for (const n of names) {
          const x = row.results[n];
          if (!x) { cells.push("–", ...(n === TJS ? [] : ["–"])); continue; }
          cells.push(`${ms(x.median)} / ${ms(x.min)}`);
          if (n !== TJS) {
            cells.push(tjs ? `**${fmtX(tjs / x.median)}**` : "–");
            ((summary[`${n} ${g.precision}`] ??= [])).push(tjs / x.median);
          }
        }
        L.push(`| ${cells.join(" | ")} |`);
      }
    L.push("", "Load, file → ready (edgetag: read the GGUF, compile the wasm, `load()`; transformers.js: `pipeline()`, which " +
      "reads its files and creates the session — the process's first one also starts onnxruntime-web): " + m.groups.map((g) => `${g.precision} ` +
      Object.entries(g.runtimes).map(([n, x]) => `${n} ${ms(x.loadMs)} ms`).join(", ")).join("; ") + ".");
    const t = m.tokens;
    L.push("", `Agreement over the ${t.texts} texts (one call per text, before the timing)` + (m.task === "classify"
      ? "; Δp: where the labels agree, the largest difference of the top label's probability (softmax of the logits, without " +
        "edgetag's calibration temperature, so that both sides compute the same number):"
      : "; spans: entities (type, start, end) matched exactly, of each side's count, and their F1; tokens: per-token " +
        "arg-max labels:"), "",
      `- token ids: ${t.same}/${t.texts} texts identical (edgetag's tokenizer reading the GGUF against transformers.js's ` +
      `BertTokenizer reading tokenizer.json)` + (t.diffs.length ? `; first difference: ${JSON.stringify(t.diffs[0])}` : ""));
    for (const a of m.agreement) {
      if (m.task === "classify")
        L.push(`- ${a.a} vs ${a.b}: same label ${a.sameTexts}/${a.texts}, Δp ≤ ${a.maxDiffP.toExponential(1)}`);
      else
        L.push(`- ${a.a} vs ${a.b}: spans ${a.matched} of ${a.spansA} / ${a.spansB} ` +
          `(F1 ${a.spansA + a.spansB ? (2 * a.matched / (a.spansA + a.spansB)).toFixed(3) : "1"}), identical in ` +
          `${a.sameTexts}/${a.texts} texts; tokens ${a.sameTokens}/${a.tokens} (${pct(a.sameTokens, a.tokens)})`);
    }
  }
  if (r.models.some((m) => m.task === "extract"))
    L.push("", "transformers.js's token-classification pipeline returns tokens (label, score, index, word; no offsets, no " +
      "aggregation), so its entities are made here the way Hugging Face's Python pipeline aggregates (`groupEntities` in " +
      "bench/e2e-suite.mjs, with the model's own strategy: a word is a token and the `##` pieces after it, labelled by its " +
      "first token; B- starts an entity, I- of the same type continues it), with character offsets from edgetag's " +
      "tokenizer for the same ids (checked identical above). The timed transformers.js calls do not include that grouping. " +
      "A [UNK] that WordPiece produces is a token to edgetag but skipped by the pipeline (it decodes to nothing).");
  L.push("", "Median ×tjs over the rows above (all models): " + Object.entries(summary)
    .map(([k, v]) => `${k} ${fmtX([...v].sort((a, b) => a - b)[Math.floor(v.length / 2)])} (${fmtX(Math.min(...v))}–${fmtX(Math.max(...v))})`).join("; ") + ".");
  if (r.peakRss) L.push("", `Peak RSS of the Node process: ${(r.peakRss / 2 ** 20).toFixed(0)} MB.`);
  return L.join("\n");
}

function writeResults(engine, text) {
  writeResultsBlock(`bench/e2e.mjs ${engine}`, text);
  log(`wrote the ${engine} block of bench/RESULTS.md`);
}

// ---- main -----------------------------------------------------------------------------------------------

const args = parseArgs(process.argv.slice(2));
if (args.worker) {
  await nodeWorker(args);
} else {
  for (const m of args.models) if (!MODELS[m]) throw new Error(`unknown model ${m} (known: ${Object.keys(MODELS).join(", ")})`);
  const missing = ["build/edgetag.wasm", "build/edgetag-relaxed.wasm", "bench/e2e-texts.json",
    ...args.models.flatMap((m) => [...Object.values(MODELS[m].files), `build/e2e/hf/${MODELS[m].hf}/onnx/model_quantized.onnx`])]
    .filter((f) => !existsSync(join(ROOT, f)));
  if (missing.length) throw new Error(`missing ${missing.join(", ")}: run make bench-e2e (it makes them)`);
  // Every engine runs the same wasm even if build/ is rebuilt meanwhile: a snapshot taken now.
  mkdirSync(join(ROOT, "build/bench/e2e"), { recursive: true });
  copyFileSync(join(ROOT, "build/edgetag.wasm"), join(ROOT, WASM_SNAPSHOT.baseline));
  copyFileSync(join(ROOT, "build/edgetag-relaxed.wasm"), join(ROOT, WASM_SNAPSHOT.relaxed));
  const texts = JSON.parse(readFileSync(join(ROOT, "bench/e2e-texts.json"), "utf8"));
  const cfg = { models: args.models.map((name) => ({ name, ...MODELS[name] })), texts: { classify: texts.classify, extract: texts.extract },
    runs: args.runs, rounds: args.rounds, sampleMs: args.sampleMs, wasmFiles: WASM_SNAPSHOT };
  const git = (a) => spawnSync("git", a, { cwd: ROOT, encoding: "utf8" }).stdout.trim();
  const build = `edgetag at commit ${git(["rev-parse", "--short", "HEAD"])}` +
    (git(["status", "--porcelain", "src", "include", "web"]) ? " plus uncommitted changes in src/include/web" : "") +
    `, wasm built ${new Date(statSync(join(ROOT, "build/edgetag.wasm")).mtimeMs).toISOString().slice(0, 16).replace("T", " ")} UTC`;
  for (const engine of args.engines) {
    const meta = { cfg: { runs: args.runs, rounds: args.rounds, sampleMs: args.sampleMs }, build, machine: machine(),
      date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC" };
    meta.loadStart = meta.machine.load;
    let r;
    if (engine === "node") r = await spawnNodeWorker(cfg);
    else if (engine === "chromium") r = await chromiumRun(cfg);
    else if (engine === "webkit") {
      try {
        r = await webkitRun(cfg);
      } catch (e) {
        r = { skipped: `the run failed: ${e.message}` };
      }
      if (r.skipped) {
        log(`webkit: skipped — ${r.skipped}`);
        continue;
      }
    } else throw new Error(`unknown engine ${engine}`);
    meta.loadEnd = machine().load;
    mkdirSync(join(ROOT, "build/bench"), { recursive: true });
    writeFileSync(join(ROOT, `build/bench/e2e-${engine}.json`), JSON.stringify({ r, meta }));
    const text = report(r, meta);
    console.log(text + "\n");
    if (args.write) writeResults(engine, text);
  }
}
