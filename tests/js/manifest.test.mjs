// manifest.test.mjs — the published facts of the shipped models are the files' own: models/manifest.json and the
// "**File**" line of each card in models/README.md are what tools/manifest.mjs makes from the model files
// today, every hash is recomputed here independently, and the package carries exactly the models the manifest
// says it does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { build, MODELS } from "../../tools/manifest.mjs";
import { path, sha256 } from "./helpers.mjs";

const manifest = JSON.parse(readFileSync(path("models/manifest.json"), "utf8"));
const cards = readFileSync(path("models/README.md"), "utf8");

test("models/manifest.json and the cards' file lines are what `make manifest` makes from the files", async () => {
  const want = await build();
  for (const [rel, text] of Object.entries(want))
    assert.ok(readFileSync(path(rel), "utf8") === text, `${rel} does not match the model files: run \`make manifest\``);
});

test("every int8 model of models/ is in the manifest, with its size, SHA-256 and integrity string", () => {
  const int8 = readdirSync(path("models")).filter((f) => f.endsWith(".gguf") && !f.endsWith("-f32.gguf") && !f.startsWith("reference-"));
  assert.deepEqual(manifest.models.map((m) => m.file).sort(), int8.sort());
  assert.deepEqual(MODELS.map((n) => `${n}.gguf`).sort(), int8.sort());
  for (const m of manifest.models) {
    const bytes = readFileSync(path(`models/${m.file}`));
    assert.equal(m.size, bytes.length, m.file);
    assert.equal(m.sha256, sha256(bytes), m.file);
    assert.equal(Buffer.from(m.integrity.replace(/^sha256-/, ""), "base64").toString("hex"), m.sha256, m.file);
    assert.ok(cards.includes(`SHA-256 \`${m.sha256}\``) && cards.includes(`integrity: "${m.integrity}"`), `${m.file}'s card`);
    assert.equal(m.weights, "int8");
  }
});

test("the package carries exactly the models the manifest says it does, and no f32 file", () => {
  const { files, exports } = JSON.parse(readFileSync(path("package.json"), "utf8"));
  const packaged = manifest.models.filter((m) => m.package).map((m) => `models/${m.file}`);
  assert.deepEqual(files.filter((f) => f.startsWith("models/") && f.endsWith(".gguf")).sort(), packaged.sort());
  assert.ok(packaged.length >= 1);
  for (const m of manifest.models.filter((x) => x.package)) assert.equal(m.package, `edgetag/models/${m.file}`);
  assert.equal(exports["./models/*-f32.gguf"], null, "f32 files are not exported");
});
