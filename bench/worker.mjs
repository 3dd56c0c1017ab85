// worker.mjs — `make bench-worker`: the edge service (worker/) under a bounded closed-loop load on loopback,
// on workerd (the committed worker/config.capnp: relaxed wasm as a compiled module, the three int8 models as
// Data modules), Node 24 (worker/node.js) and Deno (worker/deno.js): cold start (process start → listening →
// first answer, which loads the model), first-request latency, then `clients` connections for `seconds` of
// mixed requests (one text, a batch of 8, maintenance entities, PII) with bearer auth on: requests/s and
// p50/p99 per endpoint, errors (must be 0), memory. Then bench/peers.mjs: onnxruntime-web in the same
// workerd. Writes its block of bench/RESULTS.md.
//
//   node bench/worker.mjs [--seconds 30] [--clients 16] [--cold 3] [--runtimes workerd,node,deno] [--no-peers] [--no-write]
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { once, runLoad } from "./load.mjs";
import { runPeers } from "./peers.mjs";
import { writeResultsBlock } from "./results.mjs";
import { call, path, startDeno, startNode, startWorkerd } from "../tests/worker/harness.mjs";
import { connectInspector, rss } from "../tests/worker/inspector.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const { values: args } = parseArgs({ options: {
  seconds: { type: "string", default: "30" }, clients: { type: "string", default: "16" }, cold: { type: "string", default: "3" },
  runtimes: { type: "string", default: "workerd,node,deno" }, "no-peers": { type: "boolean", default: false },
  "no-write": { type: "boolean", default: false }, "peer-seconds": { type: "string", default: "10" },
} });
const SECONDS = Number(args.seconds), CLIENTS = Number(args.clients), COLD = Number(args.cold);
const TOKEN = "bench-token-3c9e";
const ENV = { EDGETAG_AUTH_TOKEN: TOKEN, EDGETAG_LOG: "warn", EDGETAG_STATS_FLUSH_SECONDS: "-1" };
const log = (...a) => console.error("[bench-worker]", ...a);

const INTENTS = ["book a table for two at 7pm tonight", "what's the weather like in Paris tomorrow", "my card got declined at the store",
  "set an alarm for 6am", "how tall is the eiffel tower", "transfer $200 from checking to savings", "play some jazz in the kitchen",
  "what is my credit score", "remind me to call mom at noon", "how many calories are in an avocado"];
const NOTES = ["replace leaking hydraulic pump seal on excavator 12", "engine oil pressure low, check filter and hoses",
  "left track tensioner worn, adjust and grease", "coolant leak at radiator hose clamp, tightened", "bucket teeth missing, replace all five"];
const PII = ["Hi, I'm Anna Kowalski from Berlin; call me on 555-867-5309", "Send the invoice to john.miller@example.com by Friday",
  "Dr. Chen lives at 42 Elm Street, Springfield", "My card 4111 1111 1111 1111 was charged twice", "Meet Priya Natarajan at the Chicago office"];
const auth = { authorization: `Bearer ${TOKEN}` };
const KINDS = {
  "classify (1 text)": { method: "POST", path: "/v1/classify", headers: auth, body: { model: "intent-clinc", text: INTENTS[0] } },
  "classify (8 texts)": { method: "POST", path: "/v1/classify", headers: auth, body: { model: "intent-clinc", texts: INTENTS.slice(0, 8) } },
  "extract (maint-ner)": { method: "POST", path: "/v1/extract", headers: auth, body: { model: "maint-ner", text: NOTES[0] } },
  "extract (pii-ner)": { method: "POST", path: "/v1/extract", headers: auth, body: { model: "pii-ner", text: PII[0] } },
};
/** The load varies its texts: each kind cycles through its list by the request's number. */
let counter = 0;
const varied = Object.fromEntries(Object.entries(KINDS).map(([k, v]) => [k, {
  ...v, get body() {
    const i = counter++;
    if (v.body.texts) return { ...v.body, texts: INTENTS.slice(i % 3, (i % 3) + 8) };
    const list = v.body.model === "intent-clinc" ? INTENTS : v.body.model === "maint-ner" ? NOTES : PII;
    return { ...v.body, text: list[i % list.length] };
  },
}]));

const STARTERS = {
  workerd: (inspector) => startWorkerd(path("worker/config.capnp"), { env: ENV, inspector }),
  node: () => startNode({ env: ENV }),
  deno: () => startDeno({ env: ENV }),
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Cold starts: process start → listening, first classify (engine + model load), first extract (another model). */
async function coldStarts(runtime) {
  const runs = [];
  for (let i = 0; i < COLD; i++) {
    const t0 = performance.now();
    const server = await STARTERS[runtime](false);
    const listen = performance.now() - t0;
    const first = await once(server.base, KINDS["classify (1 text)"]);
    const answered = performance.now() - t0;
    const second = await once(server.base, KINDS["classify (1 text)"]);
    const extract = await once(server.base, KINDS["extract (maint-ner)"]);
    await server.stop();
    if (first.status !== 200 || extract.status !== 200) throw new Error(`${runtime}: cold request failed (${first.status}, ${extract.status})`);
    runs.push({ listen, first: first.ms, answered, second: second.ms, extract: extract.ms });
  }
  const m = (k) => median(runs.map((r) => r[k]));
  return { runs, listen: m("listen"), first: m("first"), answered: m("answered"), second: m("second"), extract: m("extract") };
}

/** 300 requests of every kind: JIT tiers, the relaxed build's kernel choice. */
async function warm(server) {
  for (let i = 0; i < 300; i++) await once(server.base, Object.values(varied)[i % 4]);
}

/** The load on one warm process, with its wasm memory before and after (no inspector: it costs ~20 %). */
async function underLoad(runtime) {
  const server = await STARTERS[runtime](false);
  try {
    await warm(server);
    const health = async () => (await call(server.base, "/v1/health", { token: TOKEN })).body;
    const before = await health();
    const load = await runLoad(server.base, varied, { clients: CLIENTS, seconds: SECONDS });
    const after = await health();
    const stats = (await call(server.base, "/v1/stats", { token: TOKEN })).body;
    return {
      load, engine: after.engine, wasmBefore: before.memory.wasmBytes, wasmAfter: after.memory.wasmBytes, rss: rss(server.pid),
      serverErrors: Object.entries(stats.requests.byStatus).filter(([s]) => s !== "200").reduce((n, [, c]) => n + c, 0),
    };
  } finally {
    await server.stop();
  }
}

/** workerd's isolate (wasm + heap + array buffers) after the warm-up, through the inspector. */
async function isolateMemory() {
  const server = await STARTERS.workerd(true);
  const inspector = await connectInspector(server.ports.inspector);
  try {
    await warm(server);
    const wasm = (await call(server.base, "/v1/health", { token: TOKEN })).body.memory.wasmBytes;
    return { wasm, ...(await inspector.heap()) };
  } finally {
    await inspector.close();
    await server.stop();
  }
}

// ---- the report -------------------------------------------------------------------------------------------

const ms = (x) => (x === null || x === undefined ? "–" : x < 10 ? x.toFixed(1) : x.toFixed(0));
const MB = (b) => (b / 2 ** 20).toFixed(1);

function report(results, peers, meta) {
  const out = [];
  out.push(`## Edge service under load — workerd, Node, Deno (bench/worker.mjs, \`make bench-worker\`)`, "");
  out.push(`${meta.date}, commit ${meta.commit}. ${CLIENTS} closed-loop clients on loopback for ${SECONDS} s per runtime, after 300 warm-up ` +
    `requests; the four request kinds in turn from each client, texts varied; bearer auth on; the client shares the 2 cores with the ` +
    `server, and the machine with other work (load average ${meta.loadBefore} before, ${meta.loadAfter} after: compare runtimes, ` +
    `not runs). Cold start: the median of ${COLD} fresh processes. workerd ${meta.workerd}, Node ${meta.node}, Deno ${meta.deno}.`, "");
  out.push("| runtime | req/s | errors | " + Object.keys(KINDS).map((k) => `${k} p50 / p99 ms`).join(" | ") + " |");
  out.push("|---|---|---|" + Object.keys(KINDS).map(() => "---").join("|") + "|");
  for (const [rt, r] of Object.entries(results)) {
    const l = r.load.load;
    out.push(`| ${rt} | ${l.rps.toFixed(0)} | ${l.errors + r.load.serverErrors} | ` +
      Object.keys(KINDS).map((k) => `${ms(l.byKind[k].p50)} / ${ms(l.byKind[k].p99)}`).join(" | ") + " |");
  }
  out.push("", "| runtime | process start → listening | first classify (engine + model load) | start → first answer | " +
    "second classify | first extract (another model) | engine | wasm memory | memory |", "|---|---|---|---|---|---|---|---|---|");
  for (const [rt, r] of Object.entries(results)) {
    const c = r.cold, L = r.load;
    const I = r.isolate;
    const mem = I ? `isolate ${MB(I.wasm + I.usedSize + I.backingStorageSize)} MB (wasm ${MB(I.wasm)} + heap ${MB(I.usedSize)} + ` +
      `array buffers ${MB(I.backingStorageSize)}, after the warm-up); process RSS ${MB(L.rss.rss)} MB` : `process RSS ${MB(L.rss.rss)} MB`;
    out.push(`| ${rt} | ${ms(c.listen)} ms | ${ms(c.first)} ms | ${ms(c.answered)} ms | ${ms(c.second)} ms | ${ms(c.extract)} ms | ` +
      `${L.engine.flavour}, ${L.engine.kernels} | ${MB(L.wasmBefore)} → ${MB(L.wasmAfter)} MB | ${mem} |`);
  }
  if (peers) {
    out.push("", "### The peers in the same workerd (bench/peers.mjs)", "");
    out.push("onnxruntime-web 1.30's wasm backend (one thread; the engine transformers.js runs in browsers and workers) in a workerd " +
      "isolate, given its wasm each way its API offers, each in a fresh isolate, with the MiniLM-L6-H384 int8 ONNX model of " +
      "`make bench`; then edgetag on the same weights (build/ref/minilm-i8.gguf), 64 tokens per run:", "");
    out.push("| engine | how the wasm is given | result | init (session / model) | one run, 64 tokens | load: req/s, p50 / p99 ms | wasm memory | workerd RSS |",
      "|---|---|---|---|---|---|---|---|");
    for (const p of peers) {
      const l = p.load?.byKind?.run;
      out.push(`| ${p.peer ?? "–"} | ${p.name} | ${p.ok ? "runs" : `fails: ${String(p.error).replace(/\|/g, "\\|").slice(0, 220)}`} | ` +
        `${p.ok ? `${ms(p.initMs)} ms` : "–"} | ${p.runMs !== undefined ? `${ms(p.runMs)} ms` : "–"} | ` +
        `${l ? `${p.load.rps.toFixed(1)}, ${ms(l.p50)} / ${ms(l.p99)}${p.load.errors ? `, ${p.load.errors} errors` : ""}` : "–"} | ` +
        `${p.wasmBytesLoaded ? `${MB(p.wasmBytesLoaded)} MB` : "–"} | ${p.rssLoaded ? `${MB(p.rssLoaded)} MB` : p.rssIdle ? `${MB(p.rssIdle)} MB idle` : "–"} |`);
    }
  }
  return out.join("\n");
}

function writeBlock(text) {
  writeResultsBlock("bench/worker.mjs", text);
  log("wrote its block of bench/RESULTS.md");
}

// ---- main -----------------------------------------------------------------------------------------------

const version = async (cmd, a) => {
  const { execFileSync } = await import("node:child_process");
  try { return execFileSync(cmd, a, { encoding: "utf8" }).trim().split("\n")[0]; } catch { return "?"; }
};
const meta = {
  date: new Date().toISOString().slice(0, 16).replace("T", " ") + " UTC",
  commit: (await version("git", ["-C", root, "rev-parse", "--short", "HEAD"])) +
    ((await version("git", ["-C", root, "status", "--porcelain", "--", "worker", "web", "bench", "tests/worker"])) ? " with uncommitted changes" : ""),
  workerd: (await version(path("node_modules/.bin/workerd"), ["--version"])).replace(/^workerd /, ""),
  node: process.versions.node, deno: (await version(path("node_modules/.bin/deno"), ["--version"])).replace(/^deno (\S+).*/, "$1"),
  loadBefore: loadavg()[0].toFixed(1),
};
const results = {};
for (const rt of args.runtimes.split(",")) {
  log(`${rt}: ${COLD} cold starts`);
  const cold = await coldStarts(rt);
  log(`${rt}: ${CLIENTS} clients for ${SECONDS} s`);
  const load = await underLoad(rt);
  log(`${rt}: ${load.load.rps.toFixed(0)} req/s, ${load.load.errors} errors; cold ${ms(cold.answered)} ms to the first answer`);
  results[rt] = { cold, load, isolate: rt === "workerd" ? await isolateMemory() : null };
}
meta.loadAfter = loadavg()[0].toFixed(1);
let peers = null;
if (!args["no-peers"]) {
  log("peers: onnxruntime-web and edgetag in workerd");
  peers = await runPeers({ seconds: Number(args["peer-seconds"]), clients: CLIENTS });
}
const text = report(results, peers, meta);
console.log(text);
writeFileSync(path("build/bench-worker.json"), JSON.stringify({ meta, results, peers }, null, 1));
if (!args["no-write"]) writeBlock(text);
const errors = Object.values(results).reduce((n, r) => n + r.load.load.errors + r.load.serverErrors, 0);
if (errors) {
  log(`${errors} errors under load`);
  process.exitCode = 1;
}
