// release.test.mjs — the release manifest and its trust, without a network: the canonical encoding and signature
// against fixed vectors (RFC 8032's key), good / tampered / wrong-key / expired / unsigned / malformed / other-channel
// manifests, a runtime without Ed25519 (refused unless a verifier is given), rollout buckets over 10,000
// installations, engine-version bounds, and the CLI (keygen, publish, rollout, rollback, sign, verify).
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { createPublicKey, verify as nodeVerify } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canonicalize, rolloutBucket, verifyManifest } from "../../web/edgetag.js";
import { engineProblem, signedBytes } from "../../web/release/manifest.js";
import { publicKeyText, signManifest } from "../../tools/release.mjs";
import { RFC8032, keyFromSeed, newKey } from "./release-fixtures.mjs";
import { cli, path, readBuilt } from "./helpers.mjs";

const rfcKey = keyFromSeed(RFC8032.seed);
const rfcPublic = publicKeyText(createPublicKey(rfcKey));
const codeOf = (p) => p.then(() => "accepted", (e) => e.code ?? e.name);

/** A manifest as a publisher writes it (unsigned), in the shape of models/RELEASE.md's example. */
const BODY = Object.freeze({
  schema: "edgetag.release/1", channel: "demo/stable", name: "Démo «model»", version: "1.2.0", sha256: "a".repeat(64), size: 355372,
  task: "sequence_classification", labels: ["negative", "neutral", "positive"], minEngine: "0.1.0", maxEngine: "0",
  urls: ["demo-aaaaaaaaaaaa.gguf"], test: { input: "ça va? \"yes\"\n", expect: { label: "positive" } }, rollout: 12.5, previous: null,
  createdAt: "2026-01-01T00:00:00Z", expiresAt: "2036-01-01T00:00:00Z",
});
const AT = Date.parse("2026-06-01T00:00:00Z");

describe("the canonical encoding and the signature: fixed vectors", () => {
  test("RFC 8032 TEST 1: node:crypto's key from the seed has the RFC's public key and signature", async () => {
    assert.equal(Buffer.from(rfcPublic.slice(8), "base64").toString("hex"), RFC8032.publicKey);
    const sig = await crypto.subtle.sign("Ed25519", await crypto.subtle.importKey("pkcs8",
      rfcKey.export({ format: "der", type: "pkcs8" }), "Ed25519", false, ["sign"]), new Uint8Array(0));
    assert.equal(Buffer.from(sig).toString("hex"), RFC8032.signature, "WebCrypto signs the empty message as the RFC says");
  });

  test("RFC 8785: members sorted, no whitespace, strings and numbers as JSON.stringify writes them", () => {
    assert.equal(canonicalize({ b: 1, a: [true, null, "é\u0001\u2028"], "\u00e9": 0.5, A: 1e21, c: { z: -0, y: "x" } }),
      '{"A":1e+21,"a":[true,null,"é\\u0001\u2028"],"b":1,"c":{"y":"x","z":0},"é":0.5}');
    assert.throws(() => canonicalize({ a: undefined }), { code: "MANIFEST" });
    assert.throws(() => canonicalize({ a: NaN }), { code: "MANIFEST" });
  });

  test("a manifest's signed bytes and its signature with the RFC's key are these (a vector for other implementations)", async () => {
    const signed = signManifest(BODY, rfcKey);
    assert.equal(new TextDecoder().decode(signedBytes(signed)),
      '{"channel":"demo/stable","createdAt":"2026-01-01T00:00:00Z","expiresAt":"2036-01-01T00:00:00Z","keyId":"21fe31dfa154a261",' +
      '"labels":["negative","neutral","positive"],"maxEngine":"0","minEngine":"0.1.0","name":"Démo «model»","previous":null,' +
      '"rollout":12.5,"schema":"edgetag.release/1","sha256":"' + "a".repeat(64) + '","size":355372,"task":"sequence_classification",' +
      '"test":{"expect":{"label":"positive"},"input":"ça va? \\"yes\\"\\n"},"urls":["demo-aaaaaaaaaaaa.gguf"],"version":"1.2.0"}');
    assert.equal(signed.keyId, "21fe31dfa154a261");
    assert.equal(signed.signature, "3sP7WT8k7GxAMH8rnpAwKTcAwVpYmEGd6NE/v/Wj8SmvyFRka7hRLY8wuyQxNT0mzio7XfFhAOZ1knj6REmiDA==");
    // node:crypto agrees with the library's WebCrypto path, and the pretty-printed file verifies: whitespace is not signed.
    assert.ok(nodeVerify(null, signedBytes(signed), createPublicKey(rfcKey), Buffer.from(signed.signature, "base64")));
    const m = await verifyManifest(JSON.stringify(signed, null, 2), { publicKey: rfcPublic, now: AT });
    assert.equal(m.version, "1.2.0");
  });
});

describe("which manifests are believed", () => {
  const good = signManifest(BODY, rfcKey);
  const check = (m, options = {}) => codeOf(verifyManifest(typeof m === "string" ? m : JSON.stringify(m), { publicKey: rfcPublic, now: AT, ...options }));

  test("good: accepted, with key rotation (either of two trusted keys)", async () => {
    assert.equal(await check(good), "accepted");
    assert.equal(await check(good, { publicKey: [newKey().publicKey, rfcPublic] }), "accepted");
    assert.equal(await check(good, { channel: "demo/stable" }), "accepted");
  });

  test("tampered: any member changed after signing — SIGNATURE", async () => {
    for (const change of [{ rollout: 100 }, { sha256: "b".repeat(64) }, { urls: ["https://evil.example/x.gguf"] }, { expiresAt: "2040-01-01T00:00:00Z" },
      { test: { input: "x", expect: { label: "negative" } } }, { previous: null, labels: ["negative", "neutral", "positivE"] }])
      assert.equal(await check({ ...good, ...change }), "SIGNATURE", JSON.stringify(change));
    const flipped = Buffer.from(good.signature, "base64");
    flipped[10] ^= 1;
    assert.equal(await check({ ...good, signature: flipped.toString("base64") }), "SIGNATURE");
  });

  test("wrong key: signed by a key not trusted — UNTRUSTED_KEY; a trusted key's id on another key's signature — SIGNATURE", async () => {
    const other = newKey();
    const byOther = signManifest(BODY, other.privateKey);
    assert.equal(await check(byOther), "UNTRUSTED_KEY");
    await assert.rejects(verifyManifest(JSON.stringify(byOther), { publicKey: rfcPublic, now: AT }), /signed with key [0-9a-f]{16}, which is not a trusted key \(trusted: 21fe31dfa154a261\)/);
    assert.equal(await check({ ...byOther, keyId: good.keyId }), "SIGNATURE");
  });

  test("expired or not yet valid, beyond the clock-skew tolerance — EXPIRED; within it, accepted", async () => {
    const expired = signManifest({ ...BODY, expiresAt: "2026-05-01T00:00:00Z" }, rfcKey);
    assert.equal(await check(expired), "EXPIRED");
    await assert.rejects(verifyManifest(JSON.stringify(expired), { publicKey: rfcPublic, now: AT }), /expired at 2026-05-01T00:00:00Z .* allowing 300 s of skew/);
    assert.equal(await check(expired, { now: Date.parse("2026-05-01T00:04:00Z") }), "accepted", "4 minutes late: within the 5 of skew");
    assert.equal(await check(expired, { now: Date.parse("2026-05-01T00:06:00Z") }), "EXPIRED");
    assert.equal(await check(good, { now: Date.parse("2025-12-31T23:50:00Z") }), "EXPIRED", "created 10 minutes in the future");
    assert.equal(await check(good, { now: Date.parse("2025-12-31T23:50:00Z"), clockSkewMs: 3600_000 }), "accepted");
  });

  test("unsigned — UNSIGNED; malformed — MANIFEST listing every problem; another channel — CHANNEL", async () => {
    const { signature: _s, ...unsigned } = good;
    assert.equal(await check(unsigned), "UNSIGNED");
    assert.equal(await check("{not json"), "MANIFEST");
    assert.equal(await check("x".repeat(2 << 20)), "MANIFEST");
    const bad = { ...good, rollout: 150, sha256: "XYZ", extra: 1, urls: [], previous: { version: "1" } };
    delete bad.expiresAt;
    const e = await verifyManifest(JSON.stringify(bad), { publicKey: rfcPublic, now: AT }).catch((x) => x);
    assert.equal(e.code, "MANIFEST");
    for (const p of [/no member "extra"/, /expiresAt is missing/, /rollout must be a percentage/, /sha256 must be 64 lowercase hex/,
      /urls must list 1 to 8/, /previous.sha256 must be/, /previous.createdAt must be/])
      assert.match(e.message, p);
    assert.equal(await check(good, { channel: "demo/beta" }), "CHANNEL");
  });

  test("a runtime whose WebCrypto has no Ed25519 refuses (UNSUPPORTED) unless given a verifier, which is then used", async () => {
    const subtle = crypto.subtle;
    // WebCrypto as engines without Ed25519 have it (Safari < 17, Firefox < 129): importKey throws NotSupportedError.
    const noEd25519 = {
      digest: (...a) => subtle.digest(...a), verify: (...a) => subtle.verify(...a),
      importKey: async (format, raw, alg, ...rest) => {
        if ((alg?.name ?? alg) === "Ed25519") throw new DOMException("Unrecognized algorithm name", "NotSupportedError");
        return subtle.importKey(format, raw, alg, ...rest);
      },
    };
    const original = Object.getOwnPropertyDescriptor(globalThis.crypto, "subtle") ?? Object.getOwnPropertyDescriptor(Object.getPrototypeOf(globalThis.crypto), "subtle");
    Object.defineProperty(globalThis.crypto, "subtle", { value: noEd25519, configurable: true });
    try {
      const e = await verifyManifest(JSON.stringify(good), { publicKey: rfcPublic, now: AT }).catch((x) => x);
      assert.equal(e.code, "UNSUPPORTED");
      assert.match(e.message, /has no Ed25519.*does not load one it cannot verify.*verifier/);
      const calls = [];
      const verifier = ({ publicKey, signature, message }) => {
        calls.push(publicKey.length);
        return nodeVerify(null, message, createPublicKey(rfcKey), signature);
      };
      assert.equal(await check(good, { verifier }), "accepted");
      assert.equal(await check({ ...good, rollout: 99 }, { verifier }), "SIGNATURE", "the verifier's false is a refusal");
      assert.deepEqual(calls, [32, 32]);
    } finally {
      Object.defineProperty(globalThis.crypto, "subtle", original);
    }
  });
});

describe("rollout buckets", () => {
  test("of 10,000 installations, 10 % ± 1.5 take a 10 % release; raising it only adds; channels are independent", async (t) => {
    const ids = Array.from({ length: 10000 }, () => crypto.randomUUID());
    const a = await Promise.all(ids.map((id) => rolloutBucket(id, "intent-clinc/stable")));
    const b = await Promise.all(ids.map((id) => rolloutBucket(id, "pii-ner/stable")));
    const share = (u, p) => u.filter((x) => 100 * x < p).length / u.length;
    const ten = share(a, 10);
    t.diagnostic(`10 % release: ${(100 * ten).toFixed(2)} % of 10,000 installations; 50 %: ${(100 * share(a, 50)).toFixed(2)} %; ` +
      `1 %: ${(100 * share(a, 1)).toFixed(2)} %`);
    assert.ok(Math.abs(ten - 0.10) <= 0.015, `${ten}`);
    assert.ok(Math.abs(share(a, 50) - 0.5) <= 0.02);
    assert.equal(share(a, 0), 0);
    assert.equal(share(a, 100), 1);
    // Stable: the same id and channel give the same bucket; monotone: those in at 10 % are in at 50 %.
    assert.equal(await rolloutBucket(ids[0], "intent-clinc/stable"), a[0]);
    assert.ok(a.every((u) => !(100 * u < 10) || 100 * u < 50));
    // Independent: of the installations in one channel's 10 %, about 10 % are in the other's.
    const both = a.filter((u, i) => 100 * u < 10 && 100 * b[i] < 10).length / a.filter((u) => 100 * u < 10).length;
    assert.ok(Math.abs(both - 0.10) < 0.04, `${both}`);
  });
});

test("engine bounds: minEngine as a version, maxEngine as a prefix", () => {
  const r = (minEngine, maxEngine) => ({ minEngine, ...(maxEngine && { maxEngine }) });
  assert.equal(engineProblem(r("0.1.0"), "0.1.0"), null);
  assert.match(engineProblem(r("0.2.0"), "0.1.0"), /needs engine 0\.2\.0 or newer \(this is 0\.1\.0\)/);
  assert.equal(engineProblem(r("0.1.0", "0"), "0.9.3"), null);
  assert.equal(engineProblem(r("0.1.0", "0.1"), "0.1.7"), null);
  assert.match(engineProblem(r("0.1.0", "0.1"), "0.2.0"), /needs engine 0\.1 or older/);
  assert.match(engineProblem(r("0.0.1", "0.0.9"), "0.1.0"), /or older/);
});

describe("tools/release.mjs", () => {
  const TOOL = path("tools/release.mjs");
  const run = (...args) => cli(process.execPath, [TOOL, ...args]);
  const dir = mkdtempSync(join(tmpdir(), "edgetag-release-"));
  const key = join(dir, "keys", "team.key");
  const model = readBuilt("build/ref/tiny-i8.gguf", "make refmodels");
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

  test("keygen: the private key 0600 in a 0700 folder, the public key beside it; never over a key, never in a git tree", async () => {
    const r = await run("keygen", "--out", key);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(key).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, "keys")).mode & 0o777, 0o700);
    const pub = readFileSync(`${key}.pub`, "utf8").trim();
    assert.match(pub, /^ed25519:[A-Za-z0-9+/]{43}=$/);
    assert.ok(r.stdout.includes(pub));
    assert.equal((await run("keygen", "--out", key)).code, 2, "a second keygen over the same path is refused");
    const inRepo = await run("keygen", "--out", path("build/release-test.key"));
    assert.equal(inRepo.code, 2);
    assert.match(inRepo.stderr, /inside the git work tree .* keep signing keys out of repositories/);
  });

  test("publish, rollout, rollback: each manifest verifies; previous chains; the test is filled by running the model", async () => {
    const out = join(dir, "site");
    let r = await run("publish", path("build/ref/tiny-i8.gguf"), "--channel", "tiny/stable", "--out", out, "--key", key,
      "--test-input", "book a table for two", "--r2-bucket", "edgetag-models");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /npx wrangler r2 object put edgetag-models\/tiny\/edgetag-reference-tiny-random-weights-[0-9a-f]{12}\.gguf --file .* --remote\n.*tiny\/stable\.json/);
    const file = join(out, "tiny/stable.json");
    const v1 = JSON.parse(readFileSync(file, "utf8"));
    assert.deepEqual([v1.rollout, v1.previous, v1.test.input, typeof v1.test.expect.label], [100, null, "book a table for two", "string"]);
    assert.equal((await run("verify", file, "--public-key-file", `${key}.pub`, "--model", path("build/ref/tiny-i8.gguf"))).code, 0);
    // A second version (same weights, other bytes) at 10 %: the first becomes its previous.
    const v2bytes = Buffer.from(model);
    v2bytes[v2bytes.indexOf(Buffer.from("edgetag.model.version")) + 33] = 0x32; // "0" → "2"
    writeFileSync(join(dir, "v2.gguf"), v2bytes);
    r = await run("publish", join(dir, "v2.gguf"), "--channel", "tiny/stable", "--out", out, "--key", key, "--rollout", "10", "--version", "tiny-2");
    assert.equal(r.code, 0, r.stderr);
    const v2 = JSON.parse(readFileSync(file, "utf8"));
    assert.deepEqual([v2.version, v2.rollout, v2.previous.version, v2.previous.sha256], ["tiny-2", 10, v1.version, v1.sha256]);
    assert.ok(Date.parse(v2.createdAt) > Date.parse(v1.createdAt), "a newer createdAt");
    r = await run("verify", file, "--public-key-file", `${key}.pub`, "--model", path("build/ref/tiny-i8.gguf"));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /INTEGRITY: .* is not the file of tiny-2/);
    r = await run("rollout", file, "--percent", "100", "--key", key);
    assert.equal(r.code, 0, r.stderr);
    const full = JSON.parse(readFileSync(file, "utf8"));
    assert.deepEqual([full.version, full.rollout, full.previous.version], ["tiny-2", 100, v1.version]);
    assert.ok(Date.parse(full.createdAt) > Date.parse(v2.createdAt));
    r = await run("rollback", file, "--key", key);
    assert.equal(r.code, 0, r.stderr);
    const back = JSON.parse(readFileSync(file, "utf8"));
    assert.deepEqual([back.version, back.sha256, back.rollout, back.previous], [v1.version, v1.sha256, 100, null]);
    assert.deepEqual(back.test, v1.test);
    assert.equal((await run("verify", file, "--public-key-file", `${key}.pub`, "--model", path("build/ref/tiny-i8.gguf"))).code, 0);
    // Another key's public half does not verify it; a hand edit breaks the signature.
    r = await run("verify", file, "--public-key", newKey().publicKey);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^release\.mjs: UNTRUSTED_KEY: /);
    writeFileSync(file, JSON.stringify({ ...back, rollout: 50 }));
    r = await run("verify", file, "--public-key-file", `${key}.pub`);
    assert.match(r.stderr, /^release\.mjs: SIGNATURE: /);
    assert.equal((await run("sign", file, "--key", key)).code, 0);
    assert.equal((await run("verify", file, "--public-key-file", `${key}.pub`)).code, 0, "signed again, it verifies");
  });

  test("publish refuses a model that fails the expected label, and a key others can read", async () => {
    let r = await run("publish", path("build/ref/tiny-i8.gguf"), "--channel", "tiny/beta", "--out", join(dir, "beta"), "--key", key,
      "--expect-label", "no-such-label");
    assert.equal(r.code, 1);
    assert.match(r.stderr, /SMOKE_TEST: the model classifies the test input "[a-z]+", not "no-such-label": not published/);
    const loose = join(dir, "loose.key");
    writeFileSync(loose, readFileSync(key), { mode: 0o644 });
    r = await run("publish", path("build/ref/tiny-i8.gguf"), "--channel", "tiny/beta", "--out", join(dir, "beta"), "--key", loose);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /can be read by others \(mode 644\): chmod 600/);
  });
});
