// edgetag-worker.js — the same job as ort-worker.js with edgetag, for comparison in the same isolate
// limits: the same MiniLM-L6-H384 int8 weights (build/ref/minilm-i8.gguf), the engine's relaxed build
// imported as a compiled module. GET /init loads the model; GET /run runs it on 64 token ids.
import wasmModule from "edgetag-relaxed.wasm";
import model from "minilm-i8.gguf";
import { load } from "../../web/edgetag.js";

let tagger = null;
const IDS = Int32Array.from({ length: 64 }, (_, i) => (i === 0 ? 101 : i === 63 ? 102 : 1000 + i * 37));

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const t0 = Date.now();
    try {
      if (url.pathname === "/init") {
        tagger = await load(model, { wasmModule, cache: "none" });
        const r = tagger.hidden(IDS);
        return Response.json({ ok: true, initMs: Date.now() - t0, output: [1, r.rows, r.cols], wasmBytes: tagger.wasmMemoryBytes });
      }
      if (url.pathname === "/run") {
        const r = tagger.hidden(IDS);
        return Response.json({ ok: true, output: [1, r.rows, r.cols], ms: Date.now() - t0, wasmBytes: tagger.wasmMemoryBytes });
      }
      return Response.json({});
    } catch (e) {
      return Response.json({ ok: false, error: `${e?.name ?? "Error"}: ${String(e?.message ?? e).slice(0, 400)}` }, { status: 500 });
    }
  },
};
