// Checked (never run) by tests/js/types.test.mjs with `deno check`: Deno reads the library's declarations through
// web/edgetag.js's @ts-self-types comment when the file is imported by path or URL, as from a CDN.
import { EdgetagError, load, withEscalation, type Classification, type Extraction, type ReleaseState } from "../../../../web/edgetag.js";

const intents = await load(new URL("../../../../models/intent-clinc.gguf", import.meta.url), { cache: "none" });
const one: Classification = intents.classify("book a table");
const many: Classification[] = intents.classify(["a", "b"]);
const notes = await load(await Deno.readFile("models/maint-ner.gguf"), { wasmModule: await WebAssembly.compile(await Deno.readFile("build/edgetag.wasm")) });
const found: Extraction[] = notes.extract(["replace pump seal"]);
const worker = await load("models/intent-clinc.gguf", { worker: true });
const escalating = withEscalation(worker, { endpoint: { kind: "json", url: "https://example.com/v1/classify" } });
console.log(one.label, many.length, found.length, (await escalating.classify("x")).source, (await worker.cached)?.cache);
try {
  await load("./missing.gguf");
} catch (e) {
  if (e instanceof EdgetagError) console.log(e.code);
}
const channel = await load({ manifest: "https://models.example/intent-clinc/stable.json", publicKey: "ed25519:AAAA" }, { store: "memory" });
const state: ReleaseState = channel.state;
console.log(state.version, channel.classify("x").label);
// @ts-expect-error: classify takes text
intents.classify(42);
// @ts-expect-error: a worker's answers are promises
const sync: Classification = worker.classify("x");
void sync;
