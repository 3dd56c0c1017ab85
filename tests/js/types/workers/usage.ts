// Compiled (never run) by tests/js/types.test.mjs with `tsc --strict --noEmit` and @cloudflare/workers-types (no
// DOM): a Worker that imports the engine and a model as modules, as wrangler's CompiledWasm and Data rules give them.
import { load, memoryStore, withEscalation, type Classification, type Model, type ReleaseTagger } from "edgetag";
import wasm from "edgetag/wasm/edgetag-relaxed.wasm";
import intents from "edgetag/models/intent-clinc.gguf";

interface Env {
  MODELS: R2Bucket;
  OPENAI_KEY: string;
}

let model: Promise<Model> | undefined; // made on the first request, not at start-up
let channel: Promise<ReleaseTagger> | undefined;

// The imports are typed as what Workers give: a compiled module and the file's bytes.
const exported: number = WebAssembly.Module.exports(wasm).length + intents.byteLength;
void exported;

export default {
  async fetch(request, env, ctx): Promise<Response> {
    model ??= load(intents, { wasmModule: wasm });
    const { text } = await request.json<{ text: string }>();
    const local: Classification = (await model).classify(text);
    // A model from R2: its body streams into the engine.
    const object = await env.MODELS.get("maint-ner.gguf");
    if (object) {
      const notes = await load(object.body, { wasmModule: wasm, size: object.size, cache: "none" });
      ctx.waitUntil(Promise.resolve(notes.dispose()));
    }
    const escalating = withEscalation(await model, {
      endpoint: { url: "https://api.example.com/v1/chat/completions", model: "m", headers: { authorization: `Bearer ${env.OPENAI_KEY}` } },
      fetch: (input, init) => fetch(input, init),
    });
    const answer = await escalating.classify(text);
    // A signed release from R2, checked in the background of a request.
    channel ??= load({ manifest: "https://models.example/intent-clinc/stable.json", publicKey: "ed25519:AAAA" },
      { wasmModule: wasm, cache: "none", store: memoryStore(), checkIntervalMs: 0, installationId: "isolate" });
    const released: Classification = (await channel).classify(text);
    ctx.waitUntil((await channel).checkNow());
    return Response.json({ local, answer, released, state: (await channel).state });
  },
} satisfies ExportedHandler<Env>;
