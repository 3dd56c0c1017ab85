// api.js — the endpoints: what each request must hold, what runs, and the JSON it answers.
//   POST /v1/classify  {model, text | texts, escalate?}  → {model, result | results}
//   POST /v1/extract   {model, text | texts, escalate?}  → {model, result | results}
//   GET  /v1/models    → {models: [{name, state, version, sha256, task, labels, …, release?}], escalation}
//   GET  /v1/health    → {status, engine, memory, models, escalation}   (503 when a model is not ready; a release
//                        channel that rolled back is ready, serving its last good version: its `release.bad` says why)
//   GET  /v1/stats     → counters and latency histograms, per model escalation counters; never any text
//   GET  /v1/capture   → the captured escalations as JSON Lines (EDGETAG_CAPTURE; records only of requests that
//                        said "capture": true); POST /v1/capture/erase → {erased: true, usage}
// Results are the library's own objects: a Model's {label, score, scores, escalate} / {entities, escalate}
// or, with escalation, the escalating tagger's {…, source, localLabel, localScore, escalation}; a local-only
// answer says source "local" and why it did not escalate.

import { version } from "../web/edgetag.js";
import { describeEscalation } from "./escalation.js";
import { ServiceError, json, readJson } from "./http.js";
import { TASKS } from "./models.js";

/** et_kernels_choice names (include/edgetag.h) of the int8 kernel set the engine runs. */
const KERNEL_NAMES = Object.freeze({ 1: "reference", 2: "baseline", 3: "relaxed_dot16", 4: "relaxed_dot32", 5: "reference_u7" });
const BODY_KEYS = Object.freeze(["model", "text", "texts", "escalate", "capture"]);

const bad = (message, code = "bad_request") => new ServiceError(400, code, message);

/** Checks a classify/extract body: {model, texts, single, escalate, chars}; throws 400/404 ServiceErrors. */
function parseTaskBody(body, limits) {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw bad('the body must be a JSON object {"model", "text" | "texts"}');
  for (const k of Object.keys(body))
    if (!BODY_KEYS.includes(k)) throw bad(`unknown field ${JSON.stringify(k).slice(0, 80)} (the body takes ${BODY_KEYS.join(", ")})`);
  if (typeof body.model !== "string" || !body.model) throw bad('"model" must name a model (GET /v1/models lists them)');
  if ((body.text === undefined) === (body.texts === undefined)) throw bad('give either "text" (a string) or "texts" (an array of strings)');
  if (body.escalate !== undefined && typeof body.escalate !== "boolean") throw bad('"escalate" must be true or false');
  if (body.capture !== undefined && typeof body.capture !== "boolean") throw bad('"capture" must be true or false');
  const single = body.text !== undefined;
  const texts = single ? [body.text] : body.texts;
  if (!Array.isArray(texts)) throw bad('"texts" must be an array of strings');
  if (texts.length === 0) throw bad('"texts" is empty');
  if (texts.length > limits.maxTexts)
    throw bad(`${texts.length} texts; at most ${limits.maxTexts} in one request (EDGETAG_MAX_TEXTS)`, "too_many_texts");
  let chars = 0;
  texts.forEach((t, i) => {
    const name = single ? '"text"' : `texts[${i}]`;
    if (typeof t !== "string") throw bad(`${name} must be a string`);
    if (t.length > limits.maxTextChars)
      throw bad(`${name} has ${t.length} characters; at most ${limits.maxTextChars} (EDGETAG_MAX_TEXT_CHARS)`, "text_too_long");
    chars += t.length;
  });
  return { model: body.model, texts, single, escalate: body.escalate !== false, capture: body.capture === true, chars };
}

/** A local answer in the shape of an escalated one: source "local" and why it went no further. */
function localOnly(result, reason) {
  return { ...result, source: "local", escalation: result.escalate ? { wanted: true, outcome: "skipped", reason } : { wanted: false } };
}

/** POST /v1/classify and /v1/extract. */
async function runTask(service, request, info, task) {
  const { config, registry } = service;
  const body = parseTaskBody(await readJson(request, config.maxBodyBytes), config);
  Object.assign(info, { model: body.model, texts: body.texts.length, chars: body.chars });
  const entry = await registry.get(body.model, { waitUntil: info.waitUntil });
  const has = TASKS[entry.model.info.task];
  if (has !== task)
    throw bad(`model ${body.model} is a ${entry.model.info.task} model: use /v1/${has}`, "wrong_task");
  const tagger = body.escalate ? entry.tagger : null;
  const reason = entry.tagger ? "not_requested" : "not_configured";
  let results;
  try {
    results = await runModel(entry, tagger, body, task);
  } catch (e) {
    throw engineError(e);
  }
  if (!tagger) results = results.map((r) => localOnly(r, reason));
  info.escalated = tagger ? results.filter((r) => r.escalation?.wanted).length : 0;
  info.answered = results.filter((r) => r.source === "cloud").length;
  const out = body.single ? { model: body.model, result: results[0] } : { model: body.model, results };
  return json(200, out);
}

/**
 * The texts of a request through the model (or its escalating tagger): one result per text. The library runs
 * a call's texts in batches of at most batchTokens tokens (EDGETAG_BATCH_TOKENS, given to load()), so the
 * engine's memory is bounded by that budget, not by the request.
 */
async function runModel(entry, tagger, body, task) {
  const callOptions = { capture: body.capture }; // consent of this request (EDGETAG_CAPTURE records only these)
  if (task === "classify") return tagger ? tagger.classify(body.texts, callOptions) : entry.model.classify(body.texts);
  return Promise.all(body.texts.map((t) => tagger ? tagger.extract(t, callOptions) : entry.model.extract(t)));
}

/** The library's refusals as HTTP errors: memory beyond EDGETAG_MAX_MEMORY (503), input beyond its limits (400). */
function engineError(e) {
  if (e?.name !== "EdgetagError") return e;
  if (e.code === "OUT_OF_MEMORY")
    return new ServiceError(503, "out_of_memory", "the request needs more memory than EDGETAG_MAX_MEMORY allows; smaller requests are served",
      { "retry-after": "1" });
  if (e.code === "INPUT") return new ServiceError(400, "too_many_tokens", e.message.replace(/^edgetag: /, ""));
  return e;
}

/** The engine's identity: version, SIMD build, int8 kernel set, and its wasm memory. */
async function engineInfo(registry) {
  const e = await registry.engine();
  return { engine: { version: e.version(), library: version, flavour: e.flavour, kernels: KERNEL_NAMES[e.kernels] ?? String(e.kernels), tuned: e.tuned,
    kernelsReason: e.kernelsReason },
    wasmBytes: e.memory.byteLength };
}

async function models(service) {
  await service.registry.loadAll();
  return json(200, { models: service.registry.describe(), escalation: describeEscalation(service.config) });
}

/** GET /v1/health: loads what is not loaded; 200 when every model is ready, else 503 with each one's state. */
async function health(service) {
  const { registry, config, runtime } = service;
  await registry.loadAll();
  const models = registry.describe().map(({ name, state, source, version: v, sha256, task, error, release }) =>
    ({ name, state, source, ...(v !== undefined && { version: v, sha256, task }), ...(error && { error }),
      ...(release && { release: { channel: release.channel, version: release.version, rollout: release.rollout, bad: release.bad,
        lastCheck: release.lastCheck } }) }));
  let engine, wasmBytes, engineError;
  try {
    ({ engine, wasmBytes } = await engineInfo(registry));
  } catch (e) {
    engineError = { code: String(e?.code ?? "ENGINE"), message: String(e?.message ?? e).replace(/^edgetag: /, "") };
  }
  const healthy = !engineError && models.every((m) => m.state === "ready");
  return json(healthy ? 200 : 503, {
    status: healthy ? "ok" : "unhealthy", runtime, engine: engine ?? { error: engineError }, memory: { wasmBytes: wasmBytes ?? null },
    models, escalation: describeEscalation(config),
  });
}

async function stats(service) {
  const { stats: s, registry } = service;
  let wasmBytes = null;
  try {
    wasmBytes = (await engineInfo(registry)).wasmBytes;
  } catch {
    // the engine did not start: health says why
  }
  return json(200, { ...s.snapshot(), models: registry.stats(), memory: { wasmBytes } });
}

/** The capture store, or 404 when EDGETAG_CAPTURE is not set. */
function captureStore(service) {
  const store = service.registry.captureStore;
  if (!store) throw new ServiceError(404, "capture_not_configured", "capture is off: EDGETAG_CAPTURE is not set");
  return store;
}

/** GET /v1/capture: the records as JSON Lines, oldest first. */
async function exportCapture(service) {
  const store = captureStore(service);
  const usage = await store.usage();
  return new Response(await store.export(), { status: 200, headers: { "content-type": "application/x-ndjson; charset=utf-8",
    "x-capture-records": String(usage.records), "cache-control": "no-store" } });
}

/** POST /v1/capture/erase: every record removed. */
async function eraseCapture(service) {
  const store = captureStore(service);
  await store.erase();
  return json(200, { erased: true, usage: await store.usage() });
}

/** path → {method, name, run(service, request, info) → Response}; run fills `info` for the log and stats. */
export const ROUTES = Object.freeze({
  "/v1/classify": { method: "POST", name: "classify", run: (s, r, i) => runTask(s, r, i, "classify") },
  "/v1/extract": { method: "POST", name: "extract", run: (s, r, i) => runTask(s, r, i, "extract") },
  "/v1/models": { method: "GET", name: "models", run: models },
  "/v1/health": { method: "GET", name: "health", run: health },
  "/v1/stats": { method: "GET", name: "stats", run: stats },
  "/v1/capture": { method: "GET", name: "capture", run: exportCapture },
  "/v1/capture/erase": { method: "POST", name: "capture_erase", run: eraseCapture },
});
