// model.js — a loaded model: its info, tokenization, runs of token ids (logits, hidden states, embeddings)
// and the tagging calls (classify, extract) over one context of bounded size.
//
// Memory: the model's bytes are copied once into wasm memory and used there in place. The context (every buffer
// of a run) is sized by the tokens a call holds, and never past `batchTokens` (one window at least): batches that
// need more run in pieces of at most that many tokens, and extract runs a text of any length window group by window
// group (et_context_extract_begin/_next). So what a call costs in memory depends on the limits, not on its input:
//   wasm memory ≈ the engine (≈ 0.3 MB) + each model's file and owned bytes + each model's context
//                 (≈ tokens × ((6H + F)·4 + …), about 12 KB per token for H 256 / F 1024) + the longest text's UTF-8
// A context that the engine's maxMemory cannot hold is made smaller, down to one window, and then refused with
// OUT_OF_MEMORY; the model keeps working either way. Calls check their input against the limits first (options.js).

import { EdgetagError } from "./errors.js";
import {
  AGGREGATIONS, POOLING, SCRATCH, STATUS, STRUCTS, TASKS, addresses, classifyInputs, sizeOf, tokenizeOutputs, windowOutputs,
} from "./abi.js";
import { CALL_LIMITS, readLimits } from "./options.js";
import { CodePointCursor, checkText, checkTexts, utf16Index } from "./text.js";
import { utf8Length } from "./utf8.js";

/** A buffer above this many bytes is given back to the engine's allocator after the call that needed it. */
const KEEP_BUFFER_BYTES = 1 << 20;
/** classify's batches hold at most this many bytes of text (a longer text runs alone). */
const BATCH_BYTES = 4 << 20;

/** scores[label] for every label; "__proto__" as a label of its own, not as the object's prototype. */
function scoresOf(labels, p) {
  const scores = {};
  for (let j = 0; j < labels.length; j++) {
    if (labels[j] === "__proto__") Object.defineProperty(scores, "__proto__", { value: p[j], enumerable: true, writable: true, configurable: true });
    else scores[labels[j]] = p[j];
  }
  return scores;
}

export class Model {
  /**
   * Takes over `size` bytes of a GGUF file at `ptr` in the engine's memory (freed here when loading fails).
   * `limits`: batchTokens, maxTextChars, maxTexts, maxTokens (options.js). Use load() rather than this constructor.
   * @param {import("./engine.js").Engine} engine @param {number} ptr @param {number} size @param {object} [limits]
   */
  constructor(engine, ptr, size, limits = {}) {
    this.engine = engine;
    const x = engine.exports;
    this.buffer = ptr;
    this.size = size;
    try {
      this.limits = readLimits(limits, CALL_LIMITS);
    } catch (e) {
      x.free(ptr);
      throw e;
    }
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
    this.context = null; // created on first use, grown on demand up to batchTokens
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

  /** The most tokens one run takes: batchTokens, and never less than the model's positions (one window). */
  get #budget() { return Math.max(this.limits.batchTokens, this.info.nCtx); }

  /**
   * A context for `tokens` tokens in `texts` texts: the current one when it is big enough, else a new one of at least
   * that size (and of the model's positions). When maxMemory cannot hold it, a smaller one down to `minTokens` — the
   * caller plans with what it got (context.maxTokens) — and below that OUT_OF_MEMORY.
   */
  #ensureContext(tokens, texts, minTokens = tokens) {
    const e = this.engine, x = e.exports;
    e.tune();
    const c = this.context;
    if (c && c.maxTokens >= tokens && c.maxTexts >= texts && c.kernels === e.kernels) return c;
    const grown = c?.kernels === e.kernels ? c : null;
    this.#freeContext();
    let want = Math.max(tokens, grown?.maxTokens ?? 0, this.info.nCtx);
    const maxTexts = Math.max(texts, grown?.maxTexts ?? 0, 16);
    for (;;) {
      const ctx = this.#createContext(want, maxTexts);
      if (ctx) return (this.context = ctx);
      if (want <= minTokens) throw e.outOfMemory(`a context of ${want} tokens`);
      want = Math.max(minTokens, want > tokens ? tokens : Math.floor(want / 2)); // first what the call needs, then halves
    }
  }

  /** A context of maxTokens tokens and maxTexts texts with its input buffers, or null when memory cannot hold it. */
  #createContext(maxTokens, maxTexts) {
    const e = this.engine, x = e.exports;
    const at = e.scratchFor(SCRATCH.context);
    x.et_context_default_params_by_ref(at.params);
    // The engine's kernel set: tune() may change it once, and the context is then made again.
    e.write(STRUCTS.et_context_params, at.params, { max_tokens: maxTokens, max_texts: maxTexts, kernels: e.kernels });
    const status = x.et_context_create(this.ptr, at.params, at.context);
    if (status === STATUS.OUT_OF_MEMORY) return null;
    if (status !== STATUS.OK) throw e.error(status, `edgetag: cannot create a context for ${maxTokens} tokens`);
    const ctx = { ptr: e.readScratch(SCRATCH.context, "context"), maxTokens, maxTexts, kernels: e.kernels, ids: 0, types: 0, lengths: 0 };
    try {
      ctx.ids = e.alloc(sizeOf("i32", maxTokens), "token ids");
      ctx.types = e.alloc(sizeOf("i32", maxTokens), "type ids");
      ctx.lengths = e.alloc(sizeOf("i32", maxTexts), "lengths");
    } catch (err) {
      x.et_context_free(ctx.ptr);
      for (const p of [ctx.ids, ctx.types, ctx.lengths]) if (p) x.free(p);
      if (err.code === "OUT_OF_MEMORY") return null;
      throw err;
    }
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

  /** The error of a failed call on the context, with the context's own message. */
  #contextError(status) {
    const e = this.engine;
    return e.error(status, e.string(e.exports.et_context_last_error(this.context.ptr)));
  }

  /** Runs texts (arrays of token ids) as one batch; returns the context. */
  #run(texts, typeIds) {
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

  /**
   * Runs token ids — one text's, or an array of texts' — in batches of at most batchTokens tokens (a text's rows
   * are the same in any batch), reading each batch's result with `read(texts)` → one entry per text.
   */
  #runIds(ids, typeIds, read) {
    this.#checkLive();
    const single = !(Array.isArray(ids) && ids.length > 0 && typeof ids[0] !== "number");
    const texts = single ? [ids] : ids, types = typeIds && (single ? [typeIds] : typeIds);
    if (texts.length > this.limits.maxTexts)
      throw new EdgetagError("INPUT", `edgetag: ${texts.length} texts; at most ${this.limits.maxTexts} in one call (maxTexts)`);
    const total = texts.reduce((n, t) => n + t.length, 0);
    if (total > this.limits.maxTokens)
      throw new EdgetagError("INPUT", `edgetag: ${total} tokens; at most ${this.limits.maxTokens} in one call (maxTokens)`);
    const out = [];
    for (let i = 0; i < texts.length;) {
      let j = i, tokens = 0;
      while (j < texts.length && (j === i || tokens + texts[j].length <= this.#budget)) tokens += texts[j++].length;
      this.#run(texts.slice(i, j), types?.slice(i, j));
      out.push(...read(texts.slice(i, j)));
      i = j;
    }
    return single ? out[0] : out;
  }

  /**
   * The head's output: per token for token classification, per text otherwise (for an embedding model,
   * the pooler output). `ids` is one text's token ids or an array of texts.
   * @returns {{rows:number, cols:number, data:Float32Array} | Array<{rows:number, cols:number, data:Float32Array}>}
   */
  logits(ids, { typeIds } = {}) {
    return this.#runIds(ids, typeIds, (texts) =>
      Model.#split(this.#result(this.engine.exports.et_context_logits), texts, this.info.task === "token_classification"));
  }

  /** The last hidden states, a row of nEmbd per token. */
  hidden(ids, { typeIds } = {}) {
    return this.#runIds(ids, typeIds, (texts) => Model.#split(this.#result(this.engine.exports.et_context_hidden), texts, true));
  }

  /**
   * One embedding per text: mean (default) or "cls" pooling of the last hidden states, optionally
   * L2-normalized. `input` is a text, an array of texts, or token ids as for logits().
   */
  embed(input, { typeIds, pooling = "mean", normalize = false } = {}) {
    // Text (a string or an array of strings) is tokenized first, each cut to the model's context.
    const isText = typeof input === "string" || (Array.isArray(input) && input.length > 0 && typeof input[0] === "string");
    if (isText) checkTexts(input, this.limits, "embed");
    const ids = !isText ? input : typeof input === "string" ? this.tokenize(input).ids : input.map((t) => this.tokenize(t).ids);
    if (isText && typeIds !== undefined)
      throw new EdgetagError("INVALID_ARGUMENT", "edgetag: typeIds go with token ids, not with text");
    const mode = POOLING[pooling];
    if (!mode) throw new EdgetagError("INVALID_ARGUMENT", `edgetag: pooling is "mean" or "cls", not ${pooling}`);
    return this.#runIds(ids, typeIds, (texts) =>
      Model.#split(this.#result(this.engine.exports.et_context_embeddings, mode, normalize ? 1 : 0), texts, false).map((t) => t.data));
  }

  /** A wasm buffer of at least `bytes` bytes for `name`, kept between calls (up to KEEP_BUFFER_BYTES) and grown on demand. */
  #buffer(name, bytes) {
    const e = this.engine;
    this.buffers ??= {};
    const b = this.buffers[name];
    if (b && b.size >= bytes) return b.ptr;
    if (b) e.exports.free(b.ptr), delete this.buffers[name];
    const size = Math.max(bytes, Math.min(2 * (b?.size ?? 0), KEEP_BUFFER_BYTES), 256);
    this.buffers[name] = { ptr: e.alloc(size, name), size };
    return this.buffers[name].ptr;
  }

  /** Gives the large buffers back to the engine's allocator (the memory stays the engine's, free for what comes next). */
  #releaseLarge() {
    for (const [name, b] of Object.entries(this.buffers ?? {}))
      if (b.size > KEEP_BUFFER_BYTES) this.engine.exports.free(b.ptr), delete this.buffers[name];
  }

  /** Writes a string into wasm memory as UTF-8, in a buffer of its exact size (lone surrogates become U+FFFD). */
  #utf8(name, text) {
    const e = this.engine;
    if (typeof text !== "string") throw new EdgetagError("INVALID_ARGUMENT", "edgetag: text must be a string");
    const len = utf8Length(text);
    const ptr = this.#buffer(name, len + 1);
    const { written } = new TextEncoder().encodeInto(text, new Uint8Array(e.memory, ptr, len + 1));
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
    checkText(text, this.limits, "tokenize");
    if (pair !== undefined && pair !== null) checkText(pair, this.limits, "tokenize", "the pair");
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
      this.#releaseLarge();
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
    checkText(text, this.limits, "tokenizeWindows");
    const e = this.engine, x = e.exports, got = e.scratchFor(SCRATCH.windows);
    const a = this.#utf8("text", text);
    const check = (status) => {
      if (status !== STATUS.OK) throw e.error(status, e.readScratch(SCRATCH.windows, "error").message);
    };
    // First the counts, then the windows into a buffer of their size.
    check(x.et_tokenize_windows(this.ptr, a.ptr, a.len, maxLength, stride, 0, 0, 0, 0, 0, 0, got.n_tokens, got.n_windows, got.error));
    const nt = e.readScratch(SCRATCH.windows, "n_tokens"), nw = e.readScratch(SCRATCH.windows, "n_windows");
    if (nt > this.limits.maxTokens)
      throw new EdgetagError("INPUT", `edgetag: the windows hold ${nt} tokens; at most ${this.limits.maxTokens} in one call (maxTokens)`);
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
    this.#releaseLarge();
    return { windows, firstToken };
  }

  /**
   * Classifies a text or an array of texts with a sequence classifier: the best label, its calibrated probability,
   * every label's, and whether the model's threshold says to escalate (or the label is the model's abstain label,
   * info.abstainLabel). Texts run in batches of at most batchTokens tokens; each is cut to the model's positions.
   * @returns {{label: string, score: number, scores: Record<string, number>, escalate: boolean} | Array<...>}
   */
  classify(input) {
    this.#checkLive();
    const { single, texts } = checkTexts(input, this.limits, "classify");
    const encoder = new TextEncoder(), nCtx = this.info.nCtx, out = [];
    const counted = { tokens: 0 };
    // Batches by a bound of each text's tokens (at most its bytes + 2, and nCtx); the context by their exact count.
    let batch = [], bound = 0, size = 0;
    for (let i = 0; i <= texts.length; i++) {
      const bytes = i < texts.length ? encoder.encode(texts[i]) : null;
      const n = bytes ? Math.min(nCtx, bytes.length + 2) : 0;
      if (batch.length && (!bytes || bound + n > this.#budget || size + bytes.length > BATCH_BYTES)) {
        out.push(...this.#classifyBatch(batch, counted));
        batch = [], bound = 0, size = 0;
      }
      if (bytes) batch.push(bytes), bound += n, size += bytes.length;
    }
    return single ? out[0] : out;
  }

  /** One batch of encoded texts through et_context_classify (split in two when memory holds less). */
  #classifyBatch(encoded, counted) {
    const e = this.engine, x = e.exports, nCtx = this.info.nCtx;
    const bytes = encoded.reduce((n, b) => n + b.length, 0);
    const layout = classifyInputs(bytes, encoded.length);
    const inputs = addresses(layout, this.#buffer("texts", layout.size));
    const ptrs = e.view("ptr", inputs.texts, encoded.length), lengths = e.view("size", inputs.lengths, encoded.length);
    const tok = e.scratchFor(SCRATCH.tokenize);
    let at = inputs.bytes, tokens = 0;
    encoded.forEach((b, i) => {
      new Uint8Array(e.memory, at, b.length).set(b);
      ptrs[i] = at;
      lengths[i] = b.length;
      // The exact count (the size query, cut at nCtx as classify cuts): the context holds what the texts need.
      const status = x.et_tokenize(this.ptr, at, b.length, 0, 0, nCtx, 0, 0, 0, 0, tok.n_tokens, tok.error);
      if (status !== STATUS.OK) throw e.error(status, e.readScratch(SCRATCH.tokenize, "error").message);
      tokens += e.readScratch(SCRATCH.tokenize, "n_tokens");
      at += b.length;
    });
    counted.tokens += tokens;
    if (counted.tokens > this.limits.maxTokens)
      throw new EdgetagError("INPUT", `edgetag: the texts have more than ${this.limits.maxTokens} tokens in one call (maxTokens)`);
    const c = this.#ensureContext(tokens, encoded.length, encoded.length > 1 ? 1 : tokens);
    if (c.maxTokens < tokens) { // maxMemory holds a smaller context: half the batch at a time
      counted.tokens -= tokens;
      const half = encoded.length >> 1;
      return [...this.#classifyBatch(encoded.slice(0, half), counted), ...this.#classifyBatch(encoded.slice(half), counted)];
    }
    const status = x.et_context_classify(c.ptr, inputs.texts, inputs.lengths, encoded.length);
    if (status !== STATUS.OK) throw this.#contextError(status);
    const got = e.scratchFor(SCRATCH.classification), out = [];
    for (let i = 0; i < encoded.length; i++) {
      x.et_context_classification(c.ptr, i, got.label, got.score, got.probs, got.escalate);
      const r = e.readScratch(SCRATCH.classification);
      out.push({ label: this.info.labels[r.label], score: r.score, scores: scoresOf(this.info.labels, e.f32(r.probs, this.info.nLabels)),
        escalate: r.escalate === 1 });
    }
    this.#releaseLarge();
    return out;
  }

  /**
   * Extracts the entities of a text (or of each text of an array) with a token classifier. Offsets are UTF-16
   * indices into the text (text.slice(start, end) === entity.text). Long texts run as overlapping windows, as
   * many at a time as batchTokens holds: a text of any length (up to maxTextChars and maxTokens) in fixed memory.
   * @param {string | string[]} input
   * @param {{aggregation?: "none"|"simple"|"first"|"average"|"max", stride?: number}} [options]
   * @returns {{entities: Array<{label: string, score: number, start: number, end: number, text: string}>, escalate: boolean} | Array<...>}
   */
  extract(input, options = {}) {
    this.#checkLive();
    const { single, texts } = checkTexts(input, this.limits, "extract");
    const out = texts.map((text) => this.#extract(text, options));
    return single ? out[0] : out;
  }

  #extract(text, { aggregation = this.info.aggregation, stride = -1 } = {}) {
    const mode = AGGREGATIONS.indexOf(aggregation);
    if (mode < 0) throw new EdgetagError("INVALID_ARGUMENT", `edgetag: unknown aggregation ${aggregation}`);
    if (!Number.isInteger(stride)) throw new EdgetagError("INVALID_ARGUMENT", `edgetag: stride must be an integer, not ${stride}`);
    const e = this.engine, x = e.exports;
    try {
      const a = this.#utf8("text", text);
      // The text's tokens, counted no further than maxTokens (the size query stops there), give its windows: the
      // context holds as many of them as the text needs, up to batchTokens.
      const window = this.info.nCtx, win = window - 2, step = win - (stride < 0 ? Math.trunc(win / 4) : Math.min(stride, win - 1));
      const tok = e.scratchFor(SCRATCH.tokenize);
      const limit = Math.min(this.limits.maxTokens + 3, 0x7fffffff);
      const counting = x.et_tokenize(this.ptr, a.ptr, a.len, 0, 0, limit, 0, 0, 0, 0, tok.n_tokens, tok.error);
      if (counting !== STATUS.OK) throw e.error(counting, e.readScratch(SCRATCH.tokenize, "error").message);
      const tokens = e.readScratch(SCRATCH.tokenize, "n_tokens") - 2;
      if (tokens > this.limits.maxTokens)
        throw new EdgetagError("INPUT", `edgetag: the text has more than ${this.limits.maxTokens} tokens; at most that many in one call (maxTokens)`);
      const windows = tokens <= win ? 1 : 1 + Math.ceil((tokens - win) / step);
      const perRun = Math.max(1, Math.min(windows, Math.floor(this.#budget / window)));
      const c = this.#ensureContext(perRun * window, perRun, window);
      const status = x.et_context_extract_begin(c.ptr, a.ptr, a.len, mode, stride);
      if (status !== STATUS.OK) throw this.#contextError(status);
      const got = e.scratchFor(SCRATCH.extraction), cursor = new CodePointCursor(text), entities = [];
      for (;;) {
        const s = x.et_context_extract_next(c.ptr, got.entities, got.n_entities, got.escalate, got.done);
        if (s !== STATUS.OK) throw this.#contextError(s);
        const r = e.readScratch(SCRATCH.extraction);
        for (const { type, label, score, start, end } of e.readArray(STRUCTS.et_entity, r.entities, r.n_entities)) {
          const from = cursor.index(start), to = cursor.index(end);
          entities.push({ label: label >= 0 ? this.info.labels[label] : this.info.entityTypes[type], score, start: from, end: to,
            text: text.slice(from, to) });
        }
        if (r.done) return { entities, escalate: r.escalate === 1 };
      }
    } finally {
      this.#releaseLarge();
    }
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

  /** Bytes of wasm memory the engine holds (the module's whole linear memory, shared by its models). */
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
