// release-fixtures.mjs — what the release tests share (Node, workerd, Chromium): signing keys, versions of a model
// that differ only in their version string (so a test can publish v1, v2, v3 of the same weights), signed manifests
// built from the bytes, and a static server with ETags, per-path behaviours and request counts.
import { createHash, createPrivateKey, generateKeyPairSync } from "node:crypto";
import { createServer } from "node:http";
import { load, rolloutBucket } from "../../web/edgetag.js";
import { publicKeyText, signManifest } from "../../tools/release.mjs";

export const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

/** RFC 8032 §7.1 TEST 1: the secret key, its public key and the signature of the empty message. */
export const RFC8032 = Object.freeze({
  seed: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
  publicKey: "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
  signature: "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
});

/** A node:crypto private key from a 32-byte Ed25519 seed (hex). */
export function keyFromSeed(seedHex) {
  const der = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), Buffer.from(seedHex, "hex")]);
  return createPrivateKey({ key: der, format: "der", type: "pkcs8" });
}

/** A new signing key: {privateKey, publicKey: "ed25519:…"}. */
export function newKey() {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { privateKey, publicKey: publicKeyText(publicKey) };
}

/**
 * The model with its edgetag.model.version string's last character set to "ABCDEFGHIJ"[n] (same length, so every
 * offset stays): a file with other bytes and another version, and the same weights. Answers {bytes, version}.
 */
export function variant(bytes, n) {
  const key = Buffer.from("edgetag.model.version");
  const at = bytes.indexOf(key);
  if (at < 0) throw new Error("the model has no edgetag.model.version");
  const len = Number(bytes.readBigUInt64LE(at + key.length + 4));
  const copy = Buffer.from(bytes);
  const start = at + key.length + 12;
  copy[start + len - 1] = "ABCDEFGHIJ".charCodeAt(n);
  return { bytes: copy, version: copy.subarray(start, start + len).toString("utf8") };
}

/** What the model answers (its task, labels and the smoke test's expectation for `input`). */
export async function describeModel(bytes, input = "book a table for two at 7pm") {
  const m = await load(bytes, { cache: "none", simd: "baseline" });
  try {
    const i = m.info;
    const expect = i.task === "sequence_classification" ? { label: m.classify(input).label }
      : { entities: m.extract(input).entities.map(({ label, text }) => ({ label, text })) };
    return { task: i.task, labels: [...i.labels], test: { input, expect } };
  } finally {
    m.dispose();
  }
}

/** A release (the manifest's own members) for `bytes` at `url`, with `extra` over it. */
export async function releaseOf(bytes, version, url, extra = {}) {
  const d = await describeModel(bytes);
  return { version, sha256: sha256(bytes), size: bytes.length, task: d.task, labels: d.labels, minEngine: "0.1.0", urls: [url],
    test: d.test, ...extra };
}

const iso = (ms) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
let clock = Math.floor(Date.now() / 1000) * 1000 - 3600_000;

/** A signed manifest: each call's createdAt is a second after the last one's (a newer manifest). */
export function manifest(privateKey, { channel = "tiny/stable", name = "tiny", rollout = 100, current, previous = null, createdAt, expiresAt, ...rest }) {
  clock += 1000;
  return signManifest({
    schema: "edgetag.release/1", channel, name, ...current, rollout,
    previous: previous && { ...previous, createdAt: iso(clock - 500_000) },
    createdAt: createdAt ?? iso(clock), expiresAt: expiresAt ?? iso(Date.now() + 30 * 86_400_000), ...rest,
  }, privateKey);
}

/**
 * A static server on 127.0.0.1: set(path, body | {body, etag = true, chunkDelayMs, status}) serves a route with a
 * strong ETag (304 to a matching If-None-Match). hits(path) → {ok, notModified, bytes}: requests answered 200 and
 * 304 and body bytes sent. chunkDelayMs sends the body in 16 KB chunks with a pause between them.
 */
export async function releaseServer() {
  const routes = new Map(), hits = new Map();
  const count = (p) => hits.get(p) ?? hits.set(p, { ok: 0, notModified: 0, bytes: 0 }).get(p);
  const server = createServer(async (req, res) => {
    const path = new URL(req.url, "http://x").pathname;
    const r = routes.get(path);
    if (!r) return res.writeHead(404).end();
    const body = Buffer.from(r.body);
    const etag = `"${sha256(body).slice(0, 20)}"`;
    if (r.etag !== false && req.headers["if-none-match"] === etag) {
      count(path).notModified++;
      return res.writeHead(304, { etag }).end();
    }
    count(path).ok++;
    res.writeHead(r.status ?? 200, { "content-length": body.length, ...(r.etag !== false && { etag }), "cache-control": "no-cache" });
    if (!r.chunkDelayMs) {
      count(path).bytes += body.length;
      return res.end(body);
    }
    let closed = false;
    res.on("close", () => { closed = true; });
    for (let at = 0; at < body.length && !closed; at += 16384) {
      const chunk = body.subarray(at, at + 16384);
      res.write(chunk);
      count(path).bytes += chunk.length;
      await new Promise((ok) => setTimeout(ok, r.chunkDelayMs));
    }
    res.end();
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const base = `http://127.0.0.1:${server.address().port}`;
  return {
    base, server,
    set(path, r) { routes.set(path, Buffer.isBuffer(r) || typeof r === "string" ? { body: r } : r); },
    json(path, object, extra = {}) { routes.set(path, { body: JSON.stringify(object), ...extra }); },
    hits: (p) => ({ ...count(p) }),
    close: () => new Promise((ok) => { server.closeAllConnections(); server.close(ok); }),
  };
}

/** An in-memory cache adapter (web/cache.js's contract) that records its keys. */
export function memoryCache() {
  const entries = new Map();
  return {
    entries,
    async get(key) { return entries.get(key); },
    async put(key, data, manifest) { entries.set(key, { data: new Uint8Array(await new Blob([data]).arrayBuffer()), manifest }); },
    async delete(key) { entries.delete(key); },
    versions: () => [...entries.values()].map((e) => e.manifest.version).sort(),
  };
}

/** Two installation ids for `channel`: one inside a `percent` % rollout, one outside it. */
export async function rolloutBucketsOf(channel, percent) {
  const ids = {};
  for (let i = 0; !(ids.inside && ids.outside); i++) {
    const id = `installation-${i}`;
    ids[100 * (await rolloutBucket(id, channel)) < percent ? "inside" : "outside"] ??= id;
  }
  return ids;
}
