// index.js — the Cloudflare Workers / workerd entry point: the engine's relaxed-SIMD build imported as a
// module (Workers compile no WebAssembly at run time; wrangler.toml's CompiledWasm rule and config.capnp's
// `wasm = embed` hand it over compiled), models from R2, KV or URLs as EDGETAG_MODELS says. Nothing
// happens at global scope: the handler builds its state on the first request.
// worker/bundled.js is the same with the shipped models inside the bundle.
import wasmModule from "../build/edgetag-relaxed.wasm";
import { createHandler } from "./handler.js";

export default createHandler({ wasmModule, runtime: "workerd" });
