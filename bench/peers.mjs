// peers.mjs — can the peers run where edgetag's edge service runs? onnxruntime-web 1.30 (the engine under
// transformers.js in browsers and workers) inside a real workerd isolate, as Cloudflare Workers run it
// (bench/peers/ort-worker.js): each way its API offers to give it its wasm, in a fresh isolate; then, for the
// one workaround that runs and for edgetag on the same weights (bench/peers/edgetag-worker.js), the start,
// one inference of 64 tokens, the same closed-loop load, and the workerd process's memory.
//
//   node bench/peers.mjs [--seconds 10] [--clients 16]   (needs build/onnx/minilm/model-int8.onnx: make bench)
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { runLoad } from "./load.mjs";

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

/** Starts a peer worker, initializes it (an attempt for ORT), and, when that worked, loads it: one result. */
async function trial(config, initPath, { seconds, clients, load }) {
  let server;
  try {
    server = await workerd(config);
    const idle = rssOf(server.pid);
    const init = await getJson(`${server.base}${initPath}`);
    const result = { ...init, workerdStartMs: server.startMs, rssIdle: idle };
    if (!init.ok || !load) return result;
    const single = [];
    for (let i = 0; i < 10; i++) single.push((await getJson(`${server.base}/run`)).ms);
    result.runMs = single.sort((a, b) => a - b)[5];
    result.load = await runLoad(server.base, { run: { method: "GET", path: "/run" } }, { seconds, clients });
    result.rssLoaded = rssOf(server.pid);
    result.wasmBytesLoaded = (await getJson(`${server.base}/run`)).wasmBytes;
    return result;
  } catch (e) {
    return { ok: false, error: e.message };
  } finally {
    await server?.stop();
  }
}

/** Every ORT attempt, then edgetag: [{name, ok, error | initMs, runMs, load, rss…}]. */
export async function runPeers({ seconds = 10, clients = 16 } = {}) {
  for (const f of [ONNX, GGUF])
    if (!existsSync(`${root}${f}`)) return [{ name: "setup", ok: false, error: `${f} is missing: run make bench once (it builds the reference models)` }];
  await prepare();
  const results = [];
  for (const a of ORT_ATTEMPTS)
    results.push({ peer: "onnxruntime-web", name: a, ...await trial(`${out}/ort.capnp`, `/init?attempt=${a}`, { seconds, clients, load: a === "patchedInstantiate" }) });
  results.push({ peer: "edgetag", name: "wasmModule", ...await trial(`${out}/edgetag.capnp`, "/init", { seconds, clients, load: true }) });
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { seconds: { type: "string", default: "10" }, clients: { type: "string", default: "16" } } });
  for (const r of await runPeers({ seconds: Number(values.seconds), clients: Number(values.clients) })) console.log(JSON.stringify(r));
}
