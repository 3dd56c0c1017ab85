// source.js — brings a model's bytes into wasm memory: from a URL, a Request, a Response, a Blob, a
// ReadableStream or bytes, streaming, with progress, abort and a SHA-256 check.
//
// The bytes go straight into one wasm allocation when their size is known in advance (Content-Length of an
// uncompressed response, a Blob's size): no second copy of the model exists at any time. When the size is
// unknown (a compressed or chunked response) the chunks are kept in JavaScript until the end and copied
// once, since growing a wasm allocation would grow the module's memory for good.

import { abortError, checkAborted, raceAbort } from "./abort.js";
import { EdgetagError } from "./errors.js";
import { isPermissionError, nodeBuiltin, permissionFlag } from "./runtime.js";

export { checkAborted };

/** A string that names a cached model rather than a URL: letters, digits, "_" and "-", optionally "@version". */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*(@[A-Za-z0-9._+-]+)?$/;

/** True when `source` is the name of a cached model ("intent-clinc", "intent-clinc@1.0.0"). */
export function isModelName(source) {
  return typeof source === "string" && NAME.test(source);
}

/**
 * The absolute URL of a string or URL source: resolved against the page in browsers; in Node and Deno
 * (no page), a string that is not an absolute URL is a file path, relative to the working directory.
 */
export function resolveUrl(source) {
  const base = globalThis.location?.href;
  try {
    return base ? new URL(source, base) : new URL(source);
  } catch {
    const cwd = typeof source === "string" && workingDirectory();
    if (cwd) return fileUrl(source, cwd);
    const deno = typeof source === "string" && cwd === null && globalThis.Deno
      ? " (Deno without --allow-read cannot resolve file paths: run with --allow-read, or pass a file: URL)" : "";
    throw new EdgetagError("INVALID_ARGUMENT", `edgetag: ${String(source)} is neither a URL nor the name of a cached model${deno}`);
  }
}

/** The working directory where the runtime has files (Node, Deno), else null. */
function workingDirectory() {
  try {
    return globalThis.Deno?.cwd?.() ?? globalThis.process?.cwd?.() ?? null;
  } catch {
    return null; // Deno without --allow-read answers cwd() with a permission error: no file paths then
  }
}

/** A POSIX path (absolute, or relative to `cwd`) as a file: URL, each segment percent-encoded. */
function fileUrl(path, cwd) {
  const absolute = path.startsWith("/") ? path : `${cwd.replace(/\/+$/, "")}/${path}`;
  return new URL("file://" + absolute.split("/").map(encodeURIComponent).join("/"));
}

/**
 * Parses an integrity option into the expected SHA-256 digest as lowercase hex: Subresource Integrity form
 * ("sha256-BASE64"), "sha256:HEX" or 64 hex digits.
 */
export function parseIntegrity(integrity) {
  if (integrity === undefined || integrity === null) return null;
  const s = String(integrity).trim();
  let m = /^sha256-([A-Za-z0-9+/]{43}=?)$/.exec(s);
  if (m) {
    const bin = atob(m[1].endsWith("=") ? m[1] : m[1] + "=");
    return Array.from(bin, (c) => c.charCodeAt(0).toString(16).padStart(2, "0")).join("");
  }
  m = /^(?:sha256:)?([0-9a-fA-F]{64})$/.exec(s);
  if (m) return m[1].toLowerCase();
  throw new EdgetagError("INVALID_ARGUMENT",
    `edgetag: integrity must be "sha256-<base64>", "sha256:<hex>" or 64 hex digits, not ${JSON.stringify(s)}`);
}

/** The SHA-256 of bytes as lowercase hex (WebCrypto: browsers in a secure context, Node, Deno, workers). */
export async function sha256Hex(bytes) {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle)
    throw new EdgetagError("UNSUPPORTED", "edgetag: checking a model's SHA-256 needs WebCrypto (crypto.subtle), " +
      "which browsers only give secure contexts (https: or localhost)");
  const digest = new Uint8Array(await subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A model larger than the caller allows: refused before any byte of it is kept. */
function tooLarge(bytes, maxBytes, how) {
  return new EdgetagError("TOO_LARGE", `edgetag: the model ${how} ${bytes} bytes; maxBytes allows ${maxBytes} ` +
    "(load()'s maxBytes option; by default the engine's maxMemory)");
}

/**
 * Opens a URL, Request or Response as `{stream, size, url}`: `size` is the body's decoded length when known,
 * else null. file: URLs are read with node:fs (Node's fetch has no file: support). A server that does not answer
 * within stallTimeoutMs fails the fetch (IO); a size announced above maxBytes is refused before the body is read.
 */
export async function openSource(source, { signal, fetchImpl, stallTimeoutMs, maxBytes = MAX_MODEL_BYTES } = {}) {
  if (source instanceof URL && source.protocol === "file:") return checkSize(await openFile(source, signal), maxBytes);
  let response = source;
  if (!(typeof Response !== "undefined" && source instanceof Response)) {
    const doFetch = fetchImpl ?? globalThis.fetch;
    const where = source instanceof Request ? source.url : String(source);
    const controller = new AbortController();
    const stalled = () => new EdgetagError("IO", `edgetag: fetching ${where} failed: no answer in ${stallTimeoutMs} ms (stallTimeoutMs)`);
    // One signal for the fetch: the caller's abort, or the stall.
    const follow = () => controller.abort(signal.reason);
    signal?.addEventListener("abort", follow, { once: true });
    try {
      response = await raceAbort(doFetch(source, { signal: controller.signal }), signal, stallTimeoutMs, () => {
        const e = stalled();
        controller.abort(e);
        return e;
      });
    } catch (e) {
      if (signal?.aborted) throw abortError(signal);
      if (e instanceof EdgetagError) throw e;
      const hint = isPermissionError(e) ? ` (Deno: run with ${permissionFlag(where)})` : "";
      throw new EdgetagError("IO", `edgetag: fetching ${where} failed: ${e?.message ?? e}${hint}`, { cause: e });
    } finally {
      signal?.removeEventListener("abort", follow);
    }
  }
  if (!response.ok && response.status !== 0)
    throw new EdgetagError("IO", `edgetag: fetching ${response.url || "the model"} failed: HTTP ${response.status}`);
  if (!response.body) throw new EdgetagError("IO", `edgetag: the response for ${response.url || "the model"} has no body`);
  if (response.bodyUsed) throw new EdgetagError("INVALID_ARGUMENT", "edgetag: the response's body was already read");
  // Content-Length counts encoded bytes: trust it as the body's size only for an identity encoding.
  const encoding = (response.headers.get("content-encoding") ?? "identity").toLowerCase();
  const length = Number(response.headers.get("content-length"));
  const size = encoding === "identity" && Number.isSafeInteger(length) && length >= 0 && response.headers.has("content-length")
    ? length : null;
  return checkSize({ stream: response.body, size, url: response.url || (source instanceof Request ? source.url : String(source)) },
    maxBytes);
}

/** An opened source whose announced size is above maxBytes: refused (and its body cancelled) before it is read. */
function checkSize(opened, maxBytes) {
  if (opened.size !== null && opened.size > maxBytes) {
    opened.stream.cancel?.().catch(() => {});
    throw tooLarge(opened.size, maxBytes, "announces");
  }
  return opened;
}

async function openFile(url, signal) {
  const fs = await nodeBuiltin("node:fs/promises");
  if (!fs) throw new EdgetagError("UNSUPPORTED", `edgetag: this runtime has no file system to read ${url.href} from`);
  const handle = await fs.open(url).catch((e) => {
    const hint = isPermissionError(e) ? ` (Deno: run with ${permissionFlag(url)})` : "";
    throw new EdgetagError("IO", `edgetag: cannot open ${url.href}: ${e?.message ?? e}${hint}`, { cause: e });
  });
  const { size } = await handle.stat();
  let position = 0;
  const stream = new ReadableStream({
    type: "bytes",
    async pull(controller) {
      if (signal?.aborted) { await handle.close(); controller.error(abortError(signal)); return; }
      const chunk = new Uint8Array(Math.min(1 << 20, size - position));
      const { bytesRead } = chunk.length ? await handle.read(chunk, 0, chunk.length, position) : { bytesRead: 0 };
      if (bytesRead === 0) { await handle.close(); controller.close(); return; }
      position += bytesRead;
      controller.enqueue(chunk.subarray(0, bytesRead));
    },
    async cancel() { await handle.close(); },
  });
  return { stream, size, url: url.href };
}

/** The most a model may have: what a wasm32 allocation can hold. */
export const MAX_MODEL_BYTES = 0x7ff00000;

/** One wasm allocation for a model of `total` bytes (TOO_LARGE beyond maxBytes, checked first). */
function allocModel(engine, total, maxBytes) {
  if (total > maxBytes) throw tooLarge(total, maxBytes, "has");
  return engine.alloc(total, "the model");
}

/**
 * Reads a stream into one new wasm allocation: `{ptr, size}`, owned by the caller (free it with
 * engine.exports.free). `onProgress({loaded, total})` runs per chunk (total null when unknown); `signal`
 * aborts the read (the allocation is freed and the signal's reason thrown). A size above maxBytes is refused
 * before anything is allocated, and a body of unknown size as soon as it passes maxBytes; a body that sends
 * nothing for stallTimeoutMs fails (IO).
 */
export async function streamIntoWasm(engine, { stream, size }, { onProgress, signal, maxBytes = MAX_MODEL_BYTES, stallTimeoutMs } = {}) {
  checkAborted(signal);
  const total = size ?? null;
  if (total !== null && total > maxBytes) {
    stream.cancel?.().catch(() => {});
    throw tooLarge(total, maxBytes, "has");
  }
  let ptr = total !== null ? allocModel(engine, total, maxBytes) : 0;
  const reader = stream.getReader();
  const chunks = [];
  let loaded = 0;
  const stalled = () => new EdgetagError("IO", `edgetag: reading the model stalled: nothing came for ${stallTimeoutMs} ms ` +
    `after ${loaded} bytes (stallTimeoutMs)`);
  try {
    for (;;) {
      let step;
      try {
        step = await raceAbort(reader.read(), signal, stallTimeoutMs, stalled);
      } catch (e) {
        if (signal?.aborted || e instanceof EdgetagError) throw e;
        throw new EdgetagError("IO", `edgetag: reading the model failed after ${loaded} bytes: ${e?.message ?? e}`, { cause: e });
      }
      const { done, value } = step;
      if (done) break;
      const chunk = value instanceof Uint8Array ? value : new Uint8Array(value);
      if (total !== null) {
        if (loaded + chunk.length > total)
          throw new EdgetagError("IO", `edgetag: the model's body is longer than its announced ${total} bytes`);
        new Uint8Array(engine.memory, ptr + loaded, chunk.length).set(chunk);
      } else {
        if (loaded + chunk.length > maxBytes) throw tooLarge(loaded + chunk.length, maxBytes, "has at least");
        chunks.push(chunk);
      }
      loaded += chunk.length;
      onProgress?.({ loaded, total });
    }
    if (total !== null && loaded !== total)
      throw new EdgetagError("IO", `edgetag: the model's body ended after ${loaded} of ${total} bytes`);
    if (total === null) {
      ptr = engine.alloc(loaded, "the model");
      let at = ptr;
      for (const c of chunks) {
        new Uint8Array(engine.memory, at, c.length).set(c);
        at += c.length;
      }
      chunks.length = 0;
    }
    return { ptr, size: loaded };
  } catch (e) {
    if (ptr) engine.exports.free(ptr);
    reader.cancel(e).catch(() => {});
    throw e;
  } finally {
    reader.releaseLock?.();
  }
}

/**
 * Copies bytes already in memory into one new wasm allocation: `{ptr, size}`, as streamIntoWasm would, in
 * 1 MB steps with `onProgress` after each, synchronously: bytes at hand need no stream and no promise per
 * chunk.
 */
export function bytesIntoWasm(engine, bytes, { onProgress, signal, maxBytes = MAX_MODEL_BYTES } = {}) {
  checkAborted(signal);
  const total = bytes.byteLength;
  const ptr = allocModel(engine, total, maxBytes);
  try {
    for (let at = 0; at < total;) {
      const n = Math.min(1 << 20, total - at);
      new Uint8Array(engine.memory, ptr + at, n).set(bytes.subarray(at, at + n));
      at += n;
      onProgress?.({ loaded: at, total });
      checkAborted(signal); // the progress callback may have aborted
    }
  } catch (e) {
    engine.exports.free(ptr);
    throw e;
  }
  return { ptr, size: total };
}
