// bundled.js — the Cloudflare Workers / workerd entry point with the three shipped int8 models inside the
// bundle as Data modules (about 17 MB; wrangler.toml's Data rule, config.capnp's `data = embed`), so that
// EDGETAG_MODELS can name them with {"source": "bundled"} — or, left unset, serves all three by name.
// Each is imported when first loaded, not at start-up.
import wasmModule from "../build/edgetag-relaxed.wasm";
import { createHandler } from "./handler.js";

const bundled = {
  "intent-clinc": async () => (await import("../models/intent-clinc.gguf")).default,
  "maint-ner": async () => (await import("../models/maint-ner.gguf")).default,
  "pii-ner": async () => (await import("../models/pii-ner.gguf")).default,
};

export default createHandler({ wasmModule, bundled, runtime: "workerd" });
