// release.js — models served from signed release manifests (models/RELEASE.md), read from R2, KV or a URL with
// the library's own release channel: the same verification as in browsers (signature, channel, validity window,
// SHA-256 before the engine reads a byte, smoke test), the same rollout buckets, updates swapped in between
// requests and the last good version kept serving when a new one fails.
//
// A model entry {"source": "manifest", "manifest": "r2:releases/intent-clinc/stable.json" | "kv:…" | "https://…",
// "publicKey": "ed25519:…" (or a list), "channel"?, "installationId"?, "checkIntervalSeconds"?, "binding"?}.
// r2: and kv: manifests become r2://BINDING/key and kv://BINDING/key URLs, which the fetch() given to the library
// reads from the bindings (R2 with its ETag, answering 304 without a body; KV by content hash); the manifest's
// relative file URLs then name objects beside it. The isolate has no disk: the channel's state lives in memory,
// one installation per isolate unless the entry names an installationId (then every isolate is that
// installation), so an isolate that starts again downloads the version its bucket gets. Checks run in the
// background of a request (ctx.waitUntil) once checkIntervalSeconds have passed since the last.

import { load, memoryStore } from "../web/edgetag.js";

/** A manifest setting as the library's URL: r2:key → r2://BINDING/key, kv:key → kv://BINDING/key, https: as it is. */
export function manifestUrl(spec) {
  const m = /^(r2|kv):(.+)$/.exec(spec.manifest);
  if (!m) return spec.manifest;
  return `${m[1]}://${spec.binding}/${m[2].split("/").map(encodeURIComponent).join("/")}`;
}

async function digest(bytes) {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return `"${Array.from(d.subarray(0, 16), (b) => b.toString(16).padStart(2, "0")).join("")}"`;
}

/**
 * fetch() for the release channel: r2:// and kv:// URLs from the bindings (404 when the object is missing; a
 * matching If-None-Match answers 304), anything else from the network.
 */
export function bindingFetch(env, fetchImpl = globalThis.fetch) {
  return async (input, init = {}) => {
    const url = new URL(typeof input === "string" ? input : input.url);
    if (url.protocol !== "r2:" && url.protocol !== "kv:") return fetchImpl(input, init);
    const bucket = env?.[url.host] ?? env?.[decodeURIComponent(url.host)];
    const key = url.pathname.slice(1).split("/").map(decodeURIComponent).join("/");
    const ifNoneMatch = new Headers(init.headers).get("if-none-match");
    if (url.protocol === "r2:") {
      if (typeof bucket?.get !== "function") throw new TypeError(`there is no R2 bucket binding named ${url.host}`);
      const object = await bucket.get(key, ifNoneMatch ? { onlyIf: { etagDoesNotMatch: ifNoneMatch.replace(/^W\//, "").replace(/"/g, "") } } : undefined);
      if (!object) return new Response(null, { status: 404 });
      if (!object.body) return new Response(null, { status: 304, headers: { etag: object.httpEtag } });
      return new Response(object.body, { headers: { etag: object.httpEtag, "content-length": String(object.size) } });
    }
    if (typeof bucket?.get !== "function") throw new TypeError(`there is no KV namespace binding named ${url.host}`);
    const bytes = await bucket.get(key, { type: "arrayBuffer" });
    if (!bytes) return new Response(null, { status: 404 });
    const etag = await digest(bytes);
    if (ifNoneMatch === etag) return new Response(null, { status: 304, headers: { etag } });
    return new Response(bytes, { headers: { etag, "content-length": String(bytes.byteLength) } });
  };
}

/** The isolate's state store: one installation id for all its channels (unless an entry names its own). */
let isolateStore = null;

/**
 * Opens a model entry's release channel: resolves a ReleaseTagger serving the version this isolate's bucket gets
 * (rejects with the library's EdgetagError: SIGNATURE, EXPIRED, INTEGRITY, SMOKE_TEST, ENGINE_VERSION…).
 */
export function openChannel(spec, env, { wasmModule, fetch: fetchImpl, signal, limits = {} }) {
  const store = spec.installationId ? memoryStore() : (isolateStore ??= memoryStore());
  return load({ manifest: manifestUrl(spec), publicKey: spec.publicKey, ...(spec.channel && { channel: spec.channel }) }, {
    fetch: bindingFetch(env, fetchImpl), cache: "none", store, checkIntervalMs: 0, signal, ...limits,
    ...(spec.installationId && { installationId: spec.installationId }), ...(wasmModule && { wasmModule }),
  });
}

/** What /v1/models and /v1/health say about a channel: version, rollout, rollback state, the last check. */
export function describeRelease(channel) {
  const s = channel.state;
  return {
    channel: s.channel, version: s.version, phase: s.phase, previousVersion: s.previousVersion,
    manifest: s.manifest, rollout: s.rollout, candidate: s.candidate,
    bad: s.bad.map(({ version, code, reason, at }) => ({ version, code, reason, at })),
    skipped: s.skipped, lastCheck: s.lastCheck,
  };
}
