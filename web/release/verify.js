// verify.js — whether to believe a manifest: its Ed25519 signature by a trusted key (WebCrypto), the channel it
// is for, its validity window, and that it is not older than one believed before.
//
// The contract: every check throws an EdgetagError with its own code (models/RELEASE.md, "How a client reads
// it"): UNTRUSTED_KEY, SIGNATURE, CHANNEL, EXPIRED, STALE; UNSUPPORTED when this runtime's WebCrypto has no
// Ed25519 and the caller gave no `verifier` — a signature is never taken on trust.

import { EdgetagError } from "../errors.js";
import { canonicalize, parseManifest, signedBytes } from "./manifest.js";

/** How far a device's clock may be off before a manifest counts as expired or not yet valid. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

const KEY_TEXT = /^ed25519:([A-Za-z0-9+/]{43}=)$/;
const ED25519 = { name: "Ed25519" };

function fromBase64(s) {
  return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
}

export function toBase64(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function subtleOf(subtle) {
  const s = subtle ?? globalThis.crypto?.subtle;
  if (!s) throw new EdgetagError("UNSUPPORTED", "edgetag: verifying a release needs WebCrypto (crypto.subtle), " +
    "which browsers only give secure contexts (https: or localhost)");
  return s;
}

/** A public key ("ed25519:<base64 of 32 bytes>", or the 32 bytes) as its raw bytes. */
export function parsePublicKey(key) {
  if (key instanceof Uint8Array && key.byteLength === 32) return new Uint8Array(key);
  const m = typeof key === "string" ? KEY_TEXT.exec(key.trim()) : null;
  const raw = m ? fromBase64(m[1]) : null;
  if (!raw || raw.byteLength !== 32)
    throw new EdgetagError("INVALID_ARGUMENT", `edgetag: a public key is "ed25519:" and the base64 of its 32 bytes (tools/release.mjs keygen prints it), not ${JSON.stringify(String(key)).slice(0, 80)}`);
  return raw;
}

/** A key's id: the first 8 bytes of SHA-256 of its raw bytes, as 16 hex digits. */
export async function keyIdOf(raw, subtle) {
  const digest = new Uint8Array(await subtleOf(subtle).digest("SHA-256", raw));
  return Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The trusted keys, ready to check signatures with: `keys` is one public key or an array of them (a rotation:
 * the old and the new key both trusted for a while). Answers [{raw, keyId}].
 */
export async function trustedKeys(keys, subtle) {
  const list = Array.isArray(keys) ? keys : [keys];
  if (!list.length) throw new EdgetagError("INVALID_ARGUMENT", "edgetag: a release needs publicKey: the key its manifests are signed with");
  return Promise.all(list.map(async (k) => {
    const raw = parsePublicKey(k);
    return { raw, keyId: await keyIdOf(raw, subtle) };
  }));
}

/** True when an error says WebCrypto does not know the algorithm (NotSupportedError, or older engines' spellings). */
function isUnsupported(e) {
  return e?.name === "NotSupportedError" || e?.name === "NotImplementedError" ||
    /not supported|unrecognized|unknown algorithm|algorithm.*(invalid|unsupported)/i.test(e?.message ?? "");
}

/** Ed25519 verification by WebCrypto, or by the caller's verifier where WebCrypto has no Ed25519. */
async function ed25519Verify(raw, signature, message, { subtle, verifier }) {
  let key;
  try {
    key = await subtleOf(subtle).importKey("raw", raw, ED25519, false, ["verify"]);
  } catch (e) {
    if (!isUnsupported(e) && e?.code !== "UNSUPPORTED") throw e;
    if (verifier) return Boolean(await verifier({ publicKey: raw, signature, message }));
    throw new EdgetagError("UNSUPPORTED", "edgetag: this runtime's WebCrypto has no Ed25519, so it cannot verify a signed release, " +
      "and edgetag does not load one it cannot verify; update the browser (Chrome 137, Firefox 129, Safari 17 have it) or pass " +
      "verifier: ({publicKey, signature, message}) => boolean (e.g. from @noble/ed25519)", { cause: e });
  }
  return subtleOf(subtle).verify(ED25519, key, signature, message);
}

/**
 * Checks a parsed manifest's signature against the trusted keys (from trustedKeys()). `where` names it in
 * messages. Throws UNTRUSTED_KEY, SIGNATURE or UNSUPPORTED.
 */
export async function verifySignature(manifest, keys, { where = "the release manifest", subtle, verifier } = {}) {
  const key = keys.find((k) => k.keyId === manifest.keyId);
  if (!key)
    throw new EdgetagError("UNTRUSTED_KEY", `edgetag: ${where} is signed with key ${manifest.keyId}, which is not a trusted key ` +
      `(trusted: ${keys.map((k) => k.keyId).join(", ")})`);
  const ok = await ed25519Verify(key.raw, fromBase64(manifest.signature), signedBytes(manifest), { subtle, verifier });
  if (!ok)
    throw new EdgetagError("SIGNATURE", `edgetag: the signature of ${where} does not verify with key ${key.keyId}: ` +
      "the manifest was changed after it was signed");
}

/**
 * Checks what a believed manifest must also be: for `channel` (when the client names one), inside its validity
 * window at `now` (± clockSkewMs), and not older than the manifest accepted before (`accepted`: its createdAt
 * and canonical text). Throws CHANNEL, EXPIRED or STALE.
 */
export function checkFreshness(manifest, { where = "the release manifest", channel, now = Date.now(), clockSkewMs = CLOCK_SKEW_MS, accepted } = {}) {
  if (channel !== undefined && channel !== null && manifest.channel !== channel)
    throw new EdgetagError("CHANNEL", `edgetag: ${where} is for channel ${manifest.channel}, not ${channel}`);
  const created = Date.parse(manifest.createdAt), expires = Date.parse(manifest.expiresAt);
  const clock = new Date(now).toISOString();
  if (now > expires + clockSkewMs)
    throw new EdgetagError("EXPIRED", `edgetag: ${where} expired at ${manifest.expiresAt} (the clock says ${clock}, ` +
      `allowing ${clockSkewMs / 1000} s of skew): publish it again`);
  if (created > now + clockSkewMs)
    throw new EdgetagError("EXPIRED", `edgetag: ${where} is not valid before ${manifest.createdAt} (the clock says ${clock}, ` +
      `allowing ${clockSkewMs / 1000} s of skew): is this device's clock right?`);
  if (accepted) {
    const before = Date.parse(accepted.createdAt);
    if (created < before || (created === before && canonicalize(manifest) !== accepted.canonical))
      throw new EdgetagError("STALE", `edgetag: ${where} was created at ${manifest.createdAt}, before the manifest of ` +
        `${accepted.createdAt} this installation already accepted: an old manifest is not taken back`);
  }
}

/**
 * Reads and believes a manifest as a client does at a check (models/RELEASE.md, steps 1 to 4): its JSON checked,
 * its signature by one of `publicKey` (one key or several), its channel (when given) and its validity window at
 * `now`. Answers the manifest; throws MANIFEST, UNSIGNED, UNTRUSTED_KEY, SIGNATURE, CHANNEL, EXPIRED or UNSUPPORTED.
 */
export async function verifyManifest(text, { publicKey, channel, now, clockSkewMs, verifier, where } = {}) {
  const manifest = parseManifest(text, where);
  await verifySignature(manifest, await trustedKeys(publicKey), { where, verifier });
  checkFreshness(manifest, { where, channel, now, clockSkewMs });
  return manifest;
}
