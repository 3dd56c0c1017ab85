/*
 * model_vocab.c — the model's tokenizer: its vocabulary and settings read from the file's
 * tokenizer.ggml.* and edgetag.tokenizer.* keys (models/FORMAT.md) into the model's et_vocab, checked
 * against the embedding tables; and the public tokenizer calls of include/edgetag.h, which hand that
 * vocabulary to the tokenizer (tokenizer.c, which knows nothing of models or files).
 */
#include <string.h>

#include "gguf.h"
#include "internal.h"
#include "model.h"
#include "tokenizer.h"

/* ---- reading the tokenizer from the file -------------------------------------------------------- */

static et_status flag(const gguf_file *f, const char *key, int32_t dflt, int32_t lo, int32_t hi, int32_t *out,
                      et_error *err) {
    int64_t v;
    const et_status s = gguf_get_int(f, key, 0, dflt, lo, hi, &v, err);
    *out = (int32_t)v;
    return s;
}

/* The special ids (-1 when absent) into m->info, each a token of the vocabulary. */
static et_status read_special_ids(et_model *m, int64_t n_vocab, et_error *err) {
    static const char *const keys[5] = {
        "tokenizer.ggml.cls_token_id", "tokenizer.ggml.seperator_token_id", "tokenizer.ggml.padding_token_id",
        "tokenizer.ggml.unknown_token_id", "tokenizer.ggml.mask_token_id"};
    int32_t *ids[5] = {&m->info.cls_id, &m->info.sep_id, &m->info.pad_id, &m->info.unk_id, &m->info.mask_id};
    for (int i = 0; i < 5; i++) {
        int64_t v;
        const et_status s = gguf_get_int(&m->gguf, keys[i], 0, -1, 0, n_vocab - 1, &v, err);
        if (s) return s;
        *ids[i] = (int32_t)v;
    }
    return ET_OK;
}

/* The normalizer flags and WordPiece's word limit, with Hugging Face's defaults. */
static et_status read_config(const gguf_file *f, const et_model_info *in, et_vocab_config *c, et_error *err) {
    et_status s;
    if ((s = flag(f, "edgetag.tokenizer.do_lower_case", 1, 0, 1, &c->lowercase, err)) ||
        (s = flag(f, "edgetag.tokenizer.strip_accents", -1, -1, 1, &c->strip_accents, err)) ||
        (s = flag(f, "edgetag.tokenizer.tokenize_chinese_chars", 1, 0, 1, &c->chinese, err)) ||
        (s = flag(f, "edgetag.tokenizer.max_input_chars_per_word", 100, 1, INT32_MAX, &c->max_chars, err)))
        return s;
    c->cls = in->cls_id, c->sep = in->sep_id, c->unk = in->unk_id;
    return ET_OK;
}

/* Added tokens, matched verbatim in the raw text: llama.cpp's token types 2 (unknown), 3 (control) and
 * 4 (user defined) when the file has them, else the special ids. */
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
            special = t == 2 || t == 3 || t == 4;
        } else {
            for (int k = 0; k < 5; k++) special |= ids[k] == (int32_t)id;
        }
        et_status s;
        if (special && (s = et_vocab_add_special(&m->vocab, (int32_t)id, err))) return s;
    }
    return ET_OK;
}

et_status et__model_read_tokenizer(et_model *m, et_hparams *hp, et_error *err) {
    const gguf_file *f = &m->gguf;
    et_status s;
    /* Vocabulary and segment types come from the embedding tables; the keys must agree. */
    const gguf_tensor *te = gguf_find_tensor(f, "token_embd.weight");
    const gguf_tensor *tt = gguf_find_tensor(f, "token_types.weight");
    if (!te) return et__fail(err, ET_ERR_MISSING, "model: tensor 'token_embd.weight' is missing");
    if (!tt) return et__fail(err, ET_ERR_MISSING, "model: tensor 'token_types.weight' is missing");
    hp->n_vocab = te->ne[1];
    hp->n_types = tt->ne[1];
    int64_t v;
    if ((s = gguf_get_int(f, "tokenizer.ggml.token_type_count", 0, hp->n_types, 1, INT32_MAX, &v, err))) return s;
    if (v != hp->n_types)
        return et__fail(err, ET_ERR_SHAPE,
                        "model: tokenizer.ggml.token_type_count %lld disagrees with token_types.weight's %lld rows",
                        (long long)v, (long long)hp->n_types);
    const gguf_array *tokens;
    if ((s = gguf_get_str_array(f, "tokenizer.ggml.tokens", 1, &tokens, err))) return s;
    if ((int64_t)tokens->n != hp->n_vocab)
        return et__fail(err, ET_ERR_SHAPE, "model: tokenizer.ggml.tokens has %llu entries, token_embd.weight has %lld rows",
                        (unsigned long long)tokens->n, (long long)hp->n_vocab);
    if ((s = read_special_ids(m, hp->n_vocab, err))) return s;

    et_vocab_config config;
    if ((s = read_config(f, &m->info, &config, err)) ||
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
    const int cont = len > 2 && text[0] == '#' && text[1] == '#';
    return et_vocab_find(&model->vocab, cont, (const uint8_t *)text + (cont ? 2 : 0), (uint32_t)len - (cont ? 2u : 0u));
}
