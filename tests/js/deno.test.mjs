// deno.test.mjs — web/edgetag.js runs unchanged in Deno (npm `deno`): file:, HTTP and byte sources, the Web
// Worker tagger; its answers equal Node's for the same model and text.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { load } from "../../web/edgetag.js";
import { path, readBuilt, simd } from "./helpers.mjs";
import { manifest, newKey, releaseOf, releaseServer } from "./release-fixtures.mjs";

const DENO = path("node_modules/.bin/deno");
const MODEL = "build/ref/tiny.gguf";
const SHIPPED = "models/reference-tiny.gguf"; // outside build/, which the permission test may read
const TEXT = "Héllo wörld, ça va? 東京 🙂 ok";

test("Deno: the same answers as Node from file:, HTTP, bytes and a Web Worker", async () => {
  const bytes = readBuilt(MODEL, "make refmodels");
  const server = createServer((req, res) => res.writeHead(200, { "content-length": bytes.length }).end(bytes));
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  try {
    const url = `http://127.0.0.1:${server.address().port}/tiny.gguf`;
    const { stdout } = await promisify(execFile)(DENO, ["run", "--quiet", "--no-prompt", `--allow-read=${path("")}`,
      "--allow-net=127.0.0.1", "tests/js/deno/smoke.mjs", MODEL, url, TEXT], { cwd: path(""), timeout: 60000 });
    const got = JSON.parse(stdout.trim().split("\n").at(-1));
    const node = await load(bytes, { simd });
    const expected = node.classify(TEXT);
    assert.deepEqual(got.origins, ["file", "network", "bytes", "network"]);
    assert.deepEqual(got.progress, { loaded: bytes.length, total: bytes.length });
    assert.equal(got.flavour, true, "Deno runs relaxed SIMD");
    for (const c of got.classify) {
      assert.equal(c.label, expected.label);
      // Deno runs the relaxed build, Node (here) the baseline one: the f32 sums may differ in the last bits.
      for (const [k, v] of Object.entries(expected.scores)) assert.ok(Math.abs(c.scores[k] - v) < 1e-5, `${k}: ${c.scores[k]} vs ${v}`);
    }
    assert.deepEqual(got.tokens, Array.from(node.tokenize(TEXT).offsets));
    node.dispose();
  } finally {
    server.close();
  }
});

test("Deno: a refused permission is an EdgetagError that names the flag to add", async () => {
  const server = createServer((req, res) => res.writeHead(404).end());
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  try {
    const host = `127.0.0.1:${server.address().port}`;
    const { stdout } = await promisify(execFile)(DENO, ["run", "--quiet", "--no-prompt", `--allow-read=${path("build")}`,
      "tests/js/deno/permissions.mjs", pathToFileURL(path(SHIPPED)).href, `http://${host}/tiny.gguf`], { cwd: path(""), timeout: 60000 });
    const got = JSON.parse(stdout.trim().split("\n").at(-1));
    assert.deepEqual([got.file.edgetag, got.file.code, got.file.cause], [true, "IO", "NotCapable"]);
    assert.ok(got.file.message.includes(`--allow-read=${path(SHIPPED)}`), got.file.message);
    assert.deepEqual([got.http.edgetag, got.http.code, got.http.cause], [true, "IO", "NotCapable"]);
    assert.ok(got.http.message.includes(`--allow-net=${host}`), got.http.message);
    assert.deepEqual([got.path.edgetag, got.path.code, got.path.cause], [true, "IO", "NotCapable"]);
    assert.ok(got.path.message.includes(`--allow-read=${path(SHIPPED)}`), got.path.message);
  } finally {
    server.close();
  }
});

test("Deno: a signed release channel over HTTP — Ed25519 by Deno's WebCrypto, a 304 on re-check, a tampered manifest refused", async () => {
  const bytes = readBuilt("build/ref/tiny-i8.gguf", "make refmodels");
  const key = newKey();
  const srv = await releaseServer();
  try {
    srv.set("/tiny/v1.gguf", bytes);
    const signed = manifest(key.privateKey, { current: await releaseOf(bytes, "tiny-1", "v1.gguf") });
    srv.json("/tiny/stable.json", signed);
    const host = new URL(srv.base).host;
    const { stdout } = await promisify(execFile)(DENO, ["run", "--quiet", "--no-prompt", `--allow-read=${path("")}`, `--allow-net=${host}`,
      "tests/js/deno/release.mjs", `${srv.base}/tiny/stable.json`, key.publicKey, JSON.stringify({ ...signed, rollout: 5 })],
      { cwd: path(""), timeout: 60000 });
    const got = JSON.parse(stdout.trim().split("\n").at(-1));
    assert.deepEqual([got.version, got.recheck, got.refused, typeof got.label], ["tiny-1", "not_modified", "SIGNATURE", "string"]);
    assert.equal(srv.hits("/tiny/stable.json").notModified, 1);
  } finally {
    await srv.close();
  }
});
