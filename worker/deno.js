// deno.js — the service on Deno.serve, around the same fetch handler as Workers.
//
//   deno run --allow-net --allow-env --allow-read worker/deno.js      # 127.0.0.1:8787
//
// The engine's wasm is imported as a module (`import source`, as in Workers: no compilation from bytes);
// the "bundled" models are the files of EDGETAG_MODEL_DIR (default: the repository's models/), read when
// first used (--allow-read). Deno Deploy gives 512 MB per isolate; the service needs well under 128.
// It prints one JSON line {"event":"listen","port":…} once it listens.
import source wasmModule from "../build/edgetag-relaxed.wasm";
import { createHandler } from "./handler.js";

const env = Deno.env.toObject();
const modelDir = env.EDGETAG_MODEL_DIR ?? new URL("../models/", import.meta.url).pathname;
const bundled = {};
try {
  for (const f of Deno.readDirSync(modelDir))
    if (f.isFile && f.name.endsWith(".gguf")) bundled[f.name.slice(0, -5)] = () => Deno.readFile(`${modelDir}/${f.name}`);
} catch {
  // no model directory (or no --allow-read): models come from URLs only
}

/** Served when EDGETAG_MODELS is unset: the shipped int8 models, as worker/bundled.js bundles them. */
const SHIPPED = ["intent-clinc", "maint-ner", "pii-ner"];

const handler = createHandler({ wasmModule, bundled, defaultModels: SHIPPED, runtime: `deno ${Deno.version.deno}` });
const pending = new Set();
const ctx = {
  waitUntil(promise) {
    const p = Promise.resolve(promise).catch(() => {}).finally(() => pending.delete(p));
    pending.add(p);
  },
  passThroughOnException() {},
};

const hostname = env.EDGETAG_HOST ?? "127.0.0.1";
const server = Deno.serve({
  hostname, port: Number(env.EDGETAG_PORT ?? 8787),
  onListen: ({ port }) => console.log(JSON.stringify({ event: "listen", runtime: "deno", host: hostname, port })),
}, (request) => handler.fetch(request, env, ctx));

for (const signal of ["SIGTERM", "SIGINT"])
  Deno.addSignalListener(signal, async () => {
    await server.shutdown();
    await Promise.all(pending);
    Deno.exit(0);
  });
