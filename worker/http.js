// http.js — the service's HTTP vocabulary: the one error type the API answers with, JSON responses, a
// request body read under a size limit, and the constant-time comparison of bearer tokens.

/** An error the API answers as `{error: {code, message}}` with `status` (and extra headers, e.g. Retry-After). */
export class ServiceError extends Error {
  constructor(status, code, message, headers = {}) {
    super(message);
    this.name = "ServiceError";
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}

/** Headers every response carries: JSON, never cached, never sniffed. */
const BASE_HEADERS = Object.freeze({
  "content-type": "application/json; charset=utf-8",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
});

export function json(status, body, headers = {}) {
  return new Response(JSON.stringify(body), { status, headers: { ...BASE_HEADERS, ...headers } });
}

export function errorResponse(err) {
  return json(err.status, { error: { code: err.code, message: err.message } }, err.headers);
}

/** The most of an over-limit body read (and dropped) before answering 413; a larger one is cut off. */
const DRAIN_BYTES = 1 << 20;

/** Reads and drops the rest of a body, up to DRAIN_BYTES in all (`read` already read); cancels beyond. */
async function drainReader(reader, read = 0) {
  try {
    while (read <= DRAIN_BYTES) {
      const { done, value } = await reader.read();
      if (done) return;
      read += value.byteLength;
    }
    reader.cancel().catch(() => {});
  } catch {
    // the client went away: nothing to answer
  }
}

async function drain(body) {
  if (body) await drainReader(body.getReader());
}

/**
 * Reads a request body as JSON, at most `maxBytes` of it: 413 when Content-Length says more or the body
 * runs past it (read no further), 400 when it is not UTF-8 JSON.
 */
export async function readJson(request, maxBytes) {
  const tooLarge = () => new ServiceError(413, "payload_too_large", `the body is over ${maxBytes} bytes (EDGETAG_MAX_BODY_BYTES)`);
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) {
    // A body a little too large is read and dropped, so the client, still sending it, gets the 413 rather
    // than a broken pipe; a huge one is not worth reading.
    if (Number(declared) <= DRAIN_BYTES) await drain(request.body);
    else request.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  const chunks = [];
  let size = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (;;) {
      let step;
      try {
        step = await reader.read();
      } catch {
        throw new ServiceError(400, "bad_request", "the body could not be read");
      }
      if (step.done) break;
      size += step.value.byteLength;
      if (size > maxBytes) {
        await drainReader(reader, size); // as for a declared length: the client gets its 413, not a broken pipe
        throw tooLarge();
      }
      chunks.push(step.value);
    }
  }
  if (size === 0) throw new ServiceError(400, "bad_json", "the body is empty; send a JSON object");
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) bytes.set(c, at), at += c.byteLength;
  let text;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ServiceError(400, "bad_json", "the body is not UTF-8");
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    // JSON.parse's message names a position, never the text itself.
    const where = /position \d+/.exec(String(e?.message))?.[0];
    throw new ServiceError(400, "bad_json", `the body is not JSON${where ? ` (at ${where})` : ""}`);
  }
}

async function digest(s) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s)));
}

/**
 * Whether two strings are equal, in time that depends on neither: both are hashed (SHA-256) and the
 * digests compared in full, so neither the length nor the first differing byte shows in the timing.
 */
export async function timingSafeEqual(a, b) {
  const [x, y] = await Promise.all([digest(a), digest(b)]);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}
