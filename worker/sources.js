// sources.js — where a model's bytes come from, as something web/'s load() takes, with the SHA-256 they
// must have:
//   r2       an R2 object through a bucket binding, streamed (its size is known, so it goes straight into
//            wasm memory with no copy in JavaScript), checked against the configured sha256
//   kv       a KV entry (values are at most 25 MiB: int8 models fit) read as one ArrayBuffer, checked
//   bundled  a Data module of the deployed bundle (or, under Node and Deno, a file beside the service),
//            checked when the configuration gives a sha256
//   url      a model fetched over HTTP: from a manifest (JSON: {sha256, url, size?, version?, task?,
//            minEngine?}, url relative to the manifest), or a URL with its sha256
// A source that cannot be had throws SourceError, whose message says which binding, key or URL failed.

import { version as libraryVersion } from "../web/edgetag.js";

export class SourceError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "SourceError";
    this.code = code;
  }
}

/** Where a model came from, for /v1/models and the logs (no secrets: bindings, keys and URLs only). */
function describe(spec) {
  switch (spec.source) {
    case "r2": return `r2 ${spec.binding}/${spec.key}`;
    case "kv": return `kv ${spec.binding}/${spec.key}`;
    case "bundled": return `bundled ${spec.module}`;
    default: return `url ${spec.manifest ?? spec.url}`;
  }
}

function binding(env, spec, method) {
  const b = env?.[spec.binding];
  if (!b || typeof b[method] !== "function")
    throw new SourceError("BINDING", `there is no ${spec.source === "r2" ? "R2 bucket" : "KV namespace"} binding named ${spec.binding}` +
      " in this deployment (wrangler.toml / config.capnp)");
  return b;
}

/** "1.2.3" ≥ "1.2"? Numeric, part by part; anything after "-" or "+" is ignored. */
function atLeast(have, want) {
  const parts = (v) => String(v).split(/[-+]/)[0].split(".").map((x) => Number.parseInt(x, 10) || 0);
  const [a, b] = [parts(have), parts(want)];
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}

async function fetchManifest(spec, fetchImpl, signal) {
  let response;
  try {
    response = await fetchImpl(spec.manifest, { signal, headers: { accept: "application/json" } });
  } catch (e) {
    throw new SourceError("IO", `fetching the manifest ${spec.manifest} failed: ${e?.message ?? e}`);
  }
  if (!response.ok) {
    response.body?.cancel().catch(() => {});
    throw new SourceError("IO", `fetching the manifest ${spec.manifest} failed: HTTP ${response.status}`);
  }
  let m;
  try {
    m = JSON.parse(await response.text());
  } catch {
    throw new SourceError("MANIFEST", `the manifest ${spec.manifest} is not JSON`);
  }
  if (!m || typeof m !== "object" || typeof m.sha256 !== "string" || !/^[0-9a-fA-F]{64}$/.test(m.sha256))
    throw new SourceError("MANIFEST", `the manifest ${spec.manifest} has no sha256 (64 hex digits)`);
  if (typeof (m.url ?? m.file) !== "string") throw new SourceError("MANIFEST", `the manifest ${spec.manifest} has no url`);
  const sha256 = m.sha256.toLowerCase();
  if (spec.sha256 && spec.sha256 !== sha256)
    throw new SourceError("INTEGRITY", `the manifest ${spec.manifest} names sha256 ${sha256}, not the configured ${spec.sha256}`);
  if (m.minEngine !== undefined && !atLeast(libraryVersion, m.minEngine))
    throw new SourceError("UNSUPPORTED", `the manifest ${spec.manifest} needs engine ${m.minEngine}; this is ${libraryVersion}`);
  let url;
  try {
    url = new URL(m.url ?? m.file, spec.manifest);
  } catch {
    throw new SourceError("MANIFEST", `the manifest ${spec.manifest} has a url that is not one`);
  }
  return { url: url.href, sha256, manifest: { version: m.version ?? null, size: m.size ?? null, task: m.task ?? null, minEngine: m.minEngine ?? null } };
}

/**
 * Opens a model's source: `{source, size, sha256, where, manifest}` where `source` is what load() takes
 * (a ReadableStream with its size, an ArrayBuffer or Uint8Array, or a URL) and `sha256` the digest it must
 * have (null when the configuration gives none, for a bundled model only).
 * @param {object} spec a model's checked configuration (config.js)
 * @param {object} env the bindings
 * @param {{bundled?: Record<string, ArrayBuffer | Uint8Array | (() => Promise<ArrayBuffer | Uint8Array>)>, fetch?: typeof fetch, signal?: AbortSignal}} deps
 */
export async function openSource(spec, env, { bundled = {}, fetch: fetchImpl = globalThis.fetch, signal } = {}) {
  const where = describe(spec);
  switch (spec.source) {
    case "r2": {
      const object = await binding(env, spec, "get").get(spec.key);
      if (!object) throw new SourceError("MISSING", `the R2 object ${spec.key} is not in the bucket bound as ${spec.binding}`);
      if (!object.body) throw new SourceError("IO", `the R2 object ${spec.key} has no body`);
      return { source: object.body, size: object.size, sha256: spec.sha256, where, manifest: null };
    }
    case "kv": {
      const bytes = await binding(env, spec, "get").get(spec.key, { type: "arrayBuffer" });
      if (!bytes) throw new SourceError("MISSING", `the KV entry ${spec.key} is not in the namespace bound as ${spec.binding}`);
      return { source: bytes, size: bytes.byteLength, sha256: spec.sha256, where, manifest: null };
    }
    case "bundled": {
      const entry = bundled[spec.module];
      if (entry === undefined) throw new SourceError("MISSING", `no bundled model ${spec.module}`);
      const bytes = typeof entry === "function" ? await entry() : entry;
      if (!(bytes instanceof ArrayBuffer || ArrayBuffer.isView(bytes)))
        throw new SourceError("IO", `the bundled model ${spec.module} is not bytes`);
      return { source: bytes, size: bytes.byteLength, sha256: spec.sha256 ?? null, where, manifest: null };
    }
    case "url": {
      if (!spec.manifest) return { source: spec.url, size: null, sha256: spec.sha256, where, manifest: null };
      const m = await fetchManifest(spec, fetchImpl, signal);
      return { source: m.url, size: m.manifest.size, sha256: m.sha256, where, manifest: m.manifest };
    }
    default:
      throw new SourceError("CONFIG", `unknown source ${spec.source}`);
  }
}

export { describe as describeSource };
