// manifest.mjs — the published facts of the shipped int8 models: writes models/manifest.json (name, version,
// file, size, SHA-256 and its Subresource Integrity form, task, labels, calibration, the engine that reads it,
// whether the npm package carries it) and the "**File**" line of each model's card in models/README.md, so
// that `integrity:` can be filled in without hashing by hand. What a model is comes from the engine itself
// (web/edgetag.js reads each file); what the package carries, from package.json's `files`.
//
//   node tools/manifest.mjs           write both (make manifest)
//   node tools/manifest.mjs --check   exit 1, saying what differs, when either is not what the files give
//
// tests/js/manifest.test.mjs runs the check, so a model file changed without its manifest fails the tests.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { load, version } from "../web/edgetag.js";

const root = fileURLToPath(new URL("..", import.meta.url));

/** The shipped int8 models, in the order of their cards. */
export const MODELS = ["intent-clinc", "maint-ner", "pii-ner"];

const MANIFEST = "models/manifest.json";
const CARDS = "models/README.md";

/** One model's entry: its bytes hashed here, its metadata as the engine reads it. */
async function entry(name, packaged) {
  const file = `${name}.gguf`;
  const bytes = readFileSync(`${root}models/${file}`);
  const digest = createHash("sha256").update(bytes).digest();
  const model = await load(bytes, { simd: "baseline", cache: "none" });
  const i = model.info;
  model.dispose();
  return {
    name: i.name, version: i.version, file, size: bytes.length,
    sha256: digest.toString("hex"), integrity: `sha256-${digest.toString("base64")}`,
    package: packaged ? `edgetag/models/${file}` : null,
    task: i.task, labels: i.nLabels, ...(i.task === "token_classification" ? { entityTypes: i.entityTypes } : {}),
    abstainLabel: i.abstainLabel, threshold: i.threshold, temperature: i.temperature, aggregation: i.aggregation,
    weights: i.int8Matrices > 0 ? "int8" : "f32", minEngine: version,
  };
}

/** The card line that publishes a model's file. */
function fileLine(m) {
  const where = m.package ? `in the npm package as \`${m.package}\`` : "in the repository only (not in the npm package)";
  return `- **File**: \`${m.file}\`, ${m.size.toLocaleString("en-US")} bytes, ${where}; SHA-256 \`${m.sha256}\`, ` +
    `\`integrity: "${m.integrity}"\`.`;
}

/** models/README.md with each card's "**File**" line made from the manifest (the line after its heading's blank line). */
function cardsWith(text, models) {
  let out = text;
  for (const m of models) {
    const heading = new RegExp(`^## ${m.name} — .*\\n\\n(- \\*\\*File\\*\\*: .*\\n)?`, "m");
    if (!heading.test(out)) throw new Error(`${CARDS} has no card headed "## ${m.name} — …"`);
    out = out.replace(heading, (h, old) => (old ? h.slice(0, -old.length) : h) + fileLine(m) + "\n");
  }
  return out;
}

/** What models/manifest.json and models/README.md should hold, from the files as they are. */
export async function build() {
  const files = JSON.parse(readFileSync(`${root}package.json`, "utf8")).files;
  const models = [];
  for (const name of MODELS) models.push(await entry(name, files.includes(`models/${name}.gguf`)));
  const manifest = {
    generated: "node tools/manifest.mjs (make manifest); do not edit",
    engine: version,
    models,
  };
  return {
    [MANIFEST]: JSON.stringify(manifest, null, 2) + "\n",
    [CARDS]: cardsWith(readFileSync(`${root}${CARDS}`, "utf8"), models),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes("--check");
  const stale = [];
  for (const [rel, text] of Object.entries(await build())) {
    let now = null;
    try { now = readFileSync(`${root}${rel}`, "utf8"); } catch { /* not there yet */ }
    if (now === text) continue;
    stale.push(rel);
    if (!check) writeFileSync(`${root}${rel}`, text);
  }
  if (check && stale.length) {
    console.error(`${stale.join(" and ")} ${stale.length > 1 ? "do" : "does"} not match the model files: run \`make manifest\``);
    process.exit(1);
  }
  if (!check) console.log(stale.length ? `wrote ${stale.join(", ")}` : "the manifest and the cards are current");
}
