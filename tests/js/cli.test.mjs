// cli.test.mjs — the command-line contract of build/edgetag (later work and users script against it).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import test from "node:test";

import { cli, maxAbsDiff, path, refModelPath } from "./helpers.mjs";

const bin = path("build/edgetag");
const tiny = path("models/reference-tiny.gguf");

test("logits: one JSON line per --ids, rows per token only for token classification", async () => {
  const r = await cli(bin, ["logits", "--model", tiny, "--ids", "101,7,8,102", "--ids", "101,102"]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  for (const l of lines) {
    assert.deepEqual(Object.keys(l), ["logits"]);
    assert.equal(l.logits.length, 1, "sequence classification: one row per text");
    assert.equal(l.logits[0].length, 3);
  }
  const t = await cli(bin, ["logits", "--model", refModelPath("odd"), "--ids", "101,7,8,102", "--ids", "101,102"]);
  assert.equal(t.code, 0, t.stderr);
  const rows = t.stdout.trim().split("\n").map((l) => JSON.parse(l).logits);
  assert.deepEqual(rows.map((r) => r.length), [4, 2], "token classification: one row per token");
  assert.ok(rows.flat().every((row) => row.length === 5));
  const m = await cli(bin, ["logits", "--model", refModelPath("minilm"), "--ids", "101,102"]);
  assert.equal(JSON.parse(m.stdout).logits[0].length, 384, "BertModel: the pooler output");
});

test("--reference (scalar kernels) agrees with the SIMD kernels", async () => {
  const args = ["logits", "--model", refModelPath("odd"), "--ids", "101,5,6,7,8,9,10,102", "--type-ids", "0,0,0,0,1,1,1,1"];
  const a = JSON.parse((await cli(bin, args)).stdout).logits.flat();
  const b = JSON.parse((await cli(bin, [...args, "--reference"])).stdout).logits.flat();
  assert.ok(a.every((v, i) => Math.abs(v - b[i]) < 1e-4));
});

test("inspect prints hyper-parameters, task, labels and the tensor table", async () => {
  const r = await cli(bin, ["inspect", tiny]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /task:\s+sequence_classification/);
  assert.match(r.stdout, /layers 2, hidden 64, heads 4 \(head size 16\), ffn 256, positions 512, vocab 1024, token types 2/);
  assert.match(r.stdout, /labels \(3\): negative, neutral, positive/);
  assert.match(r.stdout, /tensors \(41\):/);
  assert.match(r.stdout, /\n  token_embd\.weight\s+F32\s+\[64, 1024\]\s+\d+\s+262144\n/);
  assert.match(r.stdout, /\n  cls\.output\.bias\s+F32\s+\[3\]/);
});

test("usage errors exit 2; model and input errors exit 1 with the engine's message", async () => {
  const usage = [[], ["frobnicate"], ["logits", "--model", tiny], ["logits", "--ids", "1,2"],
    ["logits", "--model", tiny, "--ids", "1,,2"], ["logits", "--model", tiny, "--ids", "1,2,"],
    ["logits", "--model", tiny, "--ids", "x"], ["logits", "--model", tiny, "--ids", "1,2", "--type-ids", "0"],
    ["embed", "--model", tiny, "--ids", "1", "--pooling", "max"], ["inspect"]];
  for (const args of usage) {
    const r = await cli(bin, args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /usage:/);
  }
  const dir = mkdtempSync(`${tmpdir()}/edgetag-cli-`);
  const bad = `${dir}/bad.gguf`;
  const bytes = readFileSync(tiny);
  writeFileSync(bad, bytes.subarray(0, 5000));
  const errors = [
    [["inspect", `${dir}/missing.gguf`], /cannot open/],
    [["inspect", bad], /tokenizer.ggml.tokens. announces 1024 strings, more than the \d+ bytes left/],
    [["logits", "--model", tiny, "--ids", "101,99999,102"], /token id 99999 at index 1 is outside the vocabulary/],
    [["logits", "--model", tiny, "--ids", Array(513).fill(1).join(",")], /513 tokens; the limit is 512/],
  ];
  for (const [args, message] of errors) {
    const r = await cli(bin, args);
    assert.equal(r.code, 1, args.join(" ").slice(0, 80));
    assert.match(r.stderr, message);
    assert.equal(r.stdout, "");
  }
});

test("tokenize: ids, type ids and code-point offsets, as the JS API gives them (in UTF-16 there)", async () => {
  const model = path("build/tok/uncased.gguf");
  const r = await cli(bin, ["tokenize", "--model", model, "--pair", "Ça va?", "Hello, wörld 🙂!"]);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(j), ["ids", "type_ids", "offsets"]);
  assert.deepEqual(j.ids.slice(0, 4), [101, 7592, 1010, 2088]);
  assert.deepEqual(j.offsets.slice(0, 5), [[0, 0], [0, 5], [5, 6], [7, 12], [13, 14]], "code points: the emoji is one");
  assert.deepEqual(j.type_ids, j.ids.map((_, i) => (i <= j.ids.indexOf(102) ? 0 : 1)));
  const cut = JSON.parse((await cli(bin, ["tokenize", "--model", model, "--max-length", "4", "a b c d e f"])).stdout);
  assert.equal(cut.ids.length, 4);
  const bad = await cli(bin, ["tokenize", "--model", model]);
  assert.equal(bad.code, 2);
  // Several texts: a JSON line each, the same as one at a time; after "--" a text may start with "-".
  const one = async (t) => (await cli(bin, ["tokenize", "--model", model, "--", t])).stdout;
  const many = await cli(bin, ["tokenize", "--model", model, "first text", "--", "-second", "--"]);
  assert.equal(many.code, 0, many.stderr);
  assert.equal(many.stdout, (await one("first text")) + (await one("-second")) + (await one("--")));
});

test("classify and extract: the JSON contract, code-point offsets, --jsonl batches", async () => {
  const c = await cli(bin, ["classify", "--model", tiny, "--json", "hello world", "the dog"]);
  assert.equal(c.code, 0, c.stderr);
  const lines = c.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  for (const l of lines) {
    assert.deepEqual(Object.keys(l), ["label", "score", "scores", "escalate"]);
    assert.deepEqual(Object.keys(l.scores), ["negative", "neutral", "positive"]);
    assert.ok(Math.abs(Object.values(l.scores).reduce((a, b) => a + b) - 1) < 1e-5);
    assert.equal(l.score, l.scores[l.label]);
    assert.equal(l.escalate, false, "the reference model has no threshold");
  }
  const odd = refModelPath("odd");
  const text = "héllo 😀 wörld the dog";
  const e = await cli(bin, ["extract", "--model", odd, "--json", "--aggregation", "first", text]);
  assert.equal(e.code, 0, e.stderr);
  const out = JSON.parse(e.stdout);
  assert.deepEqual(Object.keys(out), ["entities", "escalate"]);
  const cps = [...text];
  for (const ent of out.entities) {
    assert.deepEqual(Object.keys(ent), ["label", "score", "start", "end", "text"]);
    assert.equal(ent.text, cps.slice(ent.start, ent.end).join(""), "offsets are code points");
    assert.ok(["PER", "LOC"].includes(ent.label));
  }
  // --jsonl: one JSON string per line in, one result per line out, in order; the same results.
  const input = JSON.stringify("hello world") + "\n" + JSON.stringify(text) + "\n";
  const { execFileSync } = await import("node:child_process");
  const viaStdin = execFileSync(bin, ["extract", "--model", odd, "--jsonl", "--aggregation", "first"], { input }).toString();
  const got = viaStdin.trim().split("\n");
  assert.equal(got.length, 2);
  assert.deepEqual(JSON.parse(got[1]), out);
  const bad = await cli(bin, ["classify", "--model", odd, "x"]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /not a sequence classifier/);
});

test("extract on the shipped maint-ner: the model's aggregation by default, text lines, escalation, --", async () => {
  const model = path("models/maint-ner.gguf");
  const text = "engine oil pressure low, check filter";
  const run = async (...args) => {
    const r = await cli(bin, ["extract", "--model", model, ...args]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const byDefault = JSON.parse(await run("--json", text));
  assert.deepEqual(byDefault, JSON.parse(await run("--json", "--aggregation", "first", text)), "maint-ner decodes with first");
  // Text mode: label, score, start, end, text per entity, then "escalate" when the JSON says so.
  const lines = (await run(text)).trim().split("\n");
  const rows = lines.filter((l) => l !== "escalate");
  assert.deepEqual(rows, byDefault.entities.map((e) => [e.label, e.score.toFixed(4), e.start, e.end, e.text].join("\t")));
  assert.equal(lines.includes("escalate"), byDefault.escalate);
  assert.equal(lines.at(-1) === "escalate", byDefault.escalate);
  // "--": a text that starts with "-" is a text, not an option.
  const dash = JSON.parse(await run("--json", "--", "-- replace pump seal"));
  assert.ok(dash.entities.some((e) => e.text === "pump seal" || e.text === "seal"), JSON.stringify(dash));
  // Several texts: a JSON line each, or text blocks separated by a blank line; each as when alone.
  const other = "replace pump seal";
  const many = (await run("--json", text, other)).trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(many, [byDefault, JSON.parse(await run("--json", other))]);
  assert.equal(await run(text, other), `${await run(text)}\n${await run(other)}`);
});

test("--kernels: every kernel set by name, int8 answers within the quantization's error of each other", async () => {
  const model = path("models/maint-ner.gguf");
  const ids = "2,1417,2826,3";
  const out = {};
  for (const k of ["auto", "reference", "baseline", "relaxed-dot16", "relaxed-dot32", "reference-u7"]) {
    const r = await cli(bin, ["logits", "--model", model, "--ids", ids, "--kernels", k]);
    assert.equal(r.code, 0, r.stderr);
    out[k] = JSON.parse(r.stdout).logits.flat();
  }
  // The SIMD sets equal their references up to float summation order; the two relaxed ones exactly.
  assert.deepEqual(out["relaxed-dot16"], out["relaxed-dot32"]);
  assert.ok(maxAbsDiff([out.baseline], [out.reference]) < 1e-4);
  assert.ok(maxAbsDiff([out["relaxed-dot16"]], [out["reference-u7"]]) < 1e-4);
  assert.ok(maxAbsDiff([out.baseline], [out["relaxed-dot16"]]) < 0.5);
  const bad = await cli(bin, ["logits", "--model", model, "--ids", ids, "--kernels", "fast"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--kernels is auto, reference/);
});

test("version and bench", async () => {
  const v = await cli(bin, ["version"]);
  assert.match(v.stdout, /^edgetag \d+\.\d+\.\d+\n$/);
  const b = await cli(bin, ["bench", "--model", tiny, "--seq", "16", "--runs", "3"]);
  assert.equal(b.code, 0, b.stderr);
  const j = JSON.parse(b.stdout);
  assert.equal(j.seq, 16);
  assert.ok(j.median_ms > 0 && j.min_ms <= j.median_ms && j.arena_bytes > 0);
});
