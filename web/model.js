// model.js — a loaded model: its info, tokenization, runs of token ids (logits, hidden states, embeddings)
// and the tagging calls (classify, extract) over one context that grows on demand.
//
// Memory: the model's bytes are copied once into wasm memory and used there in place; the engine
// allocates the context (all run buffers) once and grows it only when a batch needs more.

import { EdgetagError } from "./errors.js";
import {
  AGGREGATIONS, POOLING, SCRATCH, STATUS, STRUCTS, TASKS, addresses, classifyInputs, sizeOf, tokenizeOutputs, windowOutputs,
} from "./abi.js";

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
    const at = engine.scratchFor(SCRATCH.load);
    x.et_model_default_params_by_ref(at.params);
    engine.write(STRUCTS.et_model_params, at.params, { pack_in_place: 1 }); // the buffer is ours: let the model repack it
    const status = x.et_model_load_from_buffer(this.buffer, size, at.params, at.model, at.error);
    if (status !== STATUS.OK) {
      const { message } = engine.read(STRUCTS.et_error, at.error);
      x.free(this.buffer);
      throw engine.error(status, message);
    }
    this.ptr = engine.readScratch(SCRATCH.load, "model");
    this.info = this.#readInfo();
    this.context = null; // created on first use, grown on demand
  }

  #readInfo() {
    const e = this.engine;
    const { info: at } = e.scratchFor(SCRATCH.info);
    e.exports.et_model_get_info(this.ptr, at);
    const i = e.read(STRUCTS.et_model_info, at);
    const info = {
      task: TASKS[i.task], nVocab: i.n_vocab, nCtx: i.n_ctx, nEmbd: i.n_embd, nFF: i.n_ff, nLayer: i.n_layer, nHead: i.n_head, nHeadDim: i.n_head_dim,
      nTokenTypes: i.n_token_types, nLabels: i.n_labels, nOut: i.n_out, hasPooler: i.has_pooler === 1,
      layerNormEps: i.layer_norm_eps, temperature: i.temperature, threshold: Number.isNaN(i.threshold) ? null : i.threshold,
      name: e.string(i.name), version: e.string(i.version),
      specialIds: { cls: i.cls_id, sep: i.sep_id, pad: i.pad_id, unk: i.unk_id, mask: i.mask_id },
      nTensors: i.n_tensors, weightsBytes: i.weights_bytes, ownedBytes: i.owned_bytes, int8Matrices: i.int8_matrices, q4Matrices: i.q4_matrices,
      fileBytes: this.size, aggregation: AGGREGATIONS[i.aggregation],
    };
    info.labels = [];
    for (let k = 0; k < info.nLabels; k++) info.labels.push(e.string(e.exports.et_model_label(this.ptr, k)));
    info.abstainLabel = i.abstain_label >= 0 ? info.labels[i.abstain_label] : null;
    info.entityTypes = [];
    for (let k = 0; k < i.n_entity_types; k++) info.entityTypes.push(e.string(e.exports.et_model_entity_type(this.ptr, k)));
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
    const at = e.scratchFor(SCRATCH.context);
    x.et_context_default_params_by_ref(at.params);
    // The engine's kernel set: tune() may change it once, and the context is then made again.
    e.write(STRUCTS.et_context_params, at.params, { max_tokens: maxTokens, max_texts: maxTexts, kernels: e.kernels });
    const status = x.et_context_create(this.ptr, at.params, at.context);
    if (status !== STATUS.OK) throw e.error(status, `edgetag: cannot create a context for ${maxTokens} tokens`);
    const ctx = {
      ptr: e.readScratch(SCRATCH.context, "context"), maxTokens, maxTexts, kernels: e.kernels,
      ids: e.alloc(sizeOf("i32", maxTokens), "token ids"), types: e.alloc(sizeOf("i32", maxTokens), "type ids"),
      lengths: e.alloc(sizeOf("i32", maxTexts), "lengths"),
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

  #checkLive() {
    if (!this.ptr) throw new EdgetagError("STATE", "edgetag: the model was disposed");
  }

  /** Runs texts (arrays of token ids) as one batch; returns the context. */
  #run(texts, typeIds) {
    this.#checkLive();
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
    if (status !== STATUS.OK) throw this.#contextError(status);
    return c;
  }

  /** The error of a failed call on the context, with the context's own message. */
  #contextError(status) {
    const e = this.engine;
    return e.error(status, e.string(e.exports.et_context_last_error(this.context.ptr)));
  }

  /** Reads a [rows][cols] result through one of the et_context_* getters; copies it out of wasm memory. */
  #result(getter, ...args) {
    const e = this.engine, at = e.scratchFor(SCRATCH.matrix);
    const status = getter(this.context.ptr, ...args, at.data, at.rows, at.cols);
    if (status !== STATUS.OK) throw this.#contextError(status);
    const { data, rows, cols } = e.readScratch(SCRATCH.matrix);
    return { rows, cols, data: e.f32(data, rows * cols).slice() };
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

  /** Runs token ids: one text's, or an array of texts' as one batch (typeIds alike). */
  #runIds(ids, typeIds) {
    const single = !(Array.isArray(ids) && ids.length > 0 && typeof ids[0] !== "number");
    const texts = single ? [ids] : ids;
    this.#run(texts, typeIds && (single ? [typeIds] : typeIds));
    return { single, texts };
  }

  /**
   * The head's output: per token for token classification, per text otherwise (for an embedding model,
   * the pooler output). `ids` is one text's token ids or an array of texts (run as one batch).
   * @returns {{rows:number, cols:number, data:Float32Array} | Array<{rows:number, cols:number, data:Float32Array}>}
   */
  logits(ids, { typeIds } = {}) {
    const { single, texts } = this.#runIds(ids, typeIds);
    const r = this.#result(this.engine.exports.et_context_logits);
    const split = Model.#split(r, texts, this.info.task === "token_classification");
    return single ? split[0] : split;
  }

  /** The last hidden states, a row of nEmbd per token. */
  hidden(ids, { typeIds } = {}) {
    const { single, texts } = this.#runIds(ids, typeIds);
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
    const mode = POOLING[pooling];
    if (!mode) throw new EdgetagError("INVALID_ARGUMENT", `edgetag: pooling is "mean" or "cls", not ${pooling}`);
    const { single, texts } = this.#runIds(ids, typeIds);
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
    this.#checkLive();
    const e = this.engine, x = e.exports, at = e.scratchFor(SCRATCH.tokenize);
    const limit = maxLength === undefined ? 0 : maxLength === Infinity ? 0x7fffffff : maxLength;
    if (!Number.isInteger(limit) || limit < 0 || limit > 0x7fffffff)
      throw new EdgetagError("INVALID_ARGUMENT", `edgetag: maxLength must be a positive integer or Infinity, not ${maxLength}`);
    const a = this.#utf8("text", text);
    const b = pair === undefined || pair === null ? null : this.#utf8("pair", pair);
    let capacity = Math.min(limit || this.info.nCtx, 2 * ((text.length + (pair?.length ?? 0))) + 3);
    for (;;) {
      const layout = tokenizeOutputs(capacity);
      const out = addresses(layout, this.#buffer("tokens", layout.size));
      const status = x.et_tokenize(this.ptr, a.ptr, a.len, b ? b.ptr : 0, b ? b.len : 0, limit, out.ids, out.type_ids,
        out.offsets, capacity, at.n_tokens, at.error);
      const n = e.readScratch(SCRATCH.tokenize, "n_tokens");
      if (status === STATUS.CAPACITY && n > capacity) { capacity = n; continue; } // grow and retry
      if (status !== STATUS.OK) throw e.error(status, e.readScratch(SCRATCH.tokenize, "error").message);
      const ids = e.i32(out.ids, n).slice(), typeIds = e.i32(out.type_ids, n).slice();
      const offsets = e.i32(out.offsets, 2 * n).slice();
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
    this.#checkLive();
    const e = this.engine, x = e.exports, got = e.scratchFor(SCRATCH.windows);
    const a = this.#utf8("text", text);
    const check = (status) => {
      if (status !== STATUS.OK) throw e.error(status, e.readScratch(SCRATCH.windows, "error").message);
    };
    // First the counts, then the windows into a buffer of their size.
    check(x.et_tokenize_windows(this.ptr, a.ptr, a.len, maxLength, stride, 0, 0, 0, 0, 0, 0, got.n_tokens, got.n_windows, got.error));
    const nt = e.readScratch(SCRATCH.windows, "n_tokens"), nw = e.readScratch(SCRATCH.windows, "n_windows");
    const layout = windowOutputs(nt, nw);
    const out = addresses(layout, this.#buffer("windows", layout.size));
    check(x.et_tokenize_windows(this.ptr, a.ptr, a.len, maxLength, stride, out.ids, out.offsets, nt, out.lengths,
      out.first_token, nw, got.n_tokens, got.n_windows, got.error));
    const map = utf16Index(text), allIds = e.i32(out.ids, nt), allOffs = e.i32(out.offsets, 2 * nt);
    const len = e.i32(out.lengths, nw).slice(), firstToken = e.i32(out.first_token, nw).slice();
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
   * label is the model's abstain label, info.abstainLabel).
   * @returns {{label: string, score: number, scores: Record<string, number>, escalate: boolean} | Array<...>}
   */
  classify(input) {
    this.#checkLive();
    const single = !Array.isArray(input), texts = single ? [input] : input;
    const e = this.engine, x = e.exports;
    const encoded = texts.map((t) => new TextEncoder().encode(String(t)));
    const bytes = encoded.reduce((n, b) => n + b.length, 0);
    // Every token takes at least one byte of its text, so a text has at most bytes + 2 tokens ([CLS], [SEP]),
    // and at most nCtx: the context is sized by that bound, not by nCtx per text (which is mostly unused).
    const nCtx = this.info.nCtx, bound = encoded.reduce((n, b) => n + Math.min(nCtx, b.length + 2), 0);
    let c = this.#ensureContext(Math.max(bound, 1), texts.length);
    const layout = classifyInputs(bytes, texts.length);
    const inputs = addresses(layout, this.#buffer("texts", layout.size));
    const ptrs = e.view("ptr", inputs.texts, texts.length), lengths = e.view("size", inputs.lengths, texts.length);
    let at = inputs.bytes;
    encoded.forEach((b, i) => {
      new Uint8Array(e.memory, at, b.length).set(b);
      ptrs[i] = at;
      lengths[i] = b.length;
      at += b.length;
    });
    let status = x.et_context_classify(c.ptr, inputs.texts, inputs.lengths, texts.length);
    if (status === STATUS.CAPACITY) { // cannot happen by the bound above; if it did, the widest context answers
      c = this.#ensureContext(texts.length * nCtx, texts.length);
      status = x.et_context_classify(c.ptr, inputs.texts, inputs.lengths, texts.length);
    }
    if (status !== STATUS.OK) throw this.#contextError(status);
    const got = e.scratchFor(SCRATCH.classification), out = [];
    for (let i = 0; i < texts.length; i++) {
      x.et_context_classification(c.ptr, i, got.label, got.score, got.probs, got.escalate);
      const r = e.readScratch(SCRATCH.classification);
      const p = e.f32(r.probs, this.info.nLabels);
      const scores = {};
      this.info.labels.forEach((name, j) => { scores[name] = p[j]; });
      out.push({ label: this.info.labels[r.label], score: r.score, scores, escalate: r.escalate === 1 });
    }
    return single ? out[0] : out;
  }

  /**
   * Extracts the entities of a text (or of each text of an array) with a token classifier. Offsets are UTF-16
   * indices into the text (text.slice(start, end) === entity.text). Long texts run as overlapping windows.
   * @param {string | string[]} input
   * @param {{aggregation?: "none"|"simple"|"first"|"average"|"max", stride?: number}} [options]
   * @returns {{entities: Array<{label: string, score: number, start: number, end: number, text: string}>, escalate: boolean} | Array<...>}
   */
  extract(input, options = {}) {
    return Array.isArray(input) ? input.map((text) => this.#extract(String(text), options)) : this.#extract(input, options);
  }

  #extract(text, { aggregation = this.info.aggregation, stride = -1 } = {}) {
    this.#checkLive();
    const mode = AGGREGATIONS.indexOf(aggregation);
    if (mode < 0) throw new EdgetagError("INVALID_ARGUMENT", `edgetag: unknown aggregation ${aggregation}`);
    const e = this.engine, x = e.exports;
    const a = this.#utf8("text", text);
    // The context holds exactly the text's windows: counted first (the tokenizer's size query, with the window
    // and stride et_context_extract will use), since a bound from the byte count is up to ten times too big.
    const window = this.info.nCtx, step = stride < 0 ? Math.trunc((window - 2) / 4) : Math.min(stride, window - 3);
    const counted = e.scratchFor(SCRATCH.windows);
    const counting = x.et_tokenize_windows(this.ptr, a.ptr, a.len, window, step, 0, 0, 0, 0, 0, 0, counted.n_tokens,
      counted.n_windows, counted.error);
    if (counting !== STATUS.OK) throw e.error(counting, e.readScratch(SCRATCH.windows, "error").message);
    const c = this.#ensureContext(e.readScratch(SCRATCH.windows, "n_tokens"), e.readScratch(SCRATCH.windows, "n_windows"));
    const got = e.scratchFor(SCRATCH.extraction);
    const status = x.et_context_extract(c.ptr, a.ptr, a.len, mode, stride, got.entities, got.n_entities, got.escalate);
    if (status !== STATUS.OK) throw this.#contextError(status);
    const r = e.readScratch(SCRATCH.extraction);
    const map = utf16Index(text);
    const entities = e.readArray(STRUCTS.et_entity, r.entities, r.n_entities).map(({ type, label, score, start, end }) => {
      const [from, to] = [map[start], map[end]];
      return {
        label: label >= 0 ? this.info.labels[label] : this.info.entityTypes[type],
        score, start: from, end: to, text: text.slice(from, to),
      };
    });
    return { entities, escalate: r.escalate === 1 };
  }

  /** The file's tensor table as the engine read it: name, GGUF type id, ne (fastest first), offset, bytes. */
  tensors() {
    const e = this.engine, { tensor: at } = e.scratchFor(SCRATCH.tensor), list = [];
    for (let k = 0; k < this.info.nTensors; k++) {
      const status = e.exports.et_model_tensor_info(this.ptr, k, at);
      if (status !== STATUS.OK) throw e.error(status);
      const t = e.read(STRUCTS.et_tensor_info, at);
      list.push({ name: e.string(t.name), type: t.type, ne: t.ne.slice(0, t.n_dims), offset: t.offset, nBytes: t.n_bytes });
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
