// Type declarations for edgetag/wasm/edgetag.wasm and edgetag/wasm/edgetag-relaxed.wasm, imported as modules:
// Cloudflare Workers (wrangler's CompiledWasm rule, workerd's wasm modules) give a WebAssembly.Module, as
// `import source` does in Node 24 and Deno. Pass it to load() or init() as the wasmModule option.
import type { WasmModule } from "./edgetag.js";

declare const engine: WasmModule;
export default engine;
