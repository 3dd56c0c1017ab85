// layers.test.mjs — the house's rules of dependency, read from the sources themselves:
//   - C: each file of src/ sits on a layer (kernels at the bottom, the CLI at the top) and includes only
//     headers of its own layer or below; the kernels include nothing of src/ outside src/kernels/, and the
//     tokenizer nothing of the model.
//   - web/: each module sits on a layer and imports only modules of lower layers (edgetag.js → release/ →
//     load.js → model.js → engine.js → abi.js), so nothing imports upward and there are no cycles.
//   - tools/ and tests/py/: Python imports its siblings as packages (python3 -m tools.…), never by editing
//     sys.path.
//   - no hand-written source file runs past 600 lines.
// A new file must be given its layer here: the tests fail on a file they do not know.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { dirname, join, normalize } from "node:path";
import { path, root } from "./helpers.mjs";

/** Every file under `dir` (relative to the repository), recursively, whose name matches `pattern`. */
function files(dir, pattern) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(path(d), { withFileTypes: true })) {
      const rel = `${d}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else if (pattern.test(e.name)) out.push(rel);
    }
  };
  walk(dir);
  return out.sort();
}

// ---- C --------------------------------------------------------------------------------------------------

/** The layer of each C file of src/, by its path without extension: a file includes only its layer or below. */
const C_LAYERS = [
  [0, /^src\/kernels\//],                                   // kernels: math on arrays, nothing of models or text
  [1, /^src\/(unicode|unicode_data|internal|status|memory)$/], // Unicode tables; status strings and messages; the memory cap
  [2, /^src\/(tokenizer|gguf)$/],                           // WordPiece over a vocabulary; the GGUF reader
  [3, /^src\/(model|model_tensors|model_vocab|model_file|quantize)$/], // the model: binding, vocabulary, files
  [4, /^src\/context$/],                                    // the encoder: arena and forward pass
  [5, /^src\/(tagging|decode|extract)$/],                   // text in, labels out
  [6, /^src\/cli\//],                                       // the CLI: the public API only
];
/** Includes that break the layering on purpose, each with its reason. */
const C_EXCEPTIONS = new Map([
  ["src/context.c → src/tagging.h", "the context owns its tagging block: it creates and frees it with itself"],
]);

function cLayer(file) {
  const stem = file.replace(/\.[ch]$/, "");
  const hit = C_LAYERS.find(([, re]) => re.test(stem));
  return hit ? hit[0] : null;
}

/** The project headers a C file includes ("…" includes), resolved as the compiler would (-Iinclude -Isrc). */
function cIncludes(file) {
  const text = readFileSync(path(file), "utf8");
  return [...text.matchAll(/^\s*#\s*include\s+"([^"]+)"/gm)].map(([, name]) => {
    for (const base of [dirname(file), "src", "include"]) {
      const p = normalize(join(base, name));
      if (existsSync(path(p))) return p;
    }
    throw new Error(`${file} includes "${name}", which is nowhere on the include path`);
  });
}

test("C: every file of src/ includes only headers of its own layer or below", () => {
  const problems = [];
  for (const file of files("src", /\.[ch]$/)) {
    const mine = cLayer(file);
    if (mine === null) { problems.push(`${file} has no layer: give it one in tests/js/layers.test.mjs`); continue; }
    for (const inc of cIncludes(file)) {
      if (inc === "include/edgetag.h") continue; // the public API: types and status codes every layer uses
      const theirs = cLayer(inc);
      if (theirs === null) problems.push(`${file} includes ${inc}, which has no layer`);
      else if (theirs > mine && !C_EXCEPTIONS.has(`${file} → ${inc}`))
        problems.push(`${file} (layer ${mine}) includes ${inc} (layer ${theirs})`);
    }
  }
  assert.deepEqual(problems, []);
});

test("C: the kernels include nothing of src/ outside src/kernels/, the tokenizer nothing of the model", () => {
  for (const file of files("src/kernels", /\.[ch]$/))
    for (const inc of cIncludes(file))
      assert.ok(inc.startsWith("src/kernels/") || inc === "include/edgetag.h", `${file} includes ${inc}`);
  for (const file of ["src/tokenizer.c", "src/tokenizer.h"])
    for (const inc of cIncludes(file))
      assert.ok(!/\/(model|context|tagging|gguf)\.h$/.test(inc), `${file} includes ${inc}`);
});

test("C: the layering rules can fail (a kernel including model.h, the tokenizer including context.h)", () => {
  assert.equal(cLayer("src/kernels/gemm_q8.c"), 0);
  assert.ok(cLayer("src/model.h") > cLayer("src/kernels/kernels.h"));
  assert.ok(cLayer("src/context.h") > cLayer("src/tokenizer.c"));
  assert.equal(cLayer("src/new_thing.c"), null);
});

// ---- web/ -----------------------------------------------------------------------------------------------

/** The layer of each module of web/: a module imports only modules of lower layers. */
const WEB_LAYERS = {
  "web/errors.js": 0, "web/abi.js": 0, "web/runtime.js": 0, "web/abort.js": 0, "web/utf8.js": 0,
  "web/options.js": 1, "web/idb.js": 1,
  "web/engine.js": 2, "web/source.js": 2, "web/cache.js": 2, "web/redact.js": 2, "web/text.js": 2, "web/pii-finder.js": 2,
  "web/escalate/resilience.js": 2, "web/escalate/stats.js": 2,
  "web/model.js": 3, "web/worker-client.js": 3, "web/escalate/adapters.js": 3,
  "web/load.js": 4, "web/escalate/policy.js": 4,
  "web/worker-main.js": 5, "web/escalate/tagger.js": 5,
  "web/escalate/index.js": 6,
  // release/: signed release channels on top of load(), and telemetry.
  "web/release/manifest.js": 2, "web/release/rollout.js": 2, "web/release/store.js": 2, "web/release/smoke.js": 2,
  "web/release/verify.js": 3, "web/release/download.js": 3, "web/release/tagger.js": 3, "web/release/telemetry.js": 3,
  "web/release/install.js": 5, "web/release/updater.js": 6, "web/release/channel.js": 7, "web/release/index.js": 8,
  // capture/: answered escalations recorded, with consent, for tools/distill.
  "web/capture/record.js": 1, "web/capture/stores.js": 2, "web/capture/consent.js": 3, "web/capture/index.js": 4,
  "web/edgetag.js": 9,
};

/** The web/ modules a module imports or re-exports (static and dynamic imports with a literal path). */
function jsImports(file) {
  const text = readFileSync(path(file), "utf8");
  const specs = [
    ...text.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+["']([^"']+)["']/gms),
    ...text.matchAll(/^\s*import\s+["']([^"']+)["']/gm),
    ...text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g),
  ].map((m) => m[1]);
  return specs.filter((s) => s.startsWith(".")).map((s) => normalize(join(dirname(file), s)));
}

test("web/: every module imports only modules of lower layers", () => {
  const modules = files("web", /\.js$/);
  assert.deepEqual(modules.filter((m) => !(m in WEB_LAYERS)), [], "modules without a layer in tests/js/layers.test.mjs");
  const problems = [];
  for (const m of modules)
    for (const dep of jsImports(m)) {
      if (!(dep in WEB_LAYERS)) problems.push(`${m} imports ${dep}, which is not a module of web/`);
      else if (WEB_LAYERS[dep] >= WEB_LAYERS[m]) problems.push(`${m} (layer ${WEB_LAYERS[m]}) imports ${dep} (layer ${WEB_LAYERS[dep]})`);
    }
  assert.deepEqual(problems, []);
});

test("web/: the import reader sees static, re-exported and dynamic imports", () => {
  const edges = jsImports("web/edgetag.js");
  assert.ok(edges.includes("web/release/index.js") && edges.includes("web/model.js"), edges.join(", "));
  assert.ok(jsImports("web/release/channel.js").includes("web/load.js"));
  assert.ok(jsImports("web/model.js").includes("web/abi.js"));
  assert.ok(jsImports("web/engine.js").includes("web/abi.js"));
});

// ---- Python ---------------------------------------------------------------------------------------------

test("tools/ and tests/py/ import as packages: no sys.path edits", () => {
  const offenders = [...files("tools", /\.py$/), ...files("tests/py", /\.py$/), ...files("bench", /\.py$/)]
    .filter((f) => /sys\.path\.(insert|append)|sys\.path\s*=|sys\.path\s*\+=/.test(readFileSync(path(f), "utf8")));
  assert.deepEqual(offenders, []);
});

// ---- size -----------------------------------------------------------------------------------------------

test("no hand-written source file is over 600 lines", () => {
  const tracked = execFileSync("git", ["ls-files", "-co", "--exclude-standard"], { cwd: root, encoding: "utf8" })
    .split("\n").filter((f) => /\.(c|h|js|mjs|ts|py)$/.test(f));
  const generated = /^src\/unicode_data\.c$|^tests\/fixtures\//; // a generated table; test data
  const long = tracked.filter((f) => !generated.test(f) && existsSync(path(f)))
    .map((f) => [f, readFileSync(path(f), "utf8").split("\n").length - 1])
    .filter(([, n]) => n > 600).map(([f, n]) => `${f}: ${n} lines`);
  assert.deepEqual(long, []);
});
