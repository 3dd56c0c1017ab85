// ort-worker.js — onnxruntime-web 1.30 (its wasm backend, one thread: the engine under transformers.js in
// browsers and workers) inside a Cloudflare Workers isolate (workerd). GET /init?attempt=NAME tries one way
// of giving ORT its wasm and creates the session (the answer: its time, or the error); GET /run then runs
// the model once on 64 token ids. Bundled by bench/peers.mjs (esbuild) and served by workerd with the ONNX
// model (MiniLM-L6-H384 shape, int8, the weights bench/run.mjs compares) and ORT's .wasm as modules.
import * as ort from "onnxruntime-web/wasm";
import ortWasmModule from "ort-wasm-simd-threaded.wasm";   // CompiledWasm: what Workers allow
import ortWasmBytes from "ort-wasm-bytes.bin";             // the same file as bytes (a Data module)
import model from "model-int8.onnx";                        // Data module

const ATTEMPTS = {
  // The default: ORT finds its .wasm next to its script (import.meta.url) and fetches it.
  default: () => {},
  // The bytes handed over: ORT compiles them (WebAssembly.instantiate(bytes)).
  wasmBinary: () => { ort.env.wasm.wasmBinary = ortWasmBytes; },
  // The module Workers compiled at deploy time, passed where ORT takes bytes.
  compiledModule: () => { ort.env.wasm.wasmBinary = ortWasmModule; },
  // A URL: ORT imports its loader from there and fetches the .wasm.
  wasmPaths: () => { ort.env.wasm.wasmPaths = "https://cdn.jsdelivr.net/npm/onnxruntime-web@1.30.0/dist/"; },
  // A workaround no API offers: WebAssembly.instantiate patched to answer ORT's bytes with the module
  // compiled at deploy time (what a determined user could ship).
  patchedInstantiate: () => {
    ort.env.wasm.wasmBinary = ortWasmBytes;
    const original = WebAssembly.instantiate;
    WebAssembly.instantiate = (source, imports) => source instanceof WebAssembly.Module ? original(source, imports)
      : original(ortWasmModule, imports).then((instance) => {
        memory = findMemory(imports) ?? findMemory({ exports: instance.exports });
        return { instance, module: ortWasmModule };
      });
  },
};

let memory = null; // ORT's wasm memory, when the workaround sees it
function findMemory(namespaces) {
  for (const ns of Object.values(namespaces ?? {}))
    for (const v of Object.values(ns ?? {})) if (v instanceof WebAssembly.Memory) return v;
  return null;
}

let session = null;
const IDS = BigInt64Array.from({ length: 64 }, (_, i) => BigInt(i === 0 ? 101 : i === 63 ? 102 : 1000 + i * 37));

async function run() {
  const feeds = {};
  for (const n of session.inputNames)
    feeds[n] = new ort.Tensor("int64", n === "input_ids" ? IDS : n === "attention_mask" ? new BigInt64Array(64).fill(1n) : new BigInt64Array(64), [1, 64]);
  const out = await session.run(feeds);
  return Object.values(out)[0].dims;
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const t0 = Date.now();
    try {
      if (url.pathname === "/init") {
        const name = url.searchParams.get("attempt");
        ort.env.wasm.numThreads = 1;
        ort.env.wasm.proxy = false;
        ATTEMPTS[name]();
        session = await ort.InferenceSession.create(new Uint8Array(model), { executionProviders: ["wasm"] });
        const dims = await run();
        return Response.json({ name, ok: true, initMs: Date.now() - t0, output: dims, wasmBytes: memory?.buffer.byteLength ?? null });
      }
      if (url.pathname === "/run") return Response.json({ ok: true, output: await run(), ms: Date.now() - t0, wasmBytes: memory?.buffer.byteLength ?? null });
      return Response.json({ attempts: Object.keys(ATTEMPTS) });
    } catch (e) {
      return Response.json({ ok: false, error: `${e?.name ?? "Error"}: ${String(e?.message ?? e).slice(0, 400)}` }, { status: 500 });
    }
  },
};
