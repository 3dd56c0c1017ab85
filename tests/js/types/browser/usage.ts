// Compiled (never run) by tests/js/types.test.mjs with `tsc --strict --noEmit` and the DOM lib: the declarations
// must describe the library the way a page's TypeScript calls it, and reject misuse. "edgetag" resolves to this
// repository's own package (its exports map and types conditions), as it would from node_modules.
import {
  EdgetagError, anyOf, createWorkerTagger, indexedDBCache, init, load, patternRedactor, piiFinder, relaxedSimdSupported, version,
  withEscalation, telemetry, verifyManifest, rolloutBucket, indexedDBStore, ReleaseTagger, indexedDBCaptureStore,
  type ReleaseTagger as Channel, type ReleaseState, type ReleaseManifest, type Telemetry,
  type CacheAdapter, type Classification, type Matrix, type ModelInfo, type Progress, type WorkerTagger,
  type Extraction, type ModelOrigin, type IDBFactoryLike,
} from "edgetag";

async function main(bytes: Uint8Array): Promise<void> {
  const engine = await init({ simd: relaxedSimdSupported() ? "relaxed" : "baseline" });
  const v: string = engine.version() + version;
  const model = await load(bytes, { simd: "auto" });
  const info: ModelInfo = model.info;
  const one: Matrix = model.logits([101, 7592, 102]);
  const many: Matrix[] = model.logits([[101, 102], new Int32Array([101, 7, 102])], { typeIds: [[0, 0], [0, 1, 1]] });
  const e: Float32Array = model.embed([101, 102], { pooling: "cls", normalize: true });
  const labels: readonly string[] = info.labels;
  const tok = model.tokenize("Hello, world!", { pair: "again", maxLength: Infinity });
  const spans: number = tok.offsets[1] - tok.offsets[0] + tok.typeIds[0] + tok.ids.length;
  model.logits(tok.ids, { typeIds: tok.typeIds });
  void spans;
  const first: number = one.data[0] + many[0].rows + e[0] + labels.length + (info.threshold ?? 0);
  try {
    model.hidden([1, 2, 3]);
  } catch (err) {
    if (err instanceof EdgetagError && err.code === "INPUT") console.log(err.message, v, first);
  }
  // @ts-expect-error: simd takes "auto" | "relaxed" | "baseline"
  await init({ simd: "avx2" });
  // @ts-expect-error: the info is read-only
  model.info.nLayer = 3;
  // @ts-expect-error: tokenize takes a string
  model.tokenize([1, 2]);
  // @ts-expect-error: pooling is "mean" or "cls"
  model.embed([1], { pooling: "max" });
  model.dispose();
}

async function sources(signal: AbortSignal): Promise<void> {
  const onProgress = ({ loaded, total }: Progress) => console.log(loaded, total ?? "?");
  const fromUrl = await load("/models/intent-clinc.gguf", { integrity: "sha256-AAAA", onProgress, signal });
  const label: string = fromUrl.classify("book a table").label;
  const batch: Classification[] = fromUrl.classify(["a", "b"]);
  const ents = fromUrl.extract("Ada Lovelace", { aggregation: "first" }).entities;
  const origin: string = fromUrl.origin.kind + (fromUrl.origin.sha256 ?? "") + fromUrl.origin.cache;
  const vec: Float32Array = fromUrl.embed("some text", { normalize: true });
  const vecs: Float32Array[] = fromUrl.embed(["one", "two"]);
  await load(new Request("/m.gguf"), { cache: "none" });
  await load(await fetch("/m.gguf"), { simd: "baseline" });
  await load(new Blob([]));
  await load("intent-clinc@1.0.0");
  const mine: CacheAdapter = {
    get: async () => undefined,
    put: async () => {},
    delete: async () => {},
  };
  await load(new URL("https://example.com/m.gguf"), { cache: mine, key: "m" });
  const db = indexedDBCache({ dbName: "models", indexedDB: window.indexedDB });
  const factory: IDBFactoryLike = indexedDB;
  void factory;
  const stored: number = (await db.list()).length + (await db.evict((await db.list())[0]));
  // Off the main thread: the same methods, returning promises.
  const w: WorkerTagger = await load("/m.gguf", { worker: true, onProgress });
  const c: Classification = await w.classify("text", { signal });
  const e2: number = (await w.extract("text")).entities.length + (await w.embed("x")).length;
  const w2 = await createWorkerTagger(new Uint8Array(8), { transfer: true, cache: "indexeddb", workerUrl: "/assets/worker.js",
    wasmUrl: { relaxed: "/assets/edgetag-relaxed.wasm", baseline: "/assets/edgetag.wasm" } });
  // The first visit answers before the cache write; `cached` settles it.
  const settled: ModelOrigin = await fromUrl.cached;
  const fromWorker: ModelOrigin | null = await w.cached;
  const perText: Extraction[] = await w.extract(["one", "two"]);
  const one: Extraction = fromUrl.extract("one");
  console.log(settled.cache, fromWorker?.cache, perText.length, one.entities);
  // A worker's tagger is a tagger escalation wraps.
  const escalating = withEscalation(w, { endpoint: { url: "https://example.com/classify", kind: "json" } });
  const answers = await escalating.classify(["a", "b"]);
  console.log(answers[0].source, (await escalating.classify("c")).escalation.wanted);
  await w2.dispose();
  await w.dispose();
  console.log(label, batch, ents, origin, vec, vecs, stored, c, e2);
  const redactor = anyOf(patternRedactor({ types: ["EMAIL_ADDRESS", "PHONE_NUMBER"] }), fromUrl, piiFinder(w, { minProbability: 0.2 }));
  const bound: number = piiFinder(fromUrl).minProbability;
  const safe = withEscalation(fromUrl, { endpoint: { kind: "openai", url: "https://api.example.com/v1/chat/completions", model: "m" }, redact: redactor });
  const viaCloud = await safe.classify("text");
  console.log(viaCloud.source, (await redactor.extract("x")).entities.length, bound);
  // Capture in IndexedDB, asked at each record (a settings toggle); the page offers export and erase.
  const captureStore = indexedDBCaptureStore({ maxRecords: 500, maxBytes: 512 * 1024 });
  const learning = withEscalation(fromUrl, { endpoint: { url: "https://example.com/classify", kind: "json" }, redact: redactor,
    capture: { store: captureStore, consent: () => document.body.dataset.share === "yes" } });
  console.log((await learning.classify("x", { capture: false })).source, new Blob([await captureStore.export()]).size);
  await captureStore.erase();
  await captureStore.close();
  // @ts-expect-error: consent is true, false, "per-call" or a function
  withEscalation(fromUrl, { endpoint: () => ({ label: "x" }), capture: { store: captureStore, consent: "yes" } });
  // A signed release channel in the page: IndexedDB cache and state, events, telemetry by beacon on pagehide.
  const release: Channel = await load({ manifest: "/models/intent-clinc/stable.json", publicKey: "ed25519:AAAA" },
    { store: indexedDBStore(), onProgress: (p: Progress) => console.log(p.loaded) });
  release.addEventListener("update", (ev) => console.log(ev.detail.version, ev.detail.previous));
  release.addEventListener("rollback", (ev) => console.warn(ev.detail.code, ev.detail.reason));
  const rs: ReleaseState = release.state;
  const rc: Classification = release.classify("book a table");
  const inWorker = await load({ manifest: new URL("https://m.example/x.json"), publicKey: ["ed25519:A", "ed25519:B"], channel: "x/stable" },
    { worker: true, checkIntervalMs: 0 });
  const rw: Classification[] = await inWorker.classify(["a", "b"]);
  const reporting: Telemetry = telemetry({ endpoint: "/telemetry", sources: { release, escalating: safe } });
  const manifest: ReleaseManifest = await verifyManifest("{}", { publicKey: "ed25519:A", channel: "x/stable" });
  console.log(rs.phase, rs.rollout?.inRollout, rc.label, rw.length, reporting.queued, manifest.previous?.version,
    await rolloutBucket("id", "x/stable"), release instanceof ReleaseTagger, (await release.checkNow()).outcome);
  reporting.stop();
  await inWorker.dispose();
  // @ts-expect-error: a release needs its public key
  await load({ manifest: "/m.json" });
  // @ts-expect-error: a channel in a worker answers promises
  const notYet: Classification = inWorker.classify("x");
  void notYet;
  // @ts-expect-error: no such pattern type
  patternRedactor({ types: ["SHOE_SIZE"] });
  // @ts-expect-error: a cache adapter cannot cross into a worker
  await load("/m.gguf", { worker: true, cache: mine });
  // @ts-expect-error: numbers are not model sources
  await load(42);
  // @ts-expect-error: a worker tagger's classify returns a promise
  const sync: Classification = w.classify("x");
  void sync;
}

void main;
void sources;
