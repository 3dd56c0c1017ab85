// peers.mjs — can the peers run where edgetag's edge service runs? onnxruntime-web 1.30 (the engine under
// transformers.js in browsers and workers) inside a real workerd isolate, as Cloudflare Workers run it
// (bench/peers/ort-worker.js): each way its API offers to give it its wasm, in a fresh isolate; then, for the
// one workaround that runs and for edgetag on the same weights (bench/peers/edgetag-worker.js), the start,
// one inference of 64 tokens, the same closed-loop load (the two interleaved), and the workerd process's memory.
//
//   node bench/peers.mjs [--seconds 10] [--clients 16]   (needs build/onnx/minilm/model-int8.onnx: make bench)
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { mergeLoads, runLoad } from "./load.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = `${root}build/peers`;
const ORT_WASM = "node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm";
const ONNX = "build/onnx/minilm/model-int8.onnx";
const GGUF = "build/ref/minilm-i8.gguf";
export const ORT_ATTEMPTS = ["default", "wasmBinary", "compiledModule", "wasmPaths", "patchedInstantiate"];

const rssOf = (pid) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN) * 1024;

/** workerd on `config`, on a random port: {base, pid, startMs, stop()}. */
async function workerd(config) {
  const t0 = performance.now();
  const child = spawn(`${root}node_modules/.bin/workerd`, ["serve", config, "--control-fd", "3", "--socket-addr", "http=127.0.0.1:0"],
    { stdio: ["ignore", "ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => { stderr += d; });
  const exited = new Promise((r) => child.on("exit", (code) => r(code)));
  const stop = async () => { child.kill("SIGTERM"); await exited; };
  try {
    const port = await Promise.race([
      new Promise((resolve) => child.stdio[3].on("data", (d) => {
        const m = /"port":(\d+)/.exec(String(d));
        if (m) resolve(Number(m[1]));
      })),
      exited.then((code) => { throw new Error(`workerd exited (${code}): ${stderr.trim().slice(-600)}`); }),
      new Promise((_, reject) => setTimeout(() => reject(new Error("workerd did not start in 60 s")), 60_000)),
    ]);
    return { base: `http://127.0.0.1:${port}`, pid: child.pid, startMs: performance.now() - t0, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function getJson(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(120_000) });
  return res.json();
}

function capnp(main, modules) {
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .w), (name = "internet", network = (allow = ["public"])) ],
  sockets = [ (name = "http", address = "127.0.0.1:0", http = (), service = "main") ],
);
const w :Workerd.Worker = (
  modules = [
    (name = "${main}", esModule = embed "${main}"),
${modules.map(([name, kind, file]) => `    (name = "${name}", ${kind} = embed "../../${file}"),`).join("\n")}
  ],
  compatibilityDate = "2026-11-01",
  globalOutbound = "internet",
);
`;
}

/** Bundles the two peer workers and writes their configs under build/peers/. */
async function prepare() {
  mkdirSync(out, { recursive: true });
  for (const [entry, external] of [["ort-worker.js", ["ort-wasm-simd-threaded.wasm", "ort-wasm-bytes.bin", "model-int8.onnx"]],
    ["edgetag-worker.js", ["edgetag-relaxed.wasm", "minilm-i8.gguf", "node:*"]]]) // web/ reaches node: only in Node
    await build({ entryPoints: [`${root}bench/peers/${entry}`], bundle: true, format: "esm", platform: "browser", outfile: `${out}/${entry}`,
      external, logLevel: "error" });
  writeFileSync(`${out}/ort.capnp`, capnp("ort-worker.js", [["ort-wasm-simd-threaded.wasm", "wasm", ORT_WASM],
    ["ort-wasm-bytes.bin", "data", ORT_WASM], ["model-int8.onnx", "data", ONNX]]));
  writeFileSync(`${out}/edgetag.capnp`, capnp("edgetag-worker.js", [["edgetag-relaxed.wasm", "wasm", "build/edgetag-relaxed.wasm"],
    ["minilm-i8.gguf", "data", GGUF]]));
}

/** Starts a peer worker and initializes it (an attempt for ORT): {result, server} (server null when it failed). */
async function trial(config, initPath) {
  let server;
  try {
    server = await workerd(config);
    const idle = rssOf(server.pid);
    const init = await getJson(`${server.base}${initPath}`);
    const result = { ...init, workerdStartMs: server.startMs, rssIdle: idle };
    if (init.ok) return { result, server };
    await server.stop();
    return { result, server: null };
  } catch (e) {
    await server?.stop();
    return { result: { ok: false, error: e.message }, server: null };
  }
}

/**
 * Every ORT attempt, then edgetag: [{peer, name, ok, error | initMs, runMs, load, rss…}]. The ones that run are
 * measured side by side, interleaved (single runs alternately, then the load in three slices each, in turn),
 * so that the machine's drift falls on both alike.
 */
export async function runPeers({ seconds = 10, clients = 16 } = {}) {
  for (const f of [ONNX, GGUF])
    if (!existsSync(`${root}${f}`)) return [{ name: "setup", ok: false, error: `${f} is missing: run make bench once (it builds the reference models)` }];
  await prepare();
  const results = [], running = [];
  for (const a of ORT_ATTEMPTS) {
    const { result, server } = await trial(`${out}/ort.capnp`, `/init?attempt=${a}`);
    results.push({ peer: "onnxruntime-web", name: a, ...result });
    if (server) running.push({ result: results.at(-1), server });
  }
  const { result, server } = await trial(`${out}/edgetag.capnp`, "/init");
  results.push({ peer: "edgetag", name: "wasmModule", ...result });
  if (server) running.push({ result: results.at(-1), server });
  try {
    const single = running.map(() => []);
    for (let i = 0; i < 11; i++)
      for (const [k, { server: s }] of running.entries()) single[k].push((await getJson(`${s.base}/run`)).ms);
    const slices = running.map(() => []);
    for (let slice = 0; slice < 3; slice++)
      for (const [k, { server: s }] of running.entries())
        slices[k].push(await runLoad(s.base, { run: { method: "GET", path: "/run" } }, { seconds: seconds / 3, clients }));
    for (const [k, { result: r, server: s }] of running.entries()) {
      r.runMs = single[k].sort((a, b) => a - b)[5];
      r.load = mergeLoads(slices[k], "run");
      r.rssLoaded = rssOf(s.pid);
      r.wasmBytesLoaded = (await getJson(`${s.base}/run`)).wasmBytes;
    }
  } finally {
    for (const { server: s } of running) await s.stop();
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { seconds: { type: "string", default: "10" }, clients: { type: "string", default: "16" } } });
  for (const r of await runPeers({ seconds: Number(values.seconds), clients: Number(values.clients) })) console.log(JSON.stringify(r));
}
