// abi.js — the C ABI of include/edgetag.h as the JavaScript reads and writes it: every struct as one named
// field table, the blocks of wasm memory the library lays out for a call (out-parameters, inputs), and the
// enums. It is the only module that knows an offset or a size. tests/js/abi.test.mjs checks every table
// against what clang lays out for wasm32 (tests/js/abi/layout.c), so an ABI change fails there, loudly.
//
// A struct is its C fields in order, with their C names and types; the offsets follow from C's rules (each
// field at the next multiple of its alignment, the size a multiple of the largest), so none is counted by
// hand. In wasm32, int32_t, uint32_t, float, size_t and pointers are 4 bytes, little-endian.
//
//   const info = readStruct(memory.buffer, STRUCTS.et_model_info, ptr);   // {task, n_vocab, …, name: ptr}
//   writeStruct(memory.buffer, STRUCTS.et_context_params, ptr, { max_tokens: 1024 });
//   const { model, error, params } = addresses(SCRATCH.load, scratch);     // where each part of a block is

/** The scalar types a field may have: its size, and how a DataView reads and writes it. */
const SCALARS = Object.freeze({
  i32: { size: 4, get: (v, at) => v.getInt32(at, true), set: (v, at, x) => v.setInt32(at, x, true) },
  u32: { size: 4, get: (v, at) => v.getUint32(at, true), set: (v, at, x) => v.setUint32(at, x, true) },
  f32: { size: 4, get: (v, at) => v.getFloat32(at, true), set: (v, at, x) => v.setFloat32(at, x, true) },
  ptr: { size: 4, get: (v, at) => v.getUint32(at, true), set: (v, at, x) => v.setUint32(at, x, true) }, // any pointer
  size: { size: 4, get: (v, at) => v.getUint32(at, true), set: (v, at, x) => v.setUint32(at, x, true) }, // size_t
  char: { size: 1, get: (v, at) => v.getUint8(at), set: (v, at, x) => v.setUint8(at, x) }, // char[N]: a NUL-terminated string
});

/** The alignment et_model_load_from_buffer requires of a borrowed model buffer (else ET_ERR_ALIGNMENT). */
export const ALIGNMENT = 16;

/** Bytes of `count` values of a scalar type ("i32", "ptr", …) side by side. */
export function sizeOf(type, count = 1) {
  return SCALARS[type].size * count;
}

const alignUp = (n, a) => Math.ceil(n / a) * a;

/**
 * A struct layout from its fields in order: [name, type, count = 1], where type is a scalar type name or
 * another layout (a struct inside the struct). Returns {name, size, align, fields: {name: {offset, type,
 * count, size}}}, frozen.
 */
export function struct(name, fields) {
  const table = {};
  let offset = 0, align = 1;
  for (const [field, type, count = 1] of fields) {
    const { size, align: a } = typeof type === "string" ? { ...SCALARS[type], align: SCALARS[type].size } : type;
    offset = alignUp(offset, a);
    table[field] = Object.freeze({ offset, type, count, size: size * count });
    offset += size * count;
    align = Math.max(align, a);
  }
  return Object.freeze({ name, size: alignUp(offset, align), align, fields: Object.freeze(table) });
}

// ---------------------------------------------------------------------------------------------------------
// The structs of include/edgetag.h
// ---------------------------------------------------------------------------------------------------------

const et_error = struct("et_error", [
  ["status", "u32"], // et_status: clang gives an enum without negative values the type unsigned int
  ["message", "char", 252],
]);

const et_model_params = struct("et_model_params", [
  ["copy_buffer", "i32"],
  ["pack_in_place", "i32"],
]);

const et_model_info = struct("et_model_info", [
  ["task", "i32"], ["n_vocab", "i32"], ["n_ctx", "i32"], ["n_embd", "i32"], ["n_ff", "i32"], ["n_layer", "i32"],
  ["n_head", "i32"], ["n_token_types", "i32"], ["n_labels", "i32"], ["n_out", "i32"], ["has_pooler", "i32"],
  ["layer_norm_eps", "f32"], ["temperature", "f32"], ["threshold", "f32"],
  ["name", "ptr"], ["version", "ptr"],
  ["cls_id", "i32"], ["sep_id", "i32"], ["pad_id", "i32"], ["unk_id", "i32"], ["mask_id", "i32"],
  ["n_tensors", "i32"], ["weights_bytes", "u32"], ["owned_bytes", "u32"], ["int8_matrices", "i32"],
  ["n_entity_types", "i32"], ["aggregation", "i32"], ["abstain_label", "i32"], ["q4_matrices", "i32"],
  ["n_head_dim", "i32"],
]);

const et_tensor_info = struct("et_tensor_info", [
  ["name", "ptr"], ["type", "i32"], ["n_dims", "i32"], ["ne", "i32", 4], ["offset", "u32"], ["n_bytes", "u32"],
]);

const et_context_params = struct("et_context_params", [
  ["max_tokens", "i32"], ["max_texts", "i32"], ["max_seq", "i32"], ["kernels", "i32"],
]);

const et_entity = struct("et_entity", [
  ["type", "i32"], ["label", "i32"], ["score", "f32"], ["start", "i32"], ["end", "i32"],
]);

/** Every struct of the header, by its C name. */
export const STRUCTS = Object.freeze({ et_error, et_model_params, et_model_info, et_tensor_info, et_context_params, et_entity });

// ---------------------------------------------------------------------------------------------------------
// Blocks the library lays out in wasm memory for a call. They are not C structs: the engine is given a
// pointer to each part. The fixed ones share the engine's scratch area, one call at a time.
// ---------------------------------------------------------------------------------------------------------

/** The scratch area's layouts, one per kind of call: its params struct and out-parameters, by C name. */
export const SCRATCH = Object.freeze({
  /** et_model_load_from_buffer(…, params, &model, &error) */
  load: struct("load", [["params", et_model_params], ["model", "ptr"], ["error", et_error]]),
  /** et_context_create(…, params, &context) */
  context: struct("context", [["params", et_context_params], ["context", "ptr"]]),
  /** et_model_get_info(…, &info) */
  info: struct("info", [["info", et_model_info]]),
  /** et_model_tensor_info(…, &tensor) */
  tensor: struct("tensor", [["tensor", et_tensor_info]]),
  /** et_context_logits / _hidden / _embeddings(…, &data, &rows, &cols) */
  matrix: struct("matrix", [["data", "ptr"], ["rows", "i32"], ["cols", "i32"]]),
  /** et_context_classification(…, &label, &score, &probs, &escalate) */
  classification: struct("classification", [["label", "i32"], ["score", "f32"], ["probs", "ptr"], ["escalate", "i32"]]),
  /** et_context_extract(…, &entities, &n_entities, &escalate) and et_context_extract_next(…, &done) */
  extraction: struct("extraction", [["entities", "ptr"], ["n_entities", "i32"], ["escalate", "i32"], ["done", "i32"]]),
  /** et_tokenize(…, &n_tokens, &error) */
  tokenize: struct("tokenize", [["n_tokens", "i32"], ["error", et_error]]),
  /** et_tokenize_windows(…, &n_tokens, &n_windows, &error) */
  windows: struct("windows", [["n_tokens", "i32"], ["n_windows", "i32"], ["error", et_error]]),
});

/** Bytes of the engine's scratch area: room for the largest of its layouts. */
export const SCRATCH_BYTES = alignUp(Math.max(...Object.values(SCRATCH).map((s) => s.size)), 16);

/** et_tokenize's outputs for `capacity` tokens: ids, type ids, and a [start, end) pair per token. */
export const tokenizeOutputs = (capacity) =>
  struct("tokens", [["ids", "i32", capacity], ["type_ids", "i32", capacity], ["offsets", "i32", 2 * capacity]]);

/** et_tokenize_windows's outputs: tokens' ids and offset pairs, and each window's length and first token. */
export const windowOutputs = (nTokens, nWindows) => struct("windows", [
  ["ids", "i32", nTokens], ["offsets", "i32", 2 * nTokens], ["lengths", "i32", nWindows], ["first_token", "i32", nWindows],
]);

/** et_context_classify's inputs: the texts' UTF-8 bytes back to back, then a pointer and a length per text. */
export const classifyInputs = (bytes, nTexts) =>
  struct("texts", [["bytes", "char", bytes], ["texts", "ptr", nTexts], ["lengths", "size", nTexts]]);

// ---------------------------------------------------------------------------------------------------------
// Reading and writing
// ---------------------------------------------------------------------------------------------------------

/** The address of each field of `layout` placed at `base`: {field: address}. */
export function addresses(layout, base) {
  const out = {};
  for (const [name, f] of Object.entries(layout.fields)) out[name] = base + f.offset;
  return out;
}

const decoder = new TextDecoder();

function readValue(view, f, at) {
  if (typeof f.type !== "string") { // a struct inside the struct
    if (f.count === 1) return readAt(view, f.type, at);
    return Array.from({ length: f.count }, (_, i) => readAt(view, f.type, at + i * f.type.size));
  }
  if (f.type === "char") { // a NUL-terminated string in a char array
    const bytes = new Uint8Array(view.buffer, at, f.count);
    const end = bytes.indexOf(0);
    return decoder.decode(bytes.subarray(0, end < 0 ? f.count : end));
  }
  const t = SCALARS[f.type];
  if (f.count === 1) return t.get(view, at);
  return Array.from({ length: f.count }, (_, i) => t.get(view, at + i * t.size));
}

function readAt(view, layout, ptr) {
  const out = {};
  for (const [name, f] of Object.entries(layout.fields)) out[name] = readValue(view, f, ptr + f.offset);
  return out;
}

/**
 * The struct at `ptr` in `buffer` (wasm memory) as an object of its C field names: numbers (pointers as
 * addresses), arrays of numbers, strings for char arrays, objects for structs inside.
 */
export function readStruct(buffer, layout, ptr) {
  return readAt(new DataView(buffer), layout, ptr);
}

/** One field of the struct at `ptr`, read as readStruct reads it. */
export function readField(buffer, layout, ptr, name) {
  const f = layout.fields[name];
  if (!f) throw new TypeError(`edgetag: ${layout.name} has no field ${name}`);
  return readValue(new DataView(buffer), f, ptr + f.offset);
}

/** `count` structs side by side from `ptr` (an array the engine returned). */
export function readArray(buffer, layout, ptr, count) {
  const view = new DataView(buffer);
  return Array.from({ length: count }, (_, i) => readAt(view, layout, ptr + i * layout.size));
}

const ARRAYS = { i32: Int32Array, u32: Uint32Array, f32: Float32Array, ptr: Uint32Array, size: Uint32Array, char: Uint8Array };

/** A typed array over `count` values of a scalar type at `ptr` (for writing pointers and sizes). */
export function arrayView(buffer, type, ptr, count) {
  return new ARRAYS[type](buffer, ptr, count);
}

/** Writes the given scalar fields of the struct at `ptr`; the others keep their values. */
export function writeStruct(buffer, layout, ptr, values) {
  const view = new DataView(buffer);
  for (const [name, value] of Object.entries(values)) {
    const f = layout.fields[name];
    if (!f || f.count !== 1 || !SCALARS[f.type]) throw new TypeError(`edgetag: ${layout.name} has no scalar field ${name}`);
    SCALARS[f.type].set(view, ptr + f.offset, value);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Enums
// ---------------------------------------------------------------------------------------------------------

/** et_status: the stable error code of each status, indexed by its value (ET_OK = 0, ET_ERR_<CODE>). */
export const STATUS_CODES = Object.freeze([
  "OK", "INVALID_ARGUMENT", "OUT_OF_MEMORY", "BAD_MAGIC", "BAD_VERSION", "TRUNCATED", "CORRUPT",
  "UNSUPPORTED", "MISSING", "SHAPE", "ALIGNMENT", "INPUT", "CAPACITY", "IO", "STATE", "NUMERIC",
]);

/** et_status by code: STATUS.OK, STATUS.CAPACITY, … */
export const STATUS = Object.freeze(Object.fromEntries(STATUS_CODES.map((code, value) => [code, value])));

/** et_task: the task names, indexed by value (ET_TASK_<NAME>). */
export const TASKS = Object.freeze(["embedding", "sequence_classification", "token_classification"]);

/** et_aggregation: the names extract() takes, indexed by value (ET_AGGREGATION_<NAME>). */
export const AGGREGATIONS = Object.freeze(["none", "simple", "first", "average", "max"]);
/** ET_AGGREGATION_DEFAULT: the model's own aggregation. */
export const AGGREGATION_DEFAULT = -1;

/** et_kernels_choice (ET_KERNELS_<NAME>). */
export const KERNELS = Object.freeze({ auto: 0, reference: 1, baseline: 2, relaxedDot16: 3, relaxedDot32: 4, referenceU7: 5 });

/** et_pooling: the names embed() takes (ET_POOLING_<NAME>). */
export const POOLING = Object.freeze({ mean: 1, cls: 2 });
