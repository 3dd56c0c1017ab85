// release.mjs — the release channel's CLI (models/RELEASE.md is the format; README "Releasing models" the workflow):
//
//   node tools/release.mjs keygen   [--out ~/.config/edgetag/release.key]
//   node tools/release.mjs publish  MODEL.gguf --channel NAME/stable --out DIR --key KEY [--rollout 100]
//                                   [--test-input TEXT] [--expect-label L] [--min-engine V] [--max-engine V]
//                                   [--version V] [--expires-in 90d] [--r2-bucket B] [--kv-binding K]
//   node tools/release.mjs rollout  DIR/NAME/stable.json --percent P --key KEY [--expires-in 90d]
//   node tools/release.mjs rollback DIR/NAME/stable.json --key KEY [--expires-in 90d]
//   node tools/release.mjs sign     MANIFEST.json --key KEY [--out FILE] [--expires-in 90d]
//   node tools/release.mjs verify   MANIFEST.json (--public-key ed25519:… | --public-key-file KEY.pub) [--model FILE]
//
// keygen writes a PKCS#8 PEM private key (mode 0600, in a 0700 folder; never inside a git work tree) and KEY.pub,
// the public key as clients take it ("ed25519:<base64>"). publish loads the model with the engine to read its
// name, version, task and labels, runs the smoke test input to fill in the expected answer, copies the file
// beside the manifest under a name with its SHA-256 (never overwritten: a static host may cache it for ever),
// makes the channel's current release its `previous`, signs, and writes the manifest last (atomically). rollout
// and rollback re-sign the manifest: a new createdAt, so clients take it over the one they have.
// Exit status: 0 done, 1 refused or failed (the EdgetagError code and message on stderr), 2 usage.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign } from "node:crypto";
import { execFileSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { load, version as libraryVersion, verifyManifest } from "../web/edgetag.js";
import { parseManifest, signedBytes } from "../web/release/manifest.js";

const DEFAULT_KEY = join(process.env.XDG_CONFIG_HOME || join(homedir(), ".config"), "edgetag", "release.key");
const DEFAULT_INPUT = "Please book a table for two at 7pm, then replace the leaking pump seal and call Anna Kowalski in Berlin.";
const DAY_MS = 86_400_000;

export class UsageError extends Error {}

/** "90d", "12h", "30m" → milliseconds. */
export function duration(text) {
  const m = /^(\d+)([dhm])$/.exec(String(text));
  if (!m) throw new UsageError(`a duration is a number and d, h or m ("90d"), not ${JSON.stringify(text)}`);
  return Number(m[1]) * { d: DAY_MS, h: 3_600_000, m: 60_000 }[m[2]];
}

const iso = (ms) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");

/** The raw 32 bytes of an Ed25519 public key object, as the text clients take: "ed25519:<base64>". */
export function publicKeyText(publicKey) {
  const x = publicKey.export({ format: "jwk" }).x;
  return `ed25519:${Buffer.from(x, "base64url").toString("base64")}`;
}

export function keyId(publicKey) {
  const raw = Buffer.from(publicKey.export({ format: "jwk" }).x, "base64url");
  return sha256(raw).slice(0, 16);
}

/** The git work tree that holds `dir` (or its nearest existing parent), or null. */
function workTreeOf(dir) {
  let d = resolve(dir);
  while (!existsSync(d)) d = dirname(d);
  try {
    return execFileSync("git", ["-C", d, "rev-parse", "--show-toplevel"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() || null;
  } catch {
    return null;
  }
}

/** Creates a key pair: `out` (PKCS#8 PEM, 0600) and `out`.pub. Refuses to overwrite, or to write into a git work tree. */
export function keygen(out = DEFAULT_KEY) {
  const path = resolve(out);
  const tree = workTreeOf(dirname(path));
  if (tree) throw new UsageError(`${path} is inside the git work tree ${tree}: keep signing keys out of repositories (the default is ${DEFAULT_KEY})`);
  if (existsSync(path)) throw new UsageError(`${path} exists: a new key would orphan every manifest signed with it; choose another --out`);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  writeFileSync(path, privateKey.export({ format: "pem", type: "pkcs8" }), { mode: 0o600, flag: "wx" });
  chmodSync(path, 0o600); // whatever the umask
  const text = publicKeyText(publicKey);
  writeFileSync(`${path}.pub`, text + "\n", { mode: 0o644 });
  return { key: path, pub: `${path}.pub`, publicKey: text, keyId: keyId(publicKey) };
}

/** The private key at `path`, refused when others may read it. */
export function readKey(path) {
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) throw new UsageError(`${path} can be read by others (mode ${mode.toString(8)}): chmod 600 ${path}`);
  const key = createPrivateKey(readFileSync(path));
  if (key.asymmetricKeyType !== "ed25519") throw new UsageError(`${path} is not an Ed25519 key`);
  return key;
}

/** Signs a manifest object: sets keyId and signature; checks the result is a valid manifest. Answers it. */
export function signManifest(manifest, privateKey) {
  const publicKey = createPublicKey(privateKey);
  const body = { ...manifest, keyId: keyId(publicKey) };
  delete body.signature;
  const signature = sign(null, signedBytes(body), privateKey).toString("base64");
  const signed = { ...body, signature };
  parseManifest(signed); // every problem of the manifest, listed, before it is written
  return signed;
}

/** Writes a manifest atomically (a temporary file renamed over it), as formatted JSON. */
function writeManifest(path, manifest) {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(manifest, null, 2) + "\n");
  renameSync(tmp, path);
}

/** A channel's published manifest in `out`, verified with the signing key's public half; null when there is none. */
async function published(path, privateKey) {
  if (!existsSync(path)) return null;
  return verifyManifest(readFileSync(path, "utf8"), { publicKey: publicKeyText(createPublicKey(privateKey)), now: Date.now(), clockSkewMs: Infinity });
}

/** The release part of a manifest (its own members, or its previous'). */
function releaseOf(m) {
  const { version, sha256: sha, size, task, labels, minEngine, maxEngine, urls, test } = m;
  return { version, sha256: sha, size, task, labels, minEngine, ...(maxEngine !== undefined && { maxEngine }), urls,
    ...(test !== undefined && { test }) };
}

/** createdAt for a manifest that replaces `old`: now, and always later than old's. */
function nextCreatedAt(old, now) {
  const t = Math.max(now, old ? Date.parse(old.createdAt) + 1000 : 0);
  return iso(t);
}

/** Runs the model on the test input: the expected answer of the manifest's test. */
async function smokeExpectation(model, input) {
  const task = model.info.task;
  if (task === "sequence_classification") return { label: model.classify(input).label };
  if (task === "token_classification") return { entities: model.extract(input).entities.map(({ label, text }) => ({ label, text })) };
  return null;
}

/**
 * Publishes a model to a channel folder: the file (named by its SHA-256) and the signed manifest `out/<channel>.json`.
 * Answers {manifest, manifestPath, modelPath, files: [{path, key}]} (key: the path in the folder, for R2 / KV).
 */
export async function publish(modelPath, o) {
  if (!o.channel) throw new UsageError("publish needs --channel (e.g. intent-clinc/stable)");
  if (!o.out) throw new UsageError("publish needs --out DIR (the folder a static host, R2 or KV serves)");
  const privateKey = readKey(o.key ?? DEFAULT_KEY);
  const bytes = readFileSync(modelPath);
  const model = await load(bytes, { cache: "none", simd: "baseline" });
  try {
    const info = model.info;
    const input = o.testInput ?? DEFAULT_INPUT;
    const expect = await smokeExpectation(model, input);
    if (o.expectLabel !== undefined && expect?.label !== o.expectLabel)
      throw Object.assign(new Error(`the model classifies the test input ${JSON.stringify(expect?.label)}, not ${JSON.stringify(o.expectLabel)}: not published`), { code: "SMOKE_TEST" });
    const manifestPath = join(resolve(o.out), `${o.channel}.json`);
    const old = await published(manifestPath, privateKey);
    const digest = sha256(bytes);
    if (old && old.sha256 === digest) throw new UsageError(`${basename(modelPath)} is already the current release of ${o.channel}: use rollout`);
    const file = `${String(info.name || "model").toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "")}-${digest.slice(0, 12)}.gguf`;
    const target = join(dirname(manifestPath), file);
    mkdirSync(dirname(target), { recursive: true });
    if (!existsSync(target)) copyFileSync(modelPath, target);
    else if (sha256(readFileSync(target)) !== digest) throw new UsageError(`${target} exists with other bytes`);
    const now = Date.now();
    const manifest = signManifest({
      schema: "edgetag.release/1", channel: o.channel, name: info.name || basename(modelPath, ".gguf"),
      version: o.version ?? (info.version && info.version !== "0" ? info.version : `${digest.slice(0, 12)}`),
      sha256: digest, size: bytes.length, task: info.task, labels: [...info.labels],
      minEngine: o.minEngine ?? libraryVersion, ...(o.maxEngine && { maxEngine: o.maxEngine }),
      urls: [file], ...(expect && { test: { input, expect } }),
      rollout: o.rollout ?? 100,
      previous: old ? { ...releaseOf(old), createdAt: old.createdAt } : null,
      createdAt: nextCreatedAt(old, now), expiresAt: iso(now + duration(o.expiresIn ?? "90d")),
    }, privateKey);
    writeManifest(manifestPath, manifest);
    const rel = (p) => relative(resolve(o.out), p).split("\\").join("/");
    return { manifest, manifestPath, modelPath: target, files: [{ path: target, key: rel(target) }, { path: manifestPath, key: rel(manifestPath) }] };
  } finally {
    model.dispose();
  }
}

/** Re-signs a published manifest with `change` applied, a new createdAt and a new expiresAt. */
async function resign(manifestPath, o, change) {
  const privateKey = readKey(o.key ?? DEFAULT_KEY);
  const old = await published(manifestPath, privateKey);
  if (!old) throw new UsageError(`${manifestPath} does not exist`);
  const now = Date.now();
  const next = signManifest({ ...change(structuredClone(old)), createdAt: nextCreatedAt(old, now), expiresAt: iso(now + duration(o.expiresIn ?? "90d")) },
    privateKey);
  writeManifest(manifestPath, next);
  return next;
}

/** Sets the current release's rollout percentage. */
export function rollout(manifestPath, o) {
  const p = Number(o.percent);
  if (!(p >= 0 && p <= 100)) throw new UsageError("rollout needs --percent, 0 to 100");
  return resign(manifestPath, o, (m) => ({ ...m, rollout: p }));
}

/** Serves the previous release again, to everyone: it becomes the current one (rollout 100, no previous). */
export function rollback(manifestPath, o) {
  return resign(manifestPath, o, (m) => {
    if (!m.previous) throw new UsageError(`${manifestPath} names no previous release to roll back to`);
    const { schema, channel, name, keyId: id } = m;
    return { schema, channel, name, ...releaseOf(m.previous), rollout: 100, previous: null, keyId: id };
  });
}

function parseArgs(argv) {
  const [command, ...rest] = argv;
  const positional = [], options = {};
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (!a.startsWith("--")) { positional.push(a); continue; }
    const name = a.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (i + 1 >= rest.length) throw new UsageError(`${a} needs a value`);
    options[name] = rest[++i];
  }
  if (options.rollout !== undefined) options.rollout = Number(options.rollout);
  return { command, positional, options };
}

function uploadCommands(files, o) {
  const lines = [];
  if (o.r2Bucket) for (const f of files) lines.push(`npx wrangler r2 object put ${o.r2Bucket}/${f.key} --file ${f.path} --remote`);
  if (o.kvBinding) for (const f of files) lines.push(`npx wrangler kv key put ${f.key} --path ${f.path} --binding ${o.kvBinding} --remote`);
  return lines;
}

async function main(argv) {
  const { command, positional, options } = parseArgs(argv);
  switch (command) {
    case "keygen": {
      const k = keygen(options.out);
      console.log(`private key: ${k.key} (mode 600; back it up, never commit it)\npublic key:  ${k.pub}\n${k.publicKey}\nkey id: ${k.keyId}`);
      return;
    }
    case "publish": {
      if (positional.length !== 1) throw new UsageError("publish takes one model file");
      const r = await publish(positional[0], options);
      const m = r.manifest;
      console.log(`published ${m.channel} ${m.version} (rollout ${m.rollout} %${m.previous ? `, previous ${m.previous.version}` : ""})`);
      for (const f of r.files) console.log(`  ${f.key}`);
      const up = uploadCommands(r.files, options);
      if (up.length) console.log(`upload the model first, the manifest last:\n${up.join("\n")}`);
      return;
    }
    case "rollout":
    case "rollback": {
      if (positional.length !== 1) throw new UsageError(`${command} takes the channel's manifest`);
      const m = await (command === "rollout" ? rollout : rollback)(positional[0], options);
      console.log(`${m.channel}: ${m.version} at ${m.rollout} %${m.previous ? `, previous ${m.previous.version}` : ""}; signed ${m.createdAt}, expires ${m.expiresAt}`);
      return;
    }
    case "sign": {
      if (positional.length !== 1) throw new UsageError("sign takes one manifest");
      const m = JSON.parse(readFileSync(positional[0], "utf8"));
      if (options.expiresIn) m.expiresAt = iso(Date.now() + duration(options.expiresIn));
      writeManifest(options.out ?? positional[0], signManifest(m, readKey(options.key ?? DEFAULT_KEY)));
      console.log(`signed ${options.out ?? positional[0]}`);
      return;
    }
    case "verify": {
      if (positional.length !== 1) throw new UsageError("verify takes one manifest");
      const publicKey = options.publicKey ?? (options.publicKeyFile && readFileSync(options.publicKeyFile, "utf8").trim());
      if (!publicKey) throw new UsageError("verify needs --public-key ed25519:… or --public-key-file KEY.pub");
      const m = await verifyManifest(readFileSync(positional[0], "utf8"), { publicKey, ...(options.channel && { channel: options.channel }) });
      if (options.model) {
        const bytes = readFileSync(options.model);
        if (bytes.length !== m.size || sha256(bytes) !== m.sha256)
          throw Object.assign(new Error(`${options.model} is not the file of ${m.version} (SHA-256 ${sha256(bytes)}, the manifest says ${m.sha256})`), { code: "INTEGRITY" });
      }
      console.log(`ok: ${m.channel} ${m.version}, rollout ${m.rollout} %, signed by ${m.keyId}, expires ${m.expiresAt}`);
      return;
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command ?? "")}: keygen, publish, rollout, rollback, sign or verify`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e) => {
    if (e instanceof UsageError) {
      console.error(`release.mjs: ${e.message}`);
      process.exit(2);
    }
    console.error(`release.mjs: ${e.code ? `${e.code}: ` : ""}${String(e.message ?? e).replace(/^edgetag: /, "")}`);
    process.exit(1);
  });
}
