// worker-main.js — the engine inside a dedicated Web Worker (or a Node worker thread): the other end of
// worker-client.js's createWorkerTagger(). It loads one model and answers calls in order.
//
// Messages in:  {id, op: "load", source, options}   {id, op: "call", method, args}   {op: "abort", target}
//               {id, op: "dispose"}
// Messages out: {id, type: "progress", loaded, total}   {id, type: "result", value, memory}
//               {id, type: "error", error: {name, code, message}}   {type: "cached", origin} (the cache write's
//               outcome, after the load's result when that said origin.cache "storing")
// Typed arrays in results are transferred, not copied.

import { EdgetagError } from "./errors.js";
import { load } from "./load.js";
import { nodeBuiltin } from "./runtime.js";

/** Where messages come from and go: the worker's global scope, or a Node worker thread's parentPort. */
let port = null;
let model = null;
const aborts = new Map(); // id of a running load → its AbortController
const METHODS = new Set(["classify", "extract", "tokenize", "tokenizeWindows", "embed", "logits", "hidden", "tensors"]);

/** The ArrayBuffers of every typed array inside a result, to transfer them. */
function buffersOf(value, out = new Set()) {
  if (ArrayBuffer.isView(value)) out.add(value.buffer);
  else if (Array.isArray(value)) value.forEach((v) => buffersOf(v, out));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => buffersOf(v, out));
  return out;
}

function reply(id, value) {
  const memory = model && model.ptr ? model.wasmMemoryBytes : 0;
  port.postMessage({ id, type: "result", value, memory }, [...buffersOf(value)]);
}

function fail(id, e) {
  const error = e instanceof EdgetagError ? { name: "EdgetagError", code: e.code, message: e.message }
    : { name: e?.name ?? "Error", code: e?.name === "AbortError" ? "ABORTED" : "UNKNOWN", message: e?.message ?? String(e) };
  port.postMessage({ id, type: "error", error });
}

async function handle(msg) {
  const { id, op } = msg;
  if (op === "abort") {
    aborts.get(msg.target)?.abort();
    return;
  }
  try {
    if (op === "load") {
      if (model) throw new EdgetagError("STATE", "edgetag: this worker already holds a model");
      const controller = new AbortController();
      aborts.set(id, controller);
      const options = {
        ...msg.options, signal: controller.signal,
        onProgress: msg.progress ? ({ loaded, total }) => port.postMessage({ id, type: "progress", loaded, total }) : undefined,
      };
      try {
        model = await load(msg.source, options);
      } finally {
        aborts.delete(id);
      }
      reply(id, { info: model.info, origin: model.origin ?? null });
      // The cache write runs after the answer; its outcome follows as a message of its own.
      if (model.origin?.cache === "storing") model.cached.then((origin) => port.postMessage({ type: "cached", origin }));
    } else if (op === "call") {
      if (!model || !model.ptr) throw new EdgetagError("STATE", "edgetag: the model was disposed");
      if (!METHODS.has(msg.method)) throw new EdgetagError("INVALID_ARGUMENT", `edgetag: no method ${msg.method}`);
      reply(id, model[msg.method](...msg.args));
    } else if (op === "dispose") {
      model?.dispose();
      model = null;
      reply(id, null);
    } else {
      throw new EdgetagError("INVALID_ARGUMENT", `edgetag: unknown worker message ${op}`);
    }
  } catch (e) {
    fail(id, e);
  }
}

// Calls run one at a time in arrival order; an abort message overtakes the queue.
let queue = Promise.resolve();
function onMessage(msg) {
  if (msg?.op === "abort") handle(msg);
  else queue = queue.then(() => handle(msg));
}

// No top-level await, so that bundlers may build this worker in any format (Vite's default is "iife"). A Node
// worker thread's messages wait in its port until the listener is attached.
if (typeof WorkerGlobalScope !== "undefined" && globalThis instanceof WorkerGlobalScope) {
  port = globalThis;
  port.addEventListener("message", (e) => onMessage(e.data));
} else {
  nodeBuiltin("node:worker_threads").then(({ parentPort }) => {
    port = parentPort;
    port.on("message", onMessage);
  });
}
