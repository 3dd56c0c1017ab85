// model.js — a loaded model: its info, tokenization, runs of token ids (logits, hidden states, embeddings)
// and the tagging calls (classify, extract) over one context that grows on demand.
//
// Memory: the model's bytes are copied once into wasm memory and used there in place; the engine
// allocates the context (all run buffers) once and grows it only when a batch needs more.

import { EdgetagError } from "./errors.js";
import { STATUS_CODES } from "./engine.js";

const CAPACITY = STATUS_CODES.indexOf("CAPACITY");

const TASKS = ["embedding", "sequence_classification", "token_classification"];
const AGGREGATIONS = ["none", "simple", "first", "average", "max"];

/** map[k] = the UTF-16 index of code point k of `text` (map[count] = text.length). */
function utf16Index(text) {
  const map = new Int32Array(text.length + 1);
  let k = 0, i = 0;
  for (const ch of text) { // one iteration per code point; a lone surrogate counts as one, as UTF-8's U+FFFD
    map[k++] = i;
    i += ch.length;
  }
  map[k] = i;
  return map;
}

export class Model {
  /**
   * Takes over `size` bytes of a GGUF file at `ptr` in the engine's memory (freed here when loading fails).
   * Use load() rather than this constructor.
   * @param {import("./engine.js").Engine} engine @param {number} ptr @param {number} size
   */
  constructor(engine, ptr, size) {
    this.engine = engine;
    const x = engine.exports;
    this.buffer = ptr;
    this.size = size;
    const out = engine.scratch, err = engine.scratch + 8; // et_model*, then et_error {status, message[252]}
    const params = engine.scratch + 272; // et_model_params: the buffer is ours, let the model repack it
    x.et_model_default_params_by_ref(params);
    engine.i32(params, 2)[1] = 1; // pack_in_place
    const status = x.et_model_load_from_buffer(this.buffer, size, params, out, err);
    if (status !== 0) {
      const message = engine.string(err + 4);
      x.free(this.buffer);
      throw engine.error(status, message);
    }
    this.ptr = engine.i32(out, 1)[0];
    this.info = this.#readInfo();
    this.context = null; // created on first use, grown on demand
  }

  #readInfo() {
    const e = this.engine, s = e.scratch;
    e.exports.et_model_get_info(this.ptr, s);
    const i = e.i32(s, 27), f = e.f32(s, 27);
    const info = {
      task: TASKS[i[0]], nVocab: i[1], nCtx: i[2], nEmbd: i[3], nFF: i[4], nLayer: i[5], nHead: i[6],
      nTokenTypes: i[7], nLabels: i[8], nOut: i[9], hasPooler: i[10] === 1, layerNormEps: f[11],
      temperature: f[12], threshold: Number.isNaN(f[13]) ? null : f[13],
      name: e.string(i[14]), version: e.string(i[15]),
      specialIds: { cls: i[16], sep: i[17], pad: i[18], unk: i[19], mask: i[20] },
      nTensors: i[21], weightsBytes: i[22] >>> 0, ownedBytes: i[23] >>> 0, int8Matrices: i[24], fileBytes: this.size,
      aggregation: AGGREGATIONS[i[26]],
    };
    info.labels = [];
    for (let k = 0; k < info.nLabels; k++) info.labels.push(e.string(e.exports.et_model_label(this.ptr, k)));
    info.entityTypes = [];
    for (let k = 0; k < i[25]; k++) info.entityTypes.push(e.string(e.exports.et_model_entity_type(this.ptr, k)));
    return Object.freeze(info);
  }

  /** Makes sure the context and the input buffers hold `tokens` tokens in `texts` texts. */
  #ensureContext(tokens, texts) {
    const e = this.engine, x = e.exports;
    e.tune();
    const c = this.context;
    if (c && c.maxTokens >= tokens && c.maxTexts >= texts && c.kernels === e.kernels) return c;
    this.#freeContext();
    const maxTokens = Math.max(tokens, c?.maxTokens ?? 0, this.info.nCtx);
    const maxTexts = Math.max(texts, c?.maxTexts ?? 0, 16);
    const p = e.scratch;
    x.et_context_default_params_by_ref(p);
    const params = e.i32(p, 4);
    params[0] = maxTokens; // max_tokens
    params[1] = maxTexts;  // max_texts
    params[3] = e.kernels; // the engine's kernel set (tune() may change it once)
    const out = p + 16;
    const status = x.et_context_create(this.ptr, p, out);
    if (status !== 0) throw e.error(status, `edgetag: cannot create a context for ${maxTokens} tokens`);
    const ctx = {
      ptr: e.i32(out, 1)[0], maxTokens, maxTexts, kernels: e.kernels,
      ids: e.alloc(4 * maxTokens, "token ids"), types: e.alloc(4 * maxTokens, "type ids"),
      lengths: e.alloc(4 * maxTexts, "lengths"),
    };
    this.context = ctx;
    return ctx;
  }

  #freeContext() {
    const c = this.context, x = this.engine.exports;
    if (!c) return;
    x.et_context_free(c.ptr);
    x.free(c.ids), x.free(c.types), x.free(c.lengths);
    this.context = null;
  }

  /** Runs texts (arrays of token ids) as one batch; returns the context. */
  #run(texts, typeIds) {
    if (!this.ptr) throw new EdgetagError("STATE", "edgetag: the model was disposed");
    const e = this.engine, x = e.exports;
    const total = texts.reduce((n, t) => n + t.length, 0);
    const c = this.#ensureContext(total, texts.length);
    const ids = e.i32(c.ids, total), lengths = e.i32(c.lengths, texts.length);
    const types = typeIds ? e.i32(c.types, total) : null;
    let at = 0;
    texts.forEach((t, b) => {
      ids.set(t, at);
      if (types) {
        if (!typeIds[b] || typeIds[b].length !== t.length)
          throw new EdgetagError("INVALID_ARGUMENT", `edgetag: type ids of text ${b} do not match its ${t.length} tokens`);
        types.set(typeIds[b], at);
      }
      lengths[b] = t.length;
      at += t.length;
    });
    const status = x.et_context_run(c.ptr, c.ids, types ? c.types : 0, c.lengths, texts.length);
    if (status !== 0) throw e.error(status, e.string(x.et_context_last_error(c.ptr)));
    return c;
  }

  /** Reads a [rows][cols] result through one of the et_context_* getters; copies it out of wasm memory. */
  #result(getter, ...args) {
    const e = this.engine, s = e.scratch, c = this.context;
    const status = getter(c.ptr, ...args, s, s + 4, s + 8);
    if (status !== 0) throw e.error(status, e.string(e.exports.et_context_last_error(c.ptr)));
    const [ptr, rows, cols] = e.i32(s, 3);
    return { rows, cols, data: e.f32(ptr, rows * cols).slice() };
  }

  /** Splits a [rows][cols] batch result per text: a row per token (perToken) or one per text. */
  static #split(result, texts, perToken) {
    const out = [];
    let row = 0;
    for (const t of texts) {
      const rows = perToken ? t.length : 1;
      out.push({ rows, cols: result.cols, data: result.data.slice(row * result.cols, (row + rows) * result.cols) });
      row += rows;
    }
    return out;
  }

  static #batch(input) {
    const single = !(Array.isArray(input) && input.length > 0 && typeof input[0] !== "number");
    return { single, texts: single ? [input] : input };
  }

  /**
   * The head's output: per token for token classification, per text otherwise (for an embedding model,
   * the pooler output). `ids` is one text's token ids or an array of texts (run as one batch).
   * @returns {{rows:number, cols:number, data:Float32Array} | Array<{rows:number, cols:number, data:Float32Array}>}
   */
  logits(ids, { typeIds } = {}) {
    const { single, texts } = Model.#batch(ids);
    this.#run(texts, typeIds && (single ? [typeIds] : typeIds));
    const r = this.#result(this.engine.exports.et_context_logits);
    const split = Model.#split(r, texts, this.info.task === "token_classification");
    return single ? split[0] : split;
  }

  /** The last hidden states, a row of nEmbd per token. */
  hidden(ids, { typeIds } = {}) {
    const { single, texts } = Model.#batch(ids);
    this.#run(texts, typeIds && (single ? [typeIds] : typeIds));
    const split = Model.#split(this.#result(this.engine.exports.et_context_hidden), texts, true);
    return single ? split[0] : split;
  }

  /**
   * One embedding per text: mean (default) or "cls" pooling of the last hidden states, optionally
   * L2-normalized. `input` is a text, an array of texts (one batch), or token ids as for logits().
   */
  embed(input, { typeIds, pooling = "mean", normalize = false } = {}) {
    // Text (a string or an array of strings) is tokenized first, each cut to the model's context.
    const isText = typeof input === "string" || (Array.isArray(input) && input.length > 0 && typeof input[0] === "string");
    const ids = !isText ? input : typeof input === "string" ? this.tokenize(input).ids : input.map((t) => this.tokenize(t).ids);
    if (isText && typeIds !== undefined)
      throw new EdgetagError("INVALID_ARGUMENT", "edgetag: typeIds go with token ids, not with text");
    const { single, texts } = Model.#batch(ids);
    const mode = { mean: 1, cls: 2 }[pooling];
    if (!mode) throw new EdgetagError("INVALID_ARGUMENT", `edgetag: pooling is "mean" or "cls", not ${pooling}`);
    this.#run(texts, typeIds && (single ? [typeIds] : typeIds));
    const r = this.#result(this.engine.exports.et_context_embeddings, mode, normalize ? 1 : 0);
    const split = Model.#split(r, texts, false).map((t) => t.data);
    return single ? split[0] : split;
  }

  /** A wasm buffer of at least `bytes` bytes for `name`, kept between calls and grown on demand. */
  #buffer(name, bytes) {
    const e = this.engine;
    this.buffers ??= {};
    const b = this.buffers[name];
    if (b && b.size >= bytes) return b.ptr;
    if (b) e.exports.free(b.ptr);
    const size = Math.max(bytes, 2 * (b?.size ?? 0), 256);
    this.buffers[name] = { ptr: e.alloc(size, name), size };
    return this.buffers[name].ptr;
  }

  /** Writes a string into wasm memory as UTF-8 (lone surrogates become U+FFFD, one code point each). */
  #utf8(name, text) {
    const e = this.engine;
    if (typeof text !== "string") throw new EdgetagError("INVALID_ARGUMENT", "edgetag: text must be a string");
    const ptr = this.#buffer(name, 3 * text.length + 1);
    const { written } = new TextEncoder().encodeInto(text, new Uint8Array(e.memory, ptr, 3 * text.length + 1));
    return { ptr, len: written };
  }

  /**
   * Tokenizes text (and a second text of a pair) as Hugging Face's BERT tokenizer does:
   * [CLS] text [SEP] (pair [SEP]), cut to maxLength tokens (default: the model's nCtx; Infinity: no cut).
   * Offsets are UTF-16 indices into the text each token came from, so text.slice(start, end) is exact;
   * the template's [CLS]/[SEP] get [0, 0].
   * @returns {{ids: Int32Array, typeIds: Int32Array, offsets: Int32Array}} offsets as start, end pairs
   */
  tokenize(text, { pair, maxLength } = {}) {
    if (!this.ptr) throw new EdgetagError("STATE", "edgetag: the model was disposed");
    const e = this.engine, x = e.exports, s = e.scratch;
    const limit = maxLength === undefined ? 0 : maxLength === Infinity ? 0x7fffffff : maxLength;
    if (!Number.isInteger(limit) || limit < 0 || limit > 0x7fffffff)
      throw new EdgetagError("INVALID_ARGUMENT", `edgetag: maxLength must be a positive integer or Infinity, not ${maxLength}`);
    const a = this.#utf8("text", text);
    const b = pair === undefined || pair === null ? null : this.#utf8("pair", pair);
    let capacity = Math.min(limit || this.info.nCtx, 2 * ((text.length + (pair?.length ?? 0))) + 3);
    for (;;) {
      const out = this.#buffer("tokens", 16 * capacity);
      const err = this.#buffer("error", 256);
      const status = x.et_tokenize(this.ptr, a.ptr, a.len, b ? b.ptr : 0, b ? b.len : 0, limit, out, out + 4 * capacity,
        out + 8 * capacity, capacity, s, err);
      const n = e.i32(s, 1)[0];
      if (status === CAPACITY && n > capacity) { capacity = n; continue; } // grow and retry
      if (status !== 0) throw e.error(status, e.string(err + 4));
      const ids = e.i32(out, n).slice(), typeIds = e.i32(out + 4 * capacity, n).slice();
      const offsets = e.i32(out + 8 * capacity, 2 * n).slice();
      // Code points to UTF-16: a map per text, applied to each token by the text it came from.
      const mapA = utf16Index(text), mapB = b ? utf16Index(pair) : null;
      for (let i = 0; i < n; i++) {
        const map = typeIds[i] === 1 ? mapB : mapA;
        offsets[2 * i] = map[offsets[2 * i]];
        offsets[2 * i + 1] = map[offsets[2 * i + 1]];
      }
      return { ids, typeIds, offsets };
    }
  }

  /**
   * A long text as overlapping windows ([CLS] … [SEP], at most maxLength tokens, `stride` tokens shared by
   * neighbours), ready for logits()/hidden(): windows[w] holds its ids and UTF-16 offsets, and
   * firstToken[w] the index of its first content token in the whole text's token sequence.
   */
  tokenizeWindows(text, { maxLength = 0, stride = 0 } = {}) {
    if (!this.ptr) throw new EdgetagError("STATE", "edgetag: the model was disposed");
    const e = this.engine, x = e.exports, s = e.scratch;
    const a = this.#utf8("text", text);
    const err = this.#buffer("error", 256);
    let status = x.et_tokenize_windows(this.ptr, a.ptr, a.len, maxLength, stride, 0, 0, 0, 0, 0, 0, s, s + 4, err);
    if (status !== 0) throw e.error(status, e.string(err + 4));
    const [nt, nw] = e.i32(s, 2);
    const out = this.#buffer("windows", 12 * nt + 8 * nw);
    const ids = out, offs = out + 4 * nt, lengths = out + 12 * nt, first = lengths + 4 * nw;
    status = x.et_tokenize_windows(this.ptr, a.ptr, a.len, maxLength, stride, ids, offs, nt, lengths, first, nw, s, s + 4, err);
    if (status !== 0) throw e.error(status, e.string(err + 4));
    const map = utf16Index(text), allIds = e.i32(ids, nt), allOffs = e.i32(offs, 2 * nt);
    const len = e.i32(lengths, nw).slice(), firstToken = e.i32(first, nw).slice();
    const windows = [];
    for (let w = 0, at = 0; w < nw; at += len[w], w++) {
      const o = allOffs.slice(2 * at, 2 * (at + len[w]));
      for (let i = 0; i < o.length; i++) o[i] = map[o[i]];
      windows.push({ ids: allIds.slice(at, at + len[w]), offsets: o });
    }
    return { windows, firstToken };
  }

  /**
   * Classifies a text or an array of texts (one batch) with a sequence classifier: the best label, its
   * calibrated probability, every label's, and whether the model's threshold says to escalate (or the
   * label is "oos").
   * @returns {{label: string, score: number, scores: Record<string, number>, escalate: boolean} | Array<...>}
   */
  classify(input) {
    if (!this.ptr) throw new EdgetagError("STATE", "edgetag: the model was disposed");
    const single = !Array.isArray(input), texts = single ? [input] : input;
    const e = this.engine, x = e.exports;
    const encoded = texts.map((t) => new TextEncoder().encode(String(t)));
    const bytes = encoded.reduce((n, b) => n + b.length, 0);
    const c = this.#ensureContext(Math.max(texts.length * this.info.nCtx, 1), texts.length);
    const mem = this.#buffer("texts", bytes + 8 * texts.length + 16);
    const ptrs = mem + bytes + ((4 - (bytes % 4)) % 4), lens = ptrs + 4 * texts.length;
    let at = mem;
    encoded.forEach((b, i) => {
      new Uint8Array(e.memory, at, b.length).set(b);
      e.i32(ptrs, texts.length)[i] = at;
      e.i32(lens, texts.length)[i] = b.length; // size_t is 32-bit in wasm32
      at += b.length;
    });
    const status = x.et_context_classify(c.ptr, ptrs, lens, texts.length);
    if (status !== 0) throw e.error(status, e.string(x.et_context_last_error(c.ptr)));
    const s = e.scratch, out = [];
    for (let i = 0; i < texts.length; i++) {
      x.et_context_classification(c.ptr, i, s, s + 4, s + 8, s + 12);
      const [label, , probs, escalate] = e.i32(s, 4);
      const p = e.f32(probs, this.info.nLabels);
      const scores = {};
      this.info.labels.forEach((name, j) => { scores[name] = p[j]; });
      out.push({ label: this.info.labels[label], score: e.f32(s + 4, 1)[0], scores, escalate: escalate === 1 });
    }
    return single ? out[0] : out;
  }

  /**
   * Extracts the entities of a text with a token classifier. Offsets are UTF-16 indices into the text
   * (text.slice(start, end) === entity.text). Long texts run as overlapping windows.
   * @param {string} text
   * @param {{aggregation?: "none"|"simple"|"first"|"average"|"max", stride?: number}} [options]
   * @returns {{entities: Array<{label: string, score: number, start: number, end: number, text: string}>, escalate: boolean}}
   */
  extract(text, { aggregation = this.info.aggregation, stride = -1 } = {}) {
    if (!this.ptr) throw new EdgetagError("STATE", "edgetag: the model was disposed");
    const mode = AGGREGATIONS.indexOf(aggregation);
    if (mode < 0) throw new EdgetagError("INVALID_ARGUMENT", `edgetag: unknown aggregation ${aggregation}`);
    const e = this.engine, x = e.exports;
    const a = this.#utf8("text", text);
    // Every window of the text fits: at most about one token per byte, windows overlapping by a quarter.
    const window = this.info.nCtx, tokens = 2 * a.len + 2 * window;
    const c = this.#ensureContext(tokens, Math.ceil(tokens / Math.max(1, Math.floor((window - 2) * 0.75))) + 2);
    const s = e.scratch;
    const status = x.et_context_extract(c.ptr, a.ptr, a.len, mode, stride, s, s + 4, s + 8);
    if (status !== 0) throw e.error(status, e.string(x.et_context_last_error(c.ptr)));
    const [ptr, n, escalate] = e.i32(s, 3);
    const raw = e.i32(ptr, 5 * n), scores = e.f32(ptr, 5 * n);
    const map = utf16Index(text), entities = [];
    for (let i = 0; i < n; i++) {
      const [type, label] = [raw[5 * i], raw[5 * i + 1]];
      const start = map[raw[5 * i + 3]], end = map[raw[5 * i + 4]];
      entities.push({
        label: label >= 0 ? this.info.labels[label] : this.info.entityTypes[type],
        score: scores[5 * i + 2], start, end, text: text.slice(start, end),
      });
    }
    return { entities, escalate: escalate === 1 };
  }

  /** The file's tensor table as the engine read it: name, GGUF type id, ne (fastest first), offset, bytes. */
  tensors() {
    const e = this.engine, s = e.scratch, list = [];
    for (let k = 0; k < this.info.nTensors; k++) {
      const status = e.exports.et_model_tensor_info(this.ptr, k, s);
      if (status !== 0) throw e.error(status);
      const v = e.i32(s, 9);
      list.push({ name: e.string(v[0]), type: v[1], ne: Array.from(v.subarray(3, 3 + v[2])), offset: v[7] >>> 0, nBytes: v[8] >>> 0 });
    }
    return list;
  }

  /** Bytes of wasm memory the engine holds (the module's whole linear memory). */
  get wasmMemoryBytes() { return this.engine.memory.byteLength; }

  /** Frees the model and its context. The object is unusable afterwards; a second call does nothing. */
  dispose() {
    if (!this.ptr) return;
    this.#freeContext();
    for (const b of Object.values(this.buffers ?? {})) this.engine.exports.free(b.ptr);
    this.buffers = {};
    this.engine.exports.et_model_free(this.ptr);
    this.engine.exports.free(this.buffer);
    this.ptr = 0;
  }
}
