// cli-robust.test.mjs — build/edgetag against inputs a script may feed it (issue 15): every line it prints is
// JSON; with --jsonl a bad line gets an error in its place and the good ones their answers; a line too long to
// hold is an error, never the end of the input; NUL bytes are text; a model with NaN weights is an error, never
// `nan`; long documents run in fixed memory; a file that is not a model is refused before it is read.
// EDGETAG_CLI_BIN runs the same tests against another build (how their failure before the fixes was seen).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, openSync, closeSync, ftruncateSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import test from "node:test";

import { load } from "../../web/edgetag.js";
import { document } from "../reliability/corpus.mjs";
import { cli, path } from "./helpers.mjs";

const bin = process.env.EDGETAG_CLI_BIN ?? path("build/edgetag");
const intents = path("models/intent-clinc.gguf"), notes = path("models/maint-ner.gguf");
const dir = mkdtempSync(`${tmpdir()}/edgetag-cli-robust-`);

/** Runs the CLI with `input` on stdin (a string, or a function that writes chunks); resolves {code, stdout, stderr}. */
function run(args, input, { prefix = [] } = {}) {
  return new Promise((resolve, reject) => {
    const argv = [...prefix, bin, ...args];
    const child = spawn(argv[0], argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
    const out = [], err = [];
    child.stdout.on("data", (d) => out.push(d));
    child.stderr.on("data", (d) => err.push(d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    child.stdin.on("error", () => {}); // a CLI that stops reading early
    if (typeof input === "function") input(child.stdin).then(() => child.stdin.end(), reject);
    else child.stdin.end(input ?? "");
  });
}

const jsonLines = (stdout) => stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));

/** A copy of a model file with every float of `tensor` set to NaN (offsets from the engine's own tensor table). */
async function poisoned(file, tensor) {
  const bytes = readFileSync(file);
  const m = await load(bytes, { cache: "none" });
  const t = m.tensors().find((x) => x.name === tensor);
  m.dispose();
  const copy = Buffer.from(bytes);
  for (let at = t.offset; at < t.offset + t.nBytes; at += 4) copy.writeFloatLE(NaN, at);
  const out = `${dir}/${tensor}-nan.gguf`;
  writeFileSync(out, copy);
  return out;
}

test("a model with NaN weights: classify --json prints an error line per text (valid JSON, never nan), exit 1", async () => {
  const nan = await poisoned(intents, "cls.output.bias");
  const r = await cli(bin, ["classify", "--model", nan, "--json", "book a table", "what's my balance"]);
  assert.equal(r.code, 1, r.stdout);
  assert.doesNotMatch(r.stdout, /[:,[]\s*-?nan\b/i, "a bare nan where a number goes");
  const lines = jsonLines(r.stdout);
  assert.equal(lines.length, 2);
  for (const l of lines) assert.equal(l.error.code, "NUMERIC", JSON.stringify(l));
  assert.match(r.stderr, /not finite/);
  // logits print the raw numbers: NaN as null, still JSON.
  const raw = await cli(bin, ["logits", "--model", nan, "--ids", "2,100,3"]);
  assert.equal(raw.code, 0);
  assert.ok(JSON.parse(raw.stdout).logits[0].every((v) => v === null));
});

test("--jsonl: a malformed line gets an error in its place, the good lines their answers, exit 1", async () => {
  const input = [JSON.stringify("book a table for two"), "not json", JSON.stringify("what's my balance"), '"unterminated',
    '"trailing" garbage', JSON.stringify("set an alarm")].join("\n") + "\n";
  const r = await run(["classify", "--model", intents, "--jsonl"], input);
  assert.equal(r.code, 1);
  const lines = jsonLines(r.stdout);
  assert.equal(lines.length, 6, r.stdout);
  assert.deepEqual(lines.map((l) => (l.error ? `error ${l.error.line}` : "answer")),
    ["answer", "error 2", "answer", "error 4", "error 5", "answer"]);
  assert.equal(lines[0].label, "restaurant_reservation");
  assert.equal(lines[2].label, "balance");
  assert.equal(lines[1].error.code, "BAD_JSON");
  // extract goes on the same way, and a text the engine refuses (invalid UTF-8) is that line's error only.
  const ex = await run(["extract", "--model", notes, "--jsonl"],
    Buffer.concat([Buffer.from(`${JSON.stringify("replace pump seal")}\n"bad \xff byte"\n`, "latin1"), Buffer.from("{}\n\"check the filter\"\n")]));
  assert.equal(ex.code, 1);
  const got = jsonLines(ex.stdout);
  assert.deepEqual(got.map((l) => (l.error ? l.error.code : "answer")), ["answer", "INPUT", "BAD_JSON", "answer"]);
  assert.equal(got[1].error.line, 2);
});

test("NUL bytes inside a --jsonl string are text: entities after one keep their text", async () => {
  const text = "\u0000 replaced the hydraulic pump seal on excavator 12 \u0000\u0000 checked the filter";
  const r = await run(["extract", "--model", notes, "--jsonl"], JSON.stringify(text) + "\n");
  assert.equal(r.code, 0, r.stderr);
  const [{ entities }] = jsonLines(r.stdout);
  assert.ok(entities.length >= 3, JSON.stringify(entities));
  const cps = [...text];
  for (const e of entities) assert.equal(e.text, cps.slice(e.start, e.end).join(""), JSON.stringify(e));
  assert.ok(entities.some((e) => e.text === "filter"));
});

test("a line longer than --max-line-bytes is an error for that line; the lines after it still run", async () => {
  const long = JSON.stringify("x".repeat(5000));
  const r = await run(["classify", "--model", intents, "--jsonl", "--max-line-bytes", "4096"],
    [JSON.stringify("book a table"), long, JSON.stringify("what's my balance")].join("\n") + "\n");
  assert.equal(r.code, 1);
  const lines = jsonLines(r.stdout);
  assert.deepEqual(lines.map((l) => l.error?.code ?? l.label), ["restaurant_reservation", "LINE_TOO_LONG", "balance"]);
});

test("a line too large to allocate is an error for that line, not the end of the input (exit 1)", { timeout: 120_000 }, async () => {
  // The native CLI under a 256 MB address-space limit, reading a 400 MB line between two good ones: the line cannot
  // be held (with --max-line-bytes above it, so the allocation is what fails).
  const line = Buffer.alloc(1 << 20, "a".charCodeAt(0));
  const r = await run(["classify", "--model", intents, "--jsonl", "--max-line-bytes", String(2 ** 31)], async (stdin) => {
    const write = (b) => new Promise((res) => (stdin.write(b) ? res() : stdin.once("drain", res)));
    await write(JSON.stringify("book a table") + "\n\"");
    for (let i = 0; i < 400; i++) await write(line);
    await write("\"\n" + JSON.stringify("what's my balance") + "\n");
  }, { prefix: ["prlimit", `--as=${256 << 20}`] });
  assert.equal(r.code, 1, r.stderr);
  const lines = jsonLines(r.stdout);
  assert.deepEqual(lines.map((l) => l.error?.code ?? l.label), ["restaurant_reservation", "OUT_OF_MEMORY", "balance"]);
});

test("extract: a 100 KB document runs to its end in a fixed context (under a 512 MB address-space limit)", { timeout: 120_000 }, async () => {
  const text = document(100_000);
  const r = await run(["extract", "--model", notes, "--jsonl"], JSON.stringify(text) + "\n", { prefix: ["prlimit", `--as=${512 << 20}`] });
  assert.equal(r.code, 0, r.stderr);
  const [{ entities }] = jsonLines(r.stdout);
  assert.ok(entities.length > 5000, `${entities.length} entities`);
  assert.ok(entities.at(-1).end > 99_000, `the last entity ends at ${entities.at(-1).end}`);
  const cps = [...text];
  for (const e of entities.slice(-50)) assert.equal(e.text, cps.slice(e.start, e.end).join(""));
});

test("a 1 GiB file that is not a model is refused by its magic, without reading it (under a 256 MB limit)", async () => {
  const big = `${dir}/big.gguf`;
  const fd = openSync(big, "w");
  writeSync(fd, "NOTAGGUF");
  ftruncateSync(fd, 2 ** 30);
  closeSync(fd);
  const t0 = performance.now();
  const r = await run(["classify", "--model", big, "x"], "", { prefix: ["prlimit", `--as=${256 << 20}`] });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bad magic/);
  assert.ok(performance.now() - t0 < 5000);
  const q = await run(["quantize", big, `${dir}/out.gguf`, "--type", "i8"], "", { prefix: ["prlimit", `--as=${256 << 20}`] });
  assert.equal(q.code, 1);
  assert.match(q.stderr, /bad magic/);
});
