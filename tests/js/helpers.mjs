// helpers.mjs — what the Node test suites share: paths, goldens, the CLI, comparisons.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export const root = fileURLToPath(new URL("../..", import.meta.url));
export const path = (p) => root + p;

/** The wasm flavour under test: EDGETAG_SIMD=relaxed selects the relaxed build (needs its flags). */
export const simd = process.env.EDGETAG_SIMD === "relaxed" ? "relaxed" : "baseline";

/** Whether this Node runs relaxed SIMD, by its version: on by default from Node 22, behind a flag in 20. */
export const nodeHasRelaxedSimd = Number(process.versions.node.split(".")[0]) >= 22 ||
  process.execArgv.includes("--experimental-wasm-relaxed-simd");

/** The shapes with PyTorch goldens, and where `make refmodels` puts their GGUF files. */
export const SHAPES = ["tiny", "minilm", "odd"];
export const refModelPath = (shape) => path(`build/ref/${shape}.gguf`);

/** Reads a file that `make` must have built, failing with the command that builds it. */
export function readBuilt(rel, how) {
  const p = path(rel);
  if (!existsSync(p)) throw new Error(`${rel} is missing: run \`${how}\` first (make test does)`);
  return readFileSync(p);
}

export function loadGolden(shape) {
  return JSON.parse(readFileSync(path(`tests/fixtures/golden/${shape}.json`), "utf8"));
}

export function sha256(bytes) {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The golden's weights must be the ones `make refmodels` generated, or the comparison means nothing. */
export function checkGoldenFresh(shape, golden) {
  const st = readBuilt(`build/ref/${shape}/model.safetensors`, "make refmodels");
  const got = sha256(st);
  if (got !== golden.model.safetensors_sha256)
    throw new Error(`tests/fixtures/golden/${shape}.json was made from other weights (${golden.model.safetensors_sha256.slice(0, 12)}…, ` +
      `build has ${got.slice(0, 12)}…): the generator changed; run \`make golden\``);
}

/** Largest |a - b| over two nested arrays of numbers of the same shape. */
export function maxAbsDiff(a, b) {
  const fa = a.flat(Infinity), fb = b.flat(Infinity);
  if (fa.length !== fb.length) throw new Error(`shape mismatch: ${fa.length} vs ${fb.length} values`);
  let worst = 0;
  for (let i = 0; i < fa.length; i++) {
    const d = Math.abs(fa[i] - fb[i]);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}

/** Rows of a {rows, cols, data} result as arrays. */
export function rowsOf({ rows, cols, data }) {
  const out = [];
  for (let r = 0; r < rows; r++) out.push(Array.from(data.subarray(r * cols, (r + 1) * cols)));
  return out;
}

const run = promisify(execFile);

/** Runs the CLI; resolves {code, stdout, stderr} without throwing on a non-zero exit. */
export async function cli(binary, args, options = {}) {
  try {
    const { stdout, stderr } = await run(binary, args, { maxBuffer: 1 << 28, ...options });
    return { code: 0, stdout, stderr };
  } catch (e) {
    if (typeof e.code !== "number") throw e;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** CLI arguments for one golden case: --ids (and --type-ids) per text. */
export function caseArgs(c) {
  const args = [];
  c.ids.forEach((ids, i) => {
    args.push("--ids", ids.join(","));
    if (c.type_ids) args.push("--type-ids", c.type_ids[i].join(","));
  });
  return args;
}

/** Parity bound against PyTorch (the issue's): max absolute difference on logits and embeddings. */
export const PARITY_TOL = 1e-4;
