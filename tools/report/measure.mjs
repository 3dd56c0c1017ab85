// measure.mjs — what tools/report measures through the wasm build itself (Node 24, the reference runtime):
// per text, the local latency of classify()/extract() as an application calls it, one text at a time, after a
// warm-up — the fastest of `repeats` runs (default 3): on a shared machine the slower runs are the ones the
// scheduler preempted, which says more about the machine's other work than about the engine; the input tokens of the cloud request escalation would send for that text (the exact OpenAI-compatible
// body the library's adapter builds: system prompt with the label set, the JSON schema, the text), counted with
// the model's own WordPiece tokenizer; the output tokens of the answer the cloud would give (the gold answer as
// JSON); and the engine's memory after load and after the runs.
//
//   node tools/report/measure.mjs MODEL.gguf INPUT.json OUTPUT.json
//   INPUT.json: {"texts": [...], "answers": [{label} | {entities: [...]}, ...], "warmup": 20, "repeats": 3,
//                "patternTexts": [...]}   (the texts patternRedactor() looks through: identifiers of a checkable shape)
import { readFileSync, writeFileSync } from "node:fs";
import { load, patternRedactor, version } from "../../web/edgetag.js";
import { httpAdapter } from "../../web/escalate/adapters.js";

const [modelPath, inputPath, outputPath] = process.argv.slice(2);
const input = JSON.parse(readFileSync(inputPath, "utf8"));
const t0 = performance.now();
const model = await load(readFileSync(modelPath), { cache: "none" });
const loadMs = performance.now() - t0;
const memoryAfterLoad = model.wasmMemoryBytes;
const task = model.info.task === "sequence_classification" ? "classify" : "extract";
const run = (t) => task === "classify" ? model.classify(t) : model.extract(t);

// The request body escalation would send, exactly as the OpenAI-compatible adapter writes it.
let lastBody = null;
const capture = async (_url, init) => { lastBody = init.body; return new Response(JSON.stringify({ choices: [{ message: { content: "{}" } }] })); };
const adapter = httpAdapter({ kind: "openai", url: "https://cloud.invalid/v1/chat/completions", model: "m", headers: {}, params: {} }, capture, 1 << 20);
const entityTypes = model.info.entityTypes?.length ? model.info.entityTypes : [];
async function requestText(text) {
  const request = task === "classify" ? { task, text, labels: model.info.labels, redacted: false } : { task, text, entityTypes, redacted: false };
  await adapter(request, new AbortController().signal).catch(() => {});
  const body = JSON.parse(lastBody);
  // What the cloud model reads: the messages' contents and the response schema.
  return body.messages.map((m) => m.content).join("\n") + "\n" + JSON.stringify(body.response_format);
}
const tokens = (s) => model.tokenize(s, { maxLength: Infinity }).ids.length - 2; // without [CLS], [SEP]

for (let i = 0; i < (input.warmup ?? 20); i++) run(input.texts[i % input.texts.length]);
const latencyMs = [], inputTokens = [], outputTokens = [], textTokens = [];
for (const [i, text] of input.texts.entries()) {
  let best = Infinity;
  for (let k = 0; k < (input.repeats ?? 3); k++) {
    const a = performance.now();
    run(text);
    best = Math.min(best, performance.now() - a);
  }
  latencyMs.push(best);
  inputTokens.push(tokens(await requestText(text)));
  textTokens.push(tokens(text));
  outputTokens.push(tokens(JSON.stringify(input.answers[i])));
}
// Identifiers with a checkable shape (e-mail, phone, card, IBAN, IP, SSN, domain): a lower bound of personal data.
const patterns = { texts: 0, withAny: 0, byType: {} };
const finder = patternRedactor();
for (const text of input.patternTexts ?? []) {
  const types = new Set(finder.extract(text).entities.map((e) => e.label));
  patterns.texts++;
  if (types.size) patterns.withAny++;
  for (const t of types) patterns.byType[t] = (patterns.byType[t] ?? 0) + 1;
}
writeFileSync(outputPath, JSON.stringify({
  patterns,
  engine: { library: version, flavour: model.engine.flavour, node: process.versions.node },
  model: { name: model.info.name, version: model.info.version, fileBytes: model.info.fileBytes, task: model.info.task },
  repeats: input.repeats ?? 3, loadMs, memoryAfterLoad, memoryAfterRuns: model.wasmMemoryBytes, latencyMs, inputTokens, outputTokens, textTokens,
}));
model.dispose();
