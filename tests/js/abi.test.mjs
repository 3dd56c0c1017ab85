// abi.test.mjs — web/abi.js against the ABI clang really lays out for wasm32 (tests/js/abi/layout.c, built
// with the engine's toolchain as build/abi-layout.wasm): every struct's size and alignment, every field's
// offset, size, type and count, every enum's values, the status codes against the engine's own
// et_status_string, and the sizes of the scalar types. The header's text says which structs, fields and
// enumerators exist, so neither layout.c nor abi.js can leave one out unnoticed.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import test from "node:test";

import { AGGREGATION_DEFAULT, AGGREGATIONS, KERNELS, POOLING, STATUS_CODES, STRUCTS, TASKS, sizeOf, struct } from "../../web/abi.js";
import { init } from "../../web/edgetag.js";
import { path, readBuilt, simd } from "./helpers.mjs";

/** What the compiler laid out: layout.c's JSON. */
function compiled() {
  const module = new WebAssembly.Module(readBuilt("build/abi-layout.wasm", "make build/abi-layout.wasm"));
  const { exports } = new WebAssembly.Instance(module, {});
  exports._initialize();
  const bytes = new Uint8Array(exports.memory.buffer, exports.et_abi_layout());
  return JSON.parse(new TextDecoder().decode(bytes.subarray(0, bytes.indexOf(0))));
}

/** What the header declares: each struct's field names and each enum's enumerators, in order. */
function declared() {
  const text = readFileSync(path("include/edgetag.h"), "utf8").replace(/\/\*[\s\S]*?\*\//g, "");
  const structs = {}, enums = {};
  for (const [, body, name] of text.matchAll(/typedef struct\s*\w*\s*\{([^}]*)\}\s*(\w+)\s*;/g))
    structs[name] = body.split(";").map((d) => d.trim()).filter(Boolean).map((d) => d.match(/(\w+)\s*(\[[^\]]*\])?$/)[1]);
  for (const [, body, name] of text.matchAll(/typedef enum\s*\w*\s*\{([^}]*)\}\s*(\w+)\s*;/g))
    enums[name] = [...body.matchAll(/\b(ET_\w+)\s*(=|,|$)/g)].map((m) => m[1]);
  return { structs, enums };
}

const C = compiled();
const header = declared();

/** How abi.js's layout of a struct differs from the compiler's: one line per difference, [] when none. */
function differences(js, c) {
  const out = [];
  for (const k of ["size", "align"]) if (js[k] !== c[k]) out.push(`${js.name}: ${k} ${js[k]}, the compiler's ${c[k]}`);
  const names = Object.keys(js.fields), cNames = Object.keys(c.fields);
  if (names.join() !== cNames.join()) out.push(`${js.name}: fields ${names.join(", ")}; the compiler's ${cNames.join(", ")}`);
  for (const name of cNames.filter((n) => js.fields[n])) {
    for (const k of ["offset", "size", "type", "count"])
      if (js.fields[name][k] !== c.fields[name][k]) out.push(`${js.name}.${name}: ${k} ${js.fields[name][k]}, the compiler's ${c.fields[name][k]}`);
  }
  return out;
}

/** "relaxedDot16" → "RELAXED_DOT16": abi.js's names of enumerators as the header spells them. */
const upperSnake = (name) => name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
const byIndex = (names, prefix) => Object.fromEntries(names.map((n, v) => [prefix + upperSnake(n), v]));
const byName = (values, prefix) => Object.fromEntries(Object.entries(values).map(([n, v]) => [prefix + upperSnake(n), v]));

/** abi.js's enums, keyed as the header names them. */
const JS_ENUMS = {
  et_status: Object.fromEntries(STATUS_CODES.map((code, v) => [code === "OK" ? "ET_OK" : `ET_ERR_${code}`, v])),
  et_task: byIndex(TASKS, "ET_TASK_"),
  et_kernels_choice: byName(KERNELS, "ET_KERNELS_"),
  et_pooling: byName(POOLING, "ET_POOLING_"),
  et_aggregation: { ET_AGGREGATION_DEFAULT: AGGREGATION_DEFAULT, ...byIndex(AGGREGATIONS, "ET_AGGREGATION_") },
};

test("layout.c describes every struct, field and enumerator the header declares", () => {
  assert.deepEqual(Object.keys(C.structs).sort(), Object.keys(header.structs).sort());
  for (const [name, fields] of Object.entries(header.structs)) assert.deepEqual(Object.keys(C.structs[name].fields), fields, name);
  assert.deepEqual(Object.keys(C.enums).sort(), Object.keys(header.enums).sort());
  for (const [name, enumerators] of Object.entries(header.enums)) assert.deepEqual(Object.keys(C.enums[name]), enumerators, name);
});

test("every struct of abi.js is laid out as clang lays it out for wasm32", () => {
  assert.deepEqual(Object.keys(STRUCTS).sort(), Object.keys(C.structs).sort(), "abi.js describes every struct of the header");
  for (const [name, js] of Object.entries(STRUCTS)) {
    assert.equal(js.name, name);
    assert.deepEqual(differences(js, C.structs[name]), [], name);
  }
});

test("the scalar types have the sizes abi.js gives them", () => {
  const s = C.scalars;
  assert.deepEqual(
    { i32: sizeOf("i32"), u32: sizeOf("u32"), f32: sizeOf("f32"), size: sizeOf("size"), ptr: sizeOf("ptr"), char: sizeOf("char") },
    { i32: s.int32_t, u32: s.uint32_t, f32: s.float, size: s.size_t, ptr: s["void *"], char: s.char });
});

test("every enum of abi.js has the header's enumerators and values", () => {
  assert.deepEqual(Object.keys(JS_ENUMS).sort(), Object.keys(C.enums).sort(), "abi.js mirrors every enum of the header");
  for (const [name, values] of Object.entries(JS_ENUMS)) assert.deepEqual(values, C.enums[name], name);
});

test("the status codes are the engine's: et_status_string knows each of them and none beyond", async () => {
  const engine = await init({ simd });
  const text = (status) => engine.string(engine.exports.et_status_string(status));
  STATUS_CODES.forEach((code, status) => assert.notEqual(text(status), "unknown status", code));
  assert.equal(text(STATUS_CODES.length), "unknown status");
  assert.equal(engine.error(STATUS_CODES.indexOf("CAPACITY")).code, "CAPACITY");
});

test("the comparison is not vacuous: a wrong offset, type or order would be reported", () => {
  const c = C.structs.et_entity, entity = STRUCTS.et_entity;
  const moved = { ...entity, fields: { ...entity.fields, end: { ...entity.fields.end, offset: entity.fields.end.offset + 4 } } };
  assert.deepEqual(differences(moved, c), [`et_entity.end: offset ${c.fields.end.offset + 4}, the compiler's ${c.fields.end.offset}`]);
  const retyped = struct("et_entity", [["type", "i32"], ["label", "i32"], ["score", "i32"], ["start", "i32"], ["end", "i32"]]);
  assert.deepEqual(differences(retyped, c), ["et_entity.score: type i32, the compiler's f32"]);
  const swapped = struct("et_entity", [["type", "i32"], ["label", "i32"], ["start", "i32"], ["score", "f32"], ["end", "i32"]]);
  assert.equal(differences(swapped, c).length, 3); // the order, and two offsets
  const short = struct("et_entity", [["type", "i32"], ["label", "i32"], ["score", "f32"], ["start", "i32"]]);
  assert.ok(differences(short, c).some((d) => d.startsWith("et_entity: size 16")));
});
