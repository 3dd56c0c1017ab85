// download.js — the network side of a release channel: the manifest revalidated with its ETag (a 304 costs no
// body), and a model's body fetched from the first of its URLs that answers, checked against the manifest's
// size as it streams, with an optional copy for the cache.
//
// `fetch` is the caller's (default: globalThis.fetch): the edge service passes one that also reads r2:// and
// kv:// URLs from its bindings. Failures are EdgetagErrors: "IO" for the network (a transient failure, tried
// again at the next check), "INTEGRITY" for a body longer than the manifest says.

import { EdgetagError } from "../errors.js";
import { MAX_MANIFEST_BYTES } from "./manifest.js";

function fetchOf(fetchImpl) {
  const f = fetchImpl ?? globalThis.fetch;
  if (typeof f !== "function") throw new EdgetagError("UNSUPPORTED", "edgetag: this runtime has no fetch(); pass one");
  return f;
}

function abortReason(signal) {
  return signal.reason ?? new DOMException("The operation was aborted", "AbortError");
}

/** Reads a body as text, refusing one over `max` bytes. */
async function boundedText(response, max, where) {
  const declared = Number(response.headers.get("content-length"));
  if (declared > max) {
    response.body?.cancel().catch(() => {});
    throw new EdgetagError("MANIFEST", `edgetag: ${where} is over ${max} bytes`);
  }
  const reader = response.body.getReader();
  const chunks = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.byteLength;
    if (n > max) {
      reader.cancel().catch(() => {});
      throw new EdgetagError("MANIFEST", `edgetag: ${where} is over ${max} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) bytes.set(c, at), (at += c.byteLength);
  return new TextDecoder().decode(bytes);
}

/**
 * GETs the manifest at `url`; with `etag`, conditionally. Answers {status: 304} when it has not changed, else
 * {status: 200, text, etag (or null)}. Throws EdgetagError "IO" for a network failure or another status.
 */
export async function fetchManifest(url, { etag, fetch: fetchImpl, signal } = {}) {
  const headers = { accept: "application/json" };
  if (etag) headers["if-none-match"] = etag;
  let response;
  try {
    response = await fetchOf(fetchImpl)(url, { headers, signal });
  } catch (e) {
    if (signal?.aborted) throw abortReason(signal);
    throw new EdgetagError("IO", `edgetag: fetching the release manifest ${url} failed: ${e?.message ?? e}`, { cause: e });
  }
  if (response.status === 304) {
    response.body?.cancel().catch(() => {});
    return { status: 304 };
  }
  if (!response.ok || !response.body) {
    response.body?.cancel().catch(() => {});
    throw new EdgetagError("IO", `edgetag: fetching the release manifest ${url} failed: HTTP ${response.status}`);
  }
  const text = await boundedText(response, MAX_MANIFEST_BYTES, `the release manifest ${url}`);
  return { status: 200, text, etag: response.headers.get("etag") };
}

/** A stream that passes `size` bytes through and errors with INTEGRITY on one more. */
function sizeGuard(size, url) {
  let seen = 0;
  return new TransformStream({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen > size) controller.error(new EdgetagError("INTEGRITY", `edgetag: ${url} sends more than the manifest's ${size} bytes`));
      else controller.enqueue(chunk);
    },
  });
}

/**
 * Opens a release's file: the first of `urls` that answers 2xx. Answers {response, url, copy}: `response`
 * is a Response whose body streams the file (Content-Length: the manifest's size, so it goes straight into wasm
 * memory) and `copy()`, when `keep` is set, resolves with the same bytes as a Blob once the body has been read
 * through (for the cache, written only after the version proves good; `discard()` drops it). Throws "IO" when no
 * URL answers.
 */
export async function openModel(urls, size, { fetch: fetchImpl, signal, keep = false } = {}) {
  const f = fetchOf(fetchImpl);
  const failures = [];
  for (const url of urls) {
    let response;
    try {
      response = await f(url, { signal });
    } catch (e) {
      if (signal?.aborted) throw abortReason(signal);
      failures.push(`${url}: ${e?.message ?? e}`);
      continue;
    }
    if (!response.ok || !response.body) {
      response.body?.cancel().catch(() => {});
      failures.push(`${url}: HTTP ${response.status}`);
      continue;
    }
    let body = response.body.pipeThrough(sizeGuard(size, url));
    let copy = null, reader = null;
    if (keep) {
      const [engine, cache] = body.tee();
      body = engine;
      reader = cache.getReader();
      copy = collect(reader);
      copy.catch(() => {}); // a failed read shows up on the engine's side
    }
    return {
      url, copy: () => copy,
      /** Stops the cache's copy (when the load failed or was aborted: the download must not go on for it alone). */
      discard: () => reader?.cancel().catch(() => {}),
      response: new Response(body, { headers: { "content-type": "application/octet-stream", "content-length": String(size) } }),
    };
  }
  throw new EdgetagError("IO", `edgetag: no URL of the release answered (${failures.join("; ")})`);
}

async function collect(reader) {
  const chunks = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return new Blob(chunks);
    chunks.push(value);
  }
}
