/*
 * model_vocab.c — the model's tokenizer: its vocabulary and settings read from the file's
 * tokenizer.ggml.* and edgetag.tokenizer.* keys (models/FORMAT.md) into the model's et_vocab, checked
 * against the embedding tables; and the public tokenizer calls of include/edgetag.h, which hand that
 * vocabulary to the tokenizer (tokenizer.c, which knows nothing of models or files).
 *
 * Both ways of writing a BERT vocabulary into GGUF read here: ours before format 2 (vocab.txt's spelling,
 * edgetag.tokenizer.* flags, cls_token_id) and llama.cpp's converter's, which our writer now follows (the
 * "▁" spelling, tokenizer.ggml.normalizer.*, bos_token_id as [CLS]). What cannot be read unambiguously is
 * refused with a message naming the keys or tokens: never a silently different tokenization.
 */
#include <string.h>

#include "gguf.h"
#include "internal.h"
#include "model.h"
#include "tokenizer.h"

/* ---- reading the tokenizer from the file -------------------------------------------------------- */

/* An optional token id in [0, n_vocab) into *out, -1 when absent. */
static et_status token_id(const gguf_file *f, const char *key, int64_t n_vocab, int32_t *out, et_error *err) {
    int64_t v;
    const et_status s = gguf_get_int(f, key, 0, -1, 0, n_vocab - 1, &v, err);
    *out = (int32_t)v;
    return s;
}

/* The special ids (-1 when absent) into m->info, each a token of the vocabulary. [CLS] is the token
 * llama.cpp starts a text with, tokenizer.ggml.bos_token_id; older files (ours before format 2, llama.cpp's
 * of 2024) call it cls_token_id. When both are present they must agree. eos_token_id is not read: for
 * BERT llama.cpp ends a text with seperator_token_id, as we do. */
static et_status read_special_ids(et_model *m, int64_t n_vocab, et_error *err) {
    const gguf_file *f = &m->gguf;
    et_model_info *in = &m->info;
    int32_t bos, cls;
    et_status s;
    if ((s = token_id(f, "tokenizer.ggml.bos_token_id", n_vocab, &bos, err)) ||
        (s = token_id(f, "tokenizer.ggml.cls_token_id", n_vocab, &cls, err)) ||
        (s = token_id(f, "tokenizer.ggml.seperator_token_id", n_vocab, &in->sep_id, err)) ||
        (s = token_id(f, "tokenizer.ggml.padding_token_id", n_vocab, &in->pad_id, err)) ||
        (s = token_id(f, "tokenizer.ggml.unknown_token_id", n_vocab, &in->unk_id, err)) ||
        (s = token_id(f, "tokenizer.ggml.mask_token_id", n_vocab, &in->mask_id, err)))
        return s;
    if (bos >= 0 && cls >= 0 && bos != cls)
        return et__fail(err, ET_ERR_CORRUPT, "tokenizer: tokenizer.ggml.bos_token_id %d and cls_token_id %d disagree "
                        "(llama.cpp starts a text with the first, older readers with the second)", bos, cls);
    in->cls_id = bos >= 0 ? bos : cls;
    /* Every text is [CLS] … [SEP] and WordPiece needs [UNK]: without them the file can run nothing, so it is refused
     * here rather than by every call (which the fuzzer found answering ET_ERR_UNSUPPORTED after a clean load). */
    if (in->cls_id < 0 || in->sep_id < 0 || in->unk_id < 0)
        return et__fail(err, ET_ERR_MISSING, "tokenizer: the file names no %s token (%s)",
                        in->cls_id < 0 ? "[CLS]" : in->sep_id < 0 ? "[SEP]" : "[UNK]",
                        in->cls_id < 0 ? "tokenizer.ggml.bos_token_id or cls_token_id"
                        : in->sep_id < 0 ? "tokenizer.ggml.seperator_token_id" : "tokenizer.ggml.unknown_token_id");
    return ET_OK;
}

/* One normalizer flag that two keys may give, llama.cpp's bool and our own (format 1) integer, into *out:
 * -1 when both are absent; when both are present they must agree. Ours may be -1 when `lowercase` >= 0
 * (strip_accents: "as lowercase", which it then is). */
static et_status two_keys(const gguf_file *f, const char *llama_key, const char *our_key, int32_t lowercase,
                          int32_t *out, et_error *err) {
    int theirs;
    int64_t ours;
    et_status s;
    if ((s = gguf_get_bool(f, llama_key, -1, &theirs, err)) ||
        (s = gguf_get_int(f, our_key, 0, -2, lowercase >= 0 ? -1 : 0, 1, &ours, err)))
        return s;
    if (ours == -1) ours = lowercase;
    if (theirs >= 0 && ours >= 0 && theirs != ours)
        return et__fail(err, ET_ERR_CORRUPT, "tokenizer: %s is %s but %s says %s", llama_key, theirs ? "true" : "false",
                        our_key, ours ? "true" : "false");
    *out = theirs >= 0 ? theirs : (int32_t)ours;
    return ET_OK;
}

/* The normalizer flags and WordPiece's word limit, with Hugging Face's (and llama.cpp's) defaults:
 * lowercase, strip accents as lowercase. */
static et_status read_config(const gguf_file *f, const et_model_info *in, et_vocab_config *c, et_error *err) {
    et_status s;
    int64_t v;
    if ((s = two_keys(f, "tokenizer.ggml.normalizer.lowercase", "edgetag.tokenizer.do_lower_case", -1, &c->lowercase, err)))
        return s;
    if (c->lowercase < 0) c->lowercase = 1;
    if ((s = two_keys(f, "tokenizer.ggml.normalizer.strip_accents", "edgetag.tokenizer.strip_accents", c->lowercase,
                      &c->strip_accents, err)))
        return s;
    if ((s = gguf_get_int(f, "edgetag.tokenizer.tokenize_chinese_chars", 0, 1, 0, 1, &v, err))) return s;
    c->chinese = (int32_t)v;
    if ((s = gguf_get_int(f, "edgetag.tokenizer.max_input_chars_per_word", 0, 100, 1, INT32_MAX, &v, err))) return s;
    c->max_chars = (int32_t)v;
    if (gguf_find_kv(f, "tokenizer.ggml.precompiled_charsmap"))
        return et__fail(err, ET_ERR_UNSUPPORTED, "tokenizer: tokenizer.ggml.precompiled_charsmap (a SentencePiece normalizer) "
                        "is not BERT's; this engine has only BertNormalizer");
    c->cls = in->cls_id, c->sep = in->sep_id, c->unk = in->unk_id;
    return ET_OK;
}

/* How the tokens are spelled (et_spelling). Our files say it with their format version: 1 vocab.txt's,
 * 2 llama.cpp's. Other files are told by their tokens: llama.cpp's converter starts every word-initial
 * piece with U+2581 and none with "##"; vocab.txt spells continuations "##…" and uses no U+2581. Tokens
 * that contradict the format version, or an unversioned vocabulary with both, are refused: no guess. */
static et_status read_spelling(const gguf_file *f, const gguf_array *tokens, int32_t *spelling, et_error *err) {
    uint64_t hashes = 0, phantoms = 0, pos = 0;
    gguf_str hash_example = {"", 0}, phantom_example = {"", 0};
    for (uint64_t i = 0; i < tokens->n; i++) {
        const gguf_str t = gguf_array_next_str(tokens, &pos);
        if (t.len > 2 && t.ptr[0] == '#' && t.ptr[1] == '#') {
            if (!hashes++) hash_example = t;
        } else if (t.len >= 3 && memcmp(t.ptr, "\xe2\x96\x81", 3) == 0) {
            if (!phantoms++) phantom_example = t;
        }
    }
    int64_t format;
    const et_status s = gguf_get_int(f, "edgetag.format_version", 0, 0, 0, INT32_MAX, &format, err);
    if (s) return s;
    if (format >= 2 ? (!phantoms && hashes) : format == 1 ? (phantoms && !hashes) : (phantoms && hashes))
        return et__fail(err, format ? ET_ERR_CORRUPT : ET_ERR_UNSUPPORTED,
                        "tokenizer: %s: %llu tokens are spelled like '%.*s' (vocab.txt's continuations) and %llu like "
                        "'%.*s' (llama.cpp's word starts)",
                        format >= 2 ? "edgetag.format_version 2 promises llama.cpp's spelling" :
                        format == 1 ? "edgetag.format_version 1 promises vocab.txt's spelling" :
                        "cannot tell the vocabulary's spelling",
                        (unsigned long long)hashes, (int)(hash_example.len > 32 ? 32 : hash_example.len), hash_example.ptr,
                        (unsigned long long)phantoms, (int)(phantom_example.len > 32 ? 32 : phantom_example.len),
                        phantom_example.ptr);
    *spelling = format >= 2 || (!format && phantoms) ? ET_SPELLING_PHANTOM : ET_SPELLING_WORDPIECE;
    return ET_OK;
}

/* Added tokens, matched verbatim in the raw text: llama.cpp's token types 2 (unknown), 3 (control) and
 * 4 (user defined) when the file has them, else the special ids. Types are 0 (undefined), 1 (normal) …
 * 5 (unused); 6 (byte, SentencePiece's byte fallback) is not BERT's. */
static et_status add_specials(et_model *m, et_error *err) {
    const uint32_t n = m->vocab.n;
    const gguf_kv *types = gguf_find_kv(&m->gguf, "tokenizer.ggml.token_type");
    if (types && (types->type != GGUF_ARRAY || types->v.a.type != GGUF_I32 || types->v.a.n != n))
        return et__fail(err, ET_ERR_SHAPE, "tokenizer: tokenizer.ggml.token_type is not an i32 array of %u entries", n);
    const int32_t ids[5] = {m->info.cls_id, m->info.sep_id, m->info.pad_id, m->info.unk_id, m->info.mask_id};
    for (uint32_t id = 0; id < n; id++) {
        int special = 0;
        if (types) {
            int32_t t;
            memcpy(&t, types->v.a.data + 4 * (size_t)id, 4);
            if (t < 0 || t > 5)
                return et__fail(err, t == 6 ? ET_ERR_UNSUPPORTED : ET_ERR_CORRUPT, "tokenizer: token %u has type %d%s", id,
                                t, t == 6 ? " (a byte-fallback token: not a WordPiece vocabulary)" : ", outside 0..5");
            special = t == 2 || t == 3 || t == 4;
        } else {
            for (int k = 0; k < 5; k++) special |= ids[k] == (int32_t)id;
        }
        et_status s;
        if (special && (s = et_vocab_add_special(&m->vocab, (int32_t)id, err))) return s;
    }
    return ET_OK;
}

/* The vocabulary and segment-type counts: from the embedding tables, which the keys must agree with; a
 * vocabulary-only model (no tables) takes them from tokenizer.ggml.tokens and token_type_count (default 2). */
static et_status read_sizes(const gguf_file *f, const gguf_array *tokens, int vocab_only, et_hparams *hp, et_error *err) {
    const gguf_tensor *te = vocab_only ? NULL : gguf_find_tensor(f, "token_embd.weight");
    const gguf_tensor *tt = vocab_only ? NULL : gguf_find_tensor(f, "token_types.weight");
    if (!vocab_only && !f->n_tensors)
        return et__fail(err, ET_ERR_MISSING, "model: the file has no tensors: a vocabulary-only file can tokenize "
                        "(et_model_load_vocab_from_buffer) but not run");
    if (!vocab_only && !te) return et__fail(err, ET_ERR_MISSING, "model: tensor 'token_embd.weight' is missing");
    if (!vocab_only && !tt) return et__fail(err, ET_ERR_MISSING, "model: tensor 'token_types.weight' is missing");
    hp->n_vocab = te ? te->ne[1] : (int64_t)tokens->n;
    int64_t v;
    const et_status s = gguf_get_int(f, "tokenizer.ggml.token_type_count", 0, tt ? tt->ne[1] : 2, 1, INT32_MAX, &v, err);
    if (s) return s;
    hp->n_types = tt ? tt->ne[1] : v;
    if (v != hp->n_types)
        return et__fail(err, ET_ERR_SHAPE,
                        "model: tokenizer.ggml.token_type_count %lld disagrees with token_types.weight's %lld rows",
                        (long long)v, (long long)hp->n_types);
    if ((int64_t)tokens->n != hp->n_vocab)
        return et__fail(err, ET_ERR_SHAPE, "model: tokenizer.ggml.tokens has %llu entries, token_embd.weight has %lld rows",
                        (unsigned long long)tokens->n, (long long)hp->n_vocab);
    if (tokens->n > UINT32_MAX / 2)
        return et__fail(err, ET_ERR_UNSUPPORTED, "tokenizer: %llu tokens are too many", (unsigned long long)tokens->n);
    return ET_OK;
}

et_status et__model_read_tokenizer(et_model *m, et_hparams *hp, int vocab_only, et_error *err) {
    const gguf_file *f = &m->gguf;
    const gguf_array *tokens;
    et_vocab_config config;
    et_status s;
    if ((s = gguf_get_str_array(f, "tokenizer.ggml.tokens", 1, &tokens, err)) ||
        (s = read_sizes(f, tokens, vocab_only, hp, err)) || (s = read_special_ids(m, hp->n_vocab, err)) ||
        (s = read_config(f, &m->info, &config, err)) || (s = read_spelling(f, tokens, &config.spelling, err)) ||
        (s = et_vocab_init(&m->vocab, (uint32_t)tokens->n, f->base, &config, err)))
        return s;
    uint64_t pos = 0;
    for (uint32_t id = 0; id < m->vocab.n; id++) {
        const gguf_str t = gguf_array_next_str(tokens, &pos);
        et_vocab_set(&m->vocab, id, t.ptr, (uint32_t)t.len);
    }
    return add_specials(m, err);
}

/* ---- the public tokenizer calls --------------------------------------------------------------------- */

et_status et_tokenize(const et_model *model, const char *text, size_t text_len, const char *pair, size_t pair_len,
                      int32_t max_length, int32_t *ids, int32_t *type_ids, int32_t *offsets, int32_t capacity,
                      int32_t *n_tokens, et_error *error) {
    if (!model) return et__fail(error, ET_ERR_INVALID_ARGUMENT, "et_tokenize: model is NULL");
    return et_vocab_tokenize(&model->vocab, model->info.n_ctx, text, text_len, pair, pair_len, max_length, ids, type_ids,
                             offsets, capacity, n_tokens, error);
}

et_status et_tokenize_windows(const et_model *model, const char *text, size_t text_len, int32_t max_length,
                              int32_t stride, int32_t *ids, int32_t *offsets, int32_t token_capacity, int32_t *lengths,
                              int32_t *first_token, int32_t window_capacity, int32_t *n_tokens, int32_t *n_windows,
                              et_error *error) {
    if (!model) return et__fail(error, ET_ERR_INVALID_ARGUMENT, "et_tokenize: model is NULL");
    return et_vocab_tokenize_windows(&model->vocab, model->info.n_ctx, text, text_len, max_length, stride, ids, offsets,
                                     token_capacity, lengths, first_token, window_capacity, n_tokens, n_windows, error);
}

et_status et_model_token(const et_model *model, int32_t id, const char **text, int32_t *len) {
    if (!model || !text || !len || id < 0 || (uint32_t)id >= model->vocab.n) return ET_ERR_INVALID_ARGUMENT;
    *text = (const char *)model->vocab.base + model->vocab.str_off[id];
    *len = (int32_t)model->vocab.str_len[id];
    return ET_OK;
}

int32_t et_model_token_id(const et_model *model, const char *text, size_t len) {
    if (!model || (!text && len) || len > UINT32_MAX) return -1;
    return et_vocab_find_spelling(&model->vocab, (const uint8_t *)(text ? text : ""), (uint32_t)len);
}
