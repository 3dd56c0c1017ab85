// adapters.js — the endpoints: what each kind sends (an OpenAI-compatible chat completion asking for a JSON
// schema of exactly the labels or entity types, or a plain JSON POST), how one HTTP attempt reads the answer,
// and how an answer is validated before it replaces the local one.
//
// A custom endpoint is a function (request, signal) → answer (or a promise of one): it throws
// EscalationHttpError to report an HTTP status; anything else it throws counts as a network failure.
// Failures: CloudFailure when the cloud could not answer, InvalidAnswer when its answer is not acceptable.

import { CloudFailure, RETRYABLE_STATUS, parseRetryAfter } from "./resilience.js";

/** The cloud answered, but not acceptably: detail is "json" | "shape" | "label" | "span" | "score" | "refusal" | "too_large". */
export class InvalidAnswer extends Error {
  constructor(detail) {
    super(`edgetag: the cloud's answer was rejected (${detail})`);
    this.detail = detail;
  }
}

/**
 * What a custom endpoint function throws to report an HTTP status (anything else it throws counts as
 * "network"); retryAfterMs is honoured like Retry-After.
 */
export class EscalationHttpError extends Error {
  constructor(status, { retryAfterMs } = {}) {
    super(`edgetag: the endpoint answered HTTP ${status}`);
    this.name = "EscalationHttpError";
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}

const PLACEHOLDER_NOTE = " Some personal data in the text was replaced by placeholders such as [PERSON_1]; " +
  "treat each placeholder as the value it stands for and copy it unchanged.";

function systemPrompt(request) {
  const note = request.redacted ? PLACEHOLDER_NOTE : "";
  if (request.task === "classify")
    return "Classify the user's text into exactly one of these labels: " + request.labels.join(", ") +
      ". Answer in JSON: label is the label, score your confidence between 0 and 1." + note;
  return "Extract the entities of these types from the user's text: " + request.entityTypes.join(", ") +
    ". Answer in JSON: entities is a list of {label, text, start, end}, where text is copied exactly from " +
    "the user's text and start, end are its character offsets (0-based, end exclusive). " +
    "Answer an empty list when there is none." + note;
}

/** The JSON schema of the answer: exactly the label set, or entities of exactly the entity types. */
function answerSchema(request) {
  if (request.task === "classify")
    return {
      type: "object",
      properties: { label: { type: "string", enum: [...request.labels] }, score: { type: "number" } },
      required: ["label", "score"],
      additionalProperties: false,
    };
  return {
    type: "object",
    properties: {
      entities: {
        type: "array",
        items: {
          type: "object",
          properties: {
            label: { type: "string", enum: [...request.entityTypes] },
            text: { type: "string" },
            start: { type: "integer" },
            end: { type: "integer" },
          },
          required: ["label", "text", "start", "end"],
          additionalProperties: false,
        },
      },
    },
    required: ["entities"],
    additionalProperties: false,
  };
}

function requestBody(spec, request) {
  if (spec.kind === "openai")
    return {
      ...spec.params,
      model: spec.model,
      messages: [{ role: "system", content: systemPrompt(request) }, { role: "user", content: request.text }],
      response_format: {
        type: "json_schema",
        json_schema: { name: request.task === "classify" ? "classification" : "entities", strict: true, schema: answerSchema(request) },
      },
    };
  const body = { ...spec.params, task: request.task, text: request.text, redacted: request.redacted };
  if (spec.model !== undefined) body.model = spec.model;
  if (request.task === "classify") body.labels = [...request.labels];
  else body.entityTypes = [...request.entityTypes];
  return body;
}

/** Reads a response body as text, at most maxBytes of it. */
async function readText(response, maxBytes) {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      reader.cancel().catch(() => {});
      throw new InvalidAnswer("too_large");
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(all);
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidAnswer("json");
  }
}

/**
 * A built-in endpoint ({kind: "openai" | "json", url, model, headers, params}, checked) as the function
 * (request, signal) → answer that the tagger calls once per attempt.
 */
export function httpAdapter(spec, fetchImpl, maxBytes) {
  return (request, signal) => httpCall(spec, request, signal, fetchImpl, maxBytes);
}

/** One HTTP attempt of a built-in adapter: the answer object, or a thrown CloudFailure / InvalidAnswer. */
async function httpCall(spec, request, signal, fetchImpl, maxBytes) {
  let response;
  try {
    response = await fetchImpl(spec.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", ...spec.headers },
      body: JSON.stringify(requestBody(spec, request)),
      redirect: "manual", // the text goes to the configured URL only, never on to wherever it redirects
      signal,
    });
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    throw new CloudFailure("network", true); // the message may name the host, never the text: dropped anyway
  }
  if (!response.ok) {
    response.body?.cancel().catch(() => {});
    const status = response.status;
    if (response.type === "opaqueredirect" || (status >= 300 && status < 400)) throw new CloudFailure("redirect", false);
    throw new CloudFailure(`http_${status}`, RETRYABLE_STATUS.has(status), parseRetryAfter(response.headers.get("retry-after")));
  }
  let text;
  try {
    text = await readText(response, maxBytes);
  } catch (err) {
    if (err instanceof InvalidAnswer) throw err;
    if (signal.aborted) throw signal.reason;
    throw new CloudFailure("network", true); // the connection broke mid-body
  }
  const body = parseJson(text);
  if (spec.kind === "json") return body;
  const message = body?.choices?.[0]?.message;
  if (!message || typeof message !== "object") throw new InvalidAnswer("shape");
  if (typeof message.content !== "string") throw new InvalidAnswer(message.refusal ? "refusal" : "shape");
  return parseJson(message.content);
}

/** The score of an answer: a number in [0, 1], or null when absent; anything else is invalid. */
function answerScore(value) {
  if (value === undefined || value === null) return null;
  if (typeof value !== "number" || !(value >= 0 && value <= 1)) throw new InvalidAnswer("score");
  return value;
}

export function validateClassification(answer, labels) {
  if (!answer || typeof answer !== "object" || typeof answer.label !== "string") throw new InvalidAnswer("shape");
  if (!labels.includes(answer.label)) throw new InvalidAnswer("label");
  return { label: answer.label, score: answerScore(answer.score) };
}

/**
 * Entities of an answer about `text` (the text that was sent). Each needs a known label, a string `text`
 * and integer offsets with text === sent.slice(start, end). Repair: when the offsets are wrong but the
 * entity's text occurs exactly once in the sent text, the offsets are taken from that occurrence (language
 * models copy well and count badly); otherwise the whole answer is rejected. Sorted by start; duplicates dropped.
 */
export function validateEntities(answer, sent, entityTypes) {
  if (!answer || typeof answer !== "object" || !Array.isArray(answer.entities)) throw new InvalidAnswer("shape");
  const out = [];
  let repaired = 0;
  for (const e of answer.entities) {
    if (!e || typeof e !== "object" || typeof e.label !== "string" || typeof e.text !== "string") throw new InvalidAnswer("shape");
    if (!entityTypes.includes(e.label)) throw new InvalidAnswer("label");
    let { start, end } = e;
    const exact = Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start < end && end <= sent.length &&
      sent.slice(start, end) === e.text;
    if (!exact) {
      const at = e.text ? sent.indexOf(e.text) : -1;
      if (at < 0 || sent.indexOf(e.text, at + 1) >= 0) throw new InvalidAnswer("span");
      start = at;
      end = at + e.text.length;
      repaired++;
    }
    out.push({ label: e.label, score: answerScore(e.score), start, end, text: e.text });
  }
  out.sort((a, b) => a.start - b.start || a.end - b.end);
  const entities = out.filter((e, i) => i === 0 || !(e.start === out[i - 1].start && e.end === out[i - 1].end && e.label === out[i - 1].label));
  return { entities, repaired };
}

/**
 * What an attempt's error counts as: an adapter's own CloudFailure or InvalidAnswer, a custom endpoint's
 * HTTP status (EscalationHttpError, or anything with an integer status), else a network failure.
 */
export function attemptFailure(err, kind) {
  if (err instanceof CloudFailure || err instanceof InvalidAnswer) return err;
  if (kind === "custom" && err && Number.isInteger(err.status))
    return new CloudFailure(`http_${err.status}`, RETRYABLE_STATUS.has(err.status), err.retryAfterMs);
  return new CloudFailure("network", true);
}
