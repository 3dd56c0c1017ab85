// smoke.mjs — run by tests/deno.test.mjs under Deno: the same web/edgetag.js, unchanged, loads a model from
// a file: URL, from HTTP and from bytes, runs it on the main thread and in a Web Worker, and prints what it
// got as one JSON line for the Node side to compare with its own answers.
import { createWorkerTagger, load } from "../../../web/edgetag.js";

const [modelPath, httpUrl, text] = Deno.args;
const fileUrl = new URL(modelPath, `file://${Deno.cwd()}/`);
const fromFile = await load(fileUrl, { cache: "none" });
const events = [];
const fromHttp = await load(httpUrl, { cache: "none", onProgress: (e) => events.push(e) });
const fromBytes = await load(await Deno.readFile(fileUrl));
const worker = await createWorkerTagger(httpUrl, { cache: "none" });
const out = {
  flavour: (await import("../../../web/edgetag.js")).relaxedSimdSupported(),
  origins: [fromFile.origin.kind, fromHttp.origin.kind, fromBytes.origin.kind, worker.origin.kind],
  progress: events.at(-1),
  classify: [fromFile.classify(text), fromHttp.classify(text), fromBytes.classify(text), await worker.classify(text)],
  tokens: Array.from(fromFile.tokenize(text).offsets),
};
await worker.dispose();
for (const m of [fromFile, fromHttp, fromBytes]) m.dispose();
console.log(JSON.stringify(out));
