// Compiled (never run) by tests/js/types.test.mjs with `tsc --strict --noEmit`, `lib: ["es2022"]` and @types/node:
// no DOM. The declarations must hold what a Node program does with the library.
import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import {
  EdgetagError, createWorkerTagger, init, load, withEscalation, patternRedactor, piiFinder, anyOf, memoryStore, openRelease, telemetry,
  memoryCaptureStore, textCaptureStore, parseJSONL, CAPTURE_SCHEMA, CAPTURE_DEFAULTS, type CaptureRecord,
  canonicalize, RELEASE_DEFAULTS, RELEASE_SCHEMA, TELEMETRY_DEFAULTS, TELEMETRY_SCHEMA,
  type Classification, type Extraction, type Model, type ModelOrigin, type WorkerTagger,
} from "edgetag";

async function main(): Promise<void> {
  // A file path, a file: URL, the package's own model, bytes from the file system.
  const byPath: Model = await load("./models/intent-clinc.gguf");
  const byUrl = await load(pathToFileURL("/srv/models/maint-ner.gguf"));
  const shipped = await load(import.meta.resolve("edgetag/models/pii-ner.gguf"), { integrity: "sha256-AAAA" });
  const fromBuffer = await load(await readFile("./models/intent-clinc.gguf"), { simd: "baseline" });
  const one: Classification = byPath.classify("book a table");
  const many: Classification[] = byPath.classify(["a", "b"]);
  const ents: Extraction = byUrl.extract("replace pump seal");
  const perText: Extraction[] = byUrl.extract(["a", "b"], { aggregation: "first" });
  const origin: ModelOrigin = await fromBuffer.cached;
  console.log(one.label, many.length, ents.entities.length, perText.length, origin.kind, shipped.info.labels.length);

  // A worker thread, escalation around it, redaction with the shipped PII model.
  const worker: WorkerTagger = await load("./models/intent-clinc.gguf", { worker: true });
  const escalating = withEscalation(worker, {
    endpoint: { kind: "openai", url: "https://api.example.com/v1/chat/completions", model: "m", headers: { authorization: "Bearer x" } },
    redact: anyOf(piiFinder(shipped), patternRedactor()),
    timeoutMs: 5000,
  });
  const answer = await escalating.classify("how tall is the eiffel tower");
  // Capture: answered escalations recorded with consent, per call; a file as the store; export and erase.
  const fileStore = textCaptureStore({ read: () => readFile("c.jsonl", "utf8").catch(() => null), write: async () => {}, remove: async () => {} },
    { maxRecords: 100 }, "file");
  const capturing = withEscalation(worker, { endpoint: () => ({ label: "oos" }), capture: { store: fileStore, consent: "per-call" } });
  const captured = await capturing.classify("x", { capture: true });
  if (captured.escalation.wanted && captured.escalation.outcome === "answered") console.log(captured.escalation.captured);
  const mem = memoryCaptureStore({ maxBytes: CAPTURE_DEFAULTS.maxBytes });
  const records: CaptureRecord[] = parseJSONL(await mem.export());
  console.log(records.filter((r) => r.schema === CAPTURE_SCHEMA).length, (await mem.usage()).records, capturing.stats().capture.recorded);
  await mem.erase();
  // @ts-expect-error: consent has no default; it must be given
  withEscalation(worker, { endpoint: () => ({ label: "oos" }), capture: { store: mem } });
  console.log(answer.source, answer.localLabel, escalating.stats().requests.classify);
  const batch = await (await createWorkerTagger(await readFile("./m.gguf"))).classify(["x", "y"]);
  console.log(batch.map((c) => c.label));

  // The engine: the builds beside the library, or builds from elsewhere.
  const engine = await init({ simd: "auto", wasmUrl: { baseline: pathToFileURL("/opt/edgetag.wasm") } });
  console.log(engine.flavour);
  try {
    await load("./missing.gguf");
  } catch (e) {
    if (e instanceof EdgetagError) console.log(e.code);
  }
  // A signed release channel: the state in memory, a custom verifier for a WebCrypto without Ed25519, telemetry.
  const channel = await openRelease({ manifest: "https://models.example/maint-ner/stable.json", publicKey: "ed25519:AAAA",
    store: memoryStore(), checkIntervalMs: 0, installationId: "server-7", verifier: ({ publicKey, signature, message }) =>
      publicKey.length + signature.length + message.length > 0 });
  const found: Extraction = channel.extract("replace pump seal");
  const outcome = await channel.checkNow();
  const t = telemetry({ endpoint: "https://telemetry.example/v1", sources: { channel, escalating }, intervalMs: 0, maxBatches: 5 });
  console.log(found.entities.length, outcome.outcome, channel.state.bad.length, await t.tick());
  const signedText: string = canonicalize({ schema: RELEASE_SCHEMA, rollout: RELEASE_DEFAULTS.keep });
  console.log(signedText, TELEMETRY_SCHEMA, TELEMETRY_DEFAULTS.maxBatches, RELEASE_DEFAULTS.checkIntervalMs);
  await channel.dispose();
  try {
    await load({ manifest: "https://models.example/x.json", publicKey: "ed25519:AAAA" });
  } catch (e) {
    if (e instanceof EdgetagError && (e.code === "SIGNATURE" || e.code === "EXPIRED")) console.log(e.message);
  }
  // @ts-expect-error: extract answers one Extraction per text, not one for all
  const wrong: Extraction = byUrl.extract(["a", "b"]);
  // @ts-expect-error: a cache adapter cannot cross into a worker thread
  await load("./m.gguf", { worker: true, cache: { get: async () => undefined, put: async () => {}, delete: async () => {} } });
  void wrong;
}

void main;
