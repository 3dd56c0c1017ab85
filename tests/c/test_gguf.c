/*
 * test_gguf.c — the loader against bad files: every truncation, targeted corruption of each header
 * field, missing and mistyped keys, missing and misshapen tensors, bad alignment, and a seeded random
 * mutation run. Each bad file must give its precise status and a message naming the culprit; none may
 * crash or read out of bounds (this binary runs under ASan + UBSan in `make test`).
 */
#define _GNU_SOURCE /* memmem */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

static et_status load(const uint8_t *p, size_t n, et_error *err) {
    et_model *m = NULL;
    et_status s = et_model_load_from_buffer(p, n, NULL, &m, err);
    CHECK((s == ET_OK) == (m != NULL), "status %d but model %p", s, (void *)m);
    if (s) CHECK(err->status == s && err->message[0], "status %d without a message", s);
    et_model_free(m);
    return s;
}

/* Loads a copy of `base` with a u32 or u64 written at `at`. */
static et_status load_patched(const uint8_t *base, size_t n, size_t at, uint64_t value, int bytes, et_error *err) {
    uint8_t *p = aligned_alloc(64, (n + 63) / 64 * 64);
    memcpy(p, base, n);
    memcpy(p + at, &value, (size_t)bytes);
    et_status s = load(p, n, err);
    free(p);
    return s;
}

/* Position of the value that follows the key `key` (after its u32 type), or 0. */
static size_t value_of(const uint8_t *p, size_t n, const char *key) {
    const uint8_t *k = memmem(p, n, key, strlen(key));
    return k ? (size_t)(k - p) + strlen(key) + 4 : 0;
}

static void test_valid(const uint8_t *p, size_t n) {
    et_error err;
    et_model *m = NULL;
    CHECK(et_model_load_from_buffer(p, n, NULL, &m, &err) == ET_OK, "valid model: %s", err.message);
    et_model_info in;
    CHECK(et_model_get_info(m, &in) == ET_OK, "info");
    CHECK(in.n_layer == 2 && in.n_embd == 24 && in.n_head == 3 && in.n_ff == 40 && in.n_ctx == 32 && in.n_vocab == 50 &&
              in.n_token_types == 2 && in.task == ET_TASK_EMBEDDING && in.has_pooler == 1 && in.n_out == 24,
          "hyper-parameters read back wrong");
    CHECK(in.cls_id == 1 && in.sep_id == 2 && in.pad_id == 0 && in.unk_id == 3 && in.mask_id == 4, "special ids");
    CHECK(in.n_tensors == 5 + 2 * 16 + 2, "tensor count %d", in.n_tensors);
    CHECK(!strcmp(in.name, "testlib model") && !strcmp(in.version, "0"), "name '%s' version '%s'", in.name, in.version);
    CHECK(in.temperature == 1.0f && in.threshold != in.threshold, "calibration defaults");
    et_tensor_info t;
    CHECK(et_model_tensor_info(m, 0, &t) == ET_OK && !strcmp(t.name, "token_embd.weight") && t.ne[0] == 24 &&
              t.ne[1] == 50 && t.n_dims == 2 && t.type == 0 && t.n_bytes == 24 * 50 * 4 && t.offset % 32 == 0,
          "tensor 0 info");
    CHECK(et_model_tensor_info(m, in.n_tensors, &t) == ET_ERR_INVALID_ARGUMENT, "tensor index out of range");
    et_model_free(m);
}

static void test_truncation(const uint8_t *p, size_t n) {
    /* Every prefix shorter than the end of the last tensor's data must fail; none may crash. */
    size_t need = 0;
    et_model *m = NULL;
    et_model_load_from_buffer(p, n, NULL, &m, NULL);
    et_model_info in;
    et_model_get_info(m, &in);
    for (int i = 0; i < in.n_tensors; i++) {
        et_tensor_info t;
        et_model_tensor_info(m, i, &t);
        if (t.offset + t.n_bytes > need) need = t.offset + t.n_bytes;
    }
    et_model_free(m);
    uint8_t *copy = aligned_alloc(64, (n + 63) / 64 * 64);
    memcpy(copy, p, n);
    int wrong = 0;
    for (size_t len = 0; len < n; len++) {
        et_error err;
        const et_status s = load(copy, len, &err);
        if (len < need && s != ET_ERR_TRUNCATED) {
            wrong++;
            if (wrong < 5) fprintf(stderr, "prefix %zu: status %d (%s)\n", len, s, err.message);
        }
        if (len >= need) CHECK(s == ET_OK, "prefix %zu holds every tensor but fails: %s", len, err.message);
    }
    CHECK(wrong == 0, "%d truncated prefixes did not report ET_ERR_TRUNCATED", wrong);
    free(copy);
}

static void test_header_fields(const uint8_t *p, size_t n, const tl_layout *lay) {
    et_error err;
    CHECK(load_patched(p, n, 0, 0x46554748u, 4, &err) == ET_ERR_BAD_MAGIC, "bad magic: %s", err.message);
    CHECK(strstr(err.message, "magic"), "bad magic message: %s", err.message);
    const uint32_t versions[] = {0, 1, 4, 0xffffffffu};
    for (int i = 0; i < 4; i++)
        CHECK(load_patched(p, n, 4, versions[i], 4, &err) == ET_ERR_BAD_VERSION, "version %u: %s", versions[i], err.message);
    CHECK(load_patched(p, n, 4, 2, 4, &err) == ET_OK, "version 2 is the same layout: %s", err.message);

    /* A count no file could hold is corruption; a plausible one that does not fit is a cut file. */
    CHECK(load_patched(p, n, 8, n, 8, &err) == ET_ERR_TRUNCATED, "tensor count %zu: %s", n, err.message);
    const uint64_t absurd[] = {1ull << 62, UINT64_MAX, 1ull << 33, 1ull << 25};
    for (int i = 0; i < 4; i++) {
        CHECK(load_patched(p, n, 8, absurd[i], 8, &err) == ET_ERR_CORRUPT, "tensor count %llu: %d %s",
              (unsigned long long)absurd[i], err.status, err.message);
        CHECK(load_patched(p, n, 16, absurd[i], 8, &err) == ET_ERR_CORRUPT, "kv count %llu: %s",
              (unsigned long long)absurd[i], err.message);
    }
    /* Counts off by one make the reader misparse what follows: some error, never a crash. */
    CHECK(load_patched(p, n, 8, lay->n_tensors + 1, 8, &err) != ET_OK, "one tensor too many");
    CHECK(load_patched(p, n, 8, lay->n_tensors - 1, 8, &err) != ET_OK, "one tensor too few");
    CHECK(load_patched(p, n, 16, lay->n_kv + 1, 8, &err) != ET_OK, "one kv too many");
    CHECK(load_patched(p, n, 16, lay->n_kv - 1, 8, &err) != ET_OK, "one kv too few");

    /* The first tensor's info: n_dims, type, offset. */
    CHECK(load_patched(p, n, lay->first_ndims_field, 0, 4, &err) == ET_ERR_CORRUPT, "n_dims 0: %s", err.message);
    CHECK(load_patched(p, n, lay->first_ndims_field, 5, 4, &err) == ET_ERR_CORRUPT, "n_dims 5: %s", err.message);
    CHECK(load_patched(p, n, lay->first_type_field, 99, 4, &err) == ET_ERR_UNSUPPORTED, "type 99: %s", err.message);
    CHECK(strstr(err.message, "token_embd.weight") && strstr(err.message, "99"), "type message: %s", err.message);
    CHECK(load_patched(p, n, lay->first_type_field, 12, 4, &err) == ET_ERR_CORRUPT, "Q4_K rows of 24: %s", err.message);
    /* I32 has F32's size: the file parses, the engine refuses the type by name. */
    CHECK(load_patched(p, n, lay->first_type_field, 26, 4, &err) == ET_ERR_UNSUPPORTED, "I32 embeddings: %s", err.message);
    CHECK(strstr(err.message, "I32") && strstr(err.message, "token_embd.weight"), "I32 message: %s", err.message);
    CHECK(load_patched(p, n, lay->first_offset_field, 1, 8, &err) == ET_ERR_CORRUPT, "misaligned offset: %s", err.message);
    CHECK(strstr(err.message, "alignment"), "misaligned message: %s", err.message);
    CHECK(load_patched(p, n, lay->first_offset_field, (uint64_t)n, 8, &err) != ET_OK, "offset past the end");
    CHECK(load_patched(p, n, lay->first_offset_field, UINT64_MAX - 31, 8, &err) == ET_ERR_CORRUPT, "offset overflow: %s",
          err.message);
    CHECK(load_patched(p, n, lay->first_offset_field, 32, 8, &err) == ET_ERR_CORRUPT && strstr(err.message, "expected 0"),
          "a gap before the first tensor: %s", err.message);
    /* Bytes after the last tensor's padding mean the table was misread or the file was appended to. */
    uint8_t *longer = aligned_alloc(64, (n + 64 + 63) / 64 * 64);
    memcpy(longer, p, n);
    memset(longer + n, 0, 64);
    CHECK(load(longer, n + 64, &err) == ET_ERR_CORRUPT && strstr(err.message, "follow the last tensor"), "trailing bytes: %s",
          err.message);
    free(longer);
    /* A dimension of 0 and one that overflows the element count. */
    CHECK(load_patched(p, n, lay->first_ndims_field + 4, 0, 8, &err) == ET_ERR_CORRUPT, "dim 0: %s", err.message);
    CHECK(load_patched(p, n, lay->first_ndims_field + 4, 1ull << 40, 8, &err) == ET_ERR_CORRUPT, "dim 2^40: %s", err.message);

    /* Keys: a string length past the end; a value type out of range; a bool that is 2. */
    CHECK(load_patched(p, n, lay->kv_start, (uint64_t)n, 8, &err) == ET_ERR_TRUNCATED, "key length past end: %s", err.message);
    const size_t arch = value_of(p, n, "general.architecture");
    CHECK(load_patched(p, n, arch - 4, 13, 4, &err) == ET_ERR_CORRUPT, "value type 13: %s", err.message);
    CHECK(load_patched(p, n, arch, 1000, 8, &err) == ET_ERR_CORRUPT || err.status == ET_ERR_TRUNCATED, "string length");
    const size_t causal = value_of(p, n, "bert.attention.causal");
    CHECK(load_patched(p, n, causal, 2, 1, &err) == ET_ERR_CORRUPT, "bool 2: %s", err.message);
    CHECK(load_patched(p, n, causal, 1, 1, &err) == ET_ERR_UNSUPPORTED, "causal: %s", err.message);
    /* Array of arrays, and an array whose count cannot fit. */
    const size_t tokens = value_of(p, n, "tokenizer.ggml.tokens");
    CHECK(load_patched(p, n, tokens, 9, 4, &err) == ET_ERR_UNSUPPORTED, "nested array: %s", err.message);
    CHECK(load_patched(p, n, tokens + 4, 1ull << 60, 8, &err) == ET_ERR_TRUNCATED, "array count: %s", err.message);
    /* Wrong key types and values. */
    const size_t blocks = value_of(p, n, "bert.block_count");
    CHECK(load_patched(p, n, blocks - 4, 6, 4, &err) == ET_ERR_CORRUPT, "block_count as f32: %s", err.message);
    CHECK(strstr(err.message, "bert.block_count"), "message names the key: %s", err.message);
    CHECK(load_patched(p, n, blocks, 0, 4, &err) == ET_ERR_CORRUPT, "0 layers: %s", err.message);
    CHECK(load_patched(p, n, blocks, 3, 4, &err) == ET_ERR_MISSING, "3 layers, 2 in the file: %s", err.message);
    CHECK(strstr(err.message, "blk.2."), "message names the missing layer: %s", err.message);
    const size_t heads = value_of(p, n, "bert.attention.head_count");
    CHECK(load_patched(p, n, heads, 5, 4, &err) == ET_ERR_SHAPE, "5 heads for 24: %s", err.message);
    const size_t fmt = value_of(p, n, "edgetag.format_version");
    CHECK(load_patched(p, n, fmt, 3, 4, &err) == ET_ERR_BAD_VERSION, "format version 3: %s", err.message);
    const size_t eps = value_of(p, n, "bert.attention.layer_norm_epsilon");
    const float bad_eps = -1.0f;
    uint32_t bits;
    memcpy(&bits, &bad_eps, 4);
    CHECK(load_patched(p, n, eps, bits, 4, &err) == ET_ERR_CORRUPT, "negative eps: %s", err.message);
    const size_t vocab_id = value_of(p, n, "tokenizer.ggml.unknown_token_id");
    CHECK(load_patched(p, n, vocab_id, 50, 4, &err) == ET_ERR_CORRUPT, "special id past the vocabulary: %s", err.message);

    /* Architecture and duplicate names, by rewriting bytes of the same length. */
    uint8_t *q = aligned_alloc(64, (n + 63) / 64 * 64);
    memcpy(q, p, n);
    memcpy(q + arch + 8, "gpt2", 4);
    CHECK(load(q, n, &err) == ET_ERR_UNSUPPORTED && strstr(err.message, "gpt2"), "architecture gpt2: %s", err.message);
    memcpy(q, p, n);
    uint8_t *name = memmem(q, n, "blk.0.attn_k.bias", 17);
    memcpy(name, "blk.0.attn_q.bias", 17);
    CHECK(load(q, n, &err) == ET_ERR_CORRUPT && strstr(err.message, "duplicate"), "duplicate tensor: %s", err.message);
    memcpy(q, p, n);
    name = memmem(q, n, "tokenizer.ggml.cls_token_id", 27);
    memcpy(name, "tokenizer.ggml.xyz_token_id", 27);
    CHECK(load(q, n, &err) == ET_OK, "an unknown key is ignored: %s", err.message);
    free(q);
}

static void test_spec_errors(void) {
    struct {
        const char *skip_key, *skip_tensor, *bad_shape;
        int task, label_delta;
        et_status want;
        const char *mention;
        const char *abstain_label; /* edgetag.escalation.abstain_label (labels are label_0 …), NULL absent */
        int layout;                /* tl_model_spec.layout: 0 the default (2), 1 the first layout */
        const char *extra_tensor;  /* an extra tensor of shape [1] */
    } cases[] = {
        {"general.architecture", NULL, NULL, 0, 0, ET_ERR_MISSING, "general.architecture"},
        {"bert.context_length", NULL, NULL, 0, 0, ET_ERR_MISSING, "bert.context_length"},
        {"bert.embedding_length", NULL, NULL, 0, 0, ET_ERR_MISSING, "bert.embedding_length"},
        {"bert.feed_forward_length", NULL, NULL, 0, 0, ET_ERR_MISSING, "bert.feed_forward_length"},
        {"bert.block_count", NULL, NULL, 0, 0, ET_ERR_MISSING, "bert.block_count"},
        {"bert.attention.head_count", NULL, NULL, 0, 0, ET_ERR_MISSING, "bert.attention.head_count"},
        {"bert.attention.layer_norm_epsilon", NULL, NULL, 0, 0, ET_ERR_MISSING, "layer_norm_epsilon"},
        {"tokenizer.ggml.tokens", NULL, NULL, 0, 0, ET_ERR_MISSING, "tokenizer.ggml.tokens"},
        {"bert.classifier.output_labels", NULL, NULL, 1, 0, ET_ERR_MISSING, "bert.classifier.output_labels"},
        {"edgetag.labels", NULL, NULL, 1, 0, ET_ERR_MISSING, "bert.classifier.output_labels", NULL, 1},
        {NULL, "token_embd.weight", NULL, 0, 0, ET_ERR_MISSING, "token_embd.weight"},
        {NULL, "position_embd.weight", NULL, 0, 0, ET_ERR_MISSING, "position_embd.weight"},
        {NULL, "blk.1.ffn_down.bias", NULL, 0, 0, ET_ERR_MISSING, "blk.1.ffn_down.bias"},
        {NULL, "cls.output.weight", NULL, 2, 0, ET_ERR_MISSING, "cls.output.weight"},
        {NULL, "cls.weight", NULL, 1, 0, ET_ERR_MISSING, "cls.weight"},
        {NULL, NULL, "blk.0.attn_v.weight", 0, 0, ET_ERR_SHAPE, "blk.0.attn_v.weight"},
        {NULL, NULL, "blk.1.ffn_up.bias", 0, 0, ET_ERR_SHAPE, "blk.1.ffn_up.bias"},
        {NULL, NULL, "token_types.weight", 0, 0, ET_ERR_SHAPE, "token_types.weight"},
        {NULL, NULL, "cls.output.bias", 2, 0, ET_ERR_SHAPE, "cls.output.bias"},
        {NULL, NULL, NULL, 1, 1, ET_ERR_SHAPE, "bert.classifier.output_labels"},
        {NULL, NULL, NULL, 2, -1, ET_ERR_SHAPE, "bert.classifier.output_labels"},
        {NULL, NULL, NULL, 1, 1, ET_ERR_SHAPE, "edgetag.labels", NULL, 1},
        /* The first layout (format 1) reads as it always did. */
        {NULL, NULL, NULL, 0, 0, ET_OK, "", NULL, 1},
        {NULL, NULL, NULL, 1, 0, ET_OK, "", "label_1", 1},
        {NULL, NULL, NULL, 2, 0, ET_OK, "", NULL, 1},
        /* A tensor the engine would ignore is refused: llama.cpp's per-tensor scales above all. */
        {NULL, NULL, NULL, 0, 0, ET_ERR_UNSUPPORTED, "'blk.0.attn_q.scale' is not one this engine reads (llama.cpp's per-tensor", NULL, 0,
         "blk.0.attn_q.scale"},
        {NULL, NULL, NULL, 1, 0, ET_ERR_UNSUPPORTED, "'blk.1.ffn_down.input_scale'", NULL, 0, "blk.1.ffn_down.input_scale"},
        {NULL, NULL, NULL, 0, 0, ET_ERR_UNSUPPORTED, "'blk.0.attn_qkv.weight' is not one", NULL, 0, "blk.0.attn_qkv.weight"},
        {NULL, NULL, NULL, 0, 0, ET_ERR_UNSUPPORTED, "'edgetag.row_scale.blk.0.attn_q.weight'", NULL, 0,
         "edgetag.row_scale.blk.0.attn_q.weight"}, /* scales of a weight that is not I8 */
        /* A llama.cpp classifier loaded for its embeddings: its unused head is no reason to refuse it. */
        {NULL, NULL, NULL, 0, 0, ET_OK, "", NULL, 0, "cls.output.bias"},
        {"tokenizer.ggml.token_type_count", NULL, NULL, 0, 0, ET_OK, ""},
        {"edgetag.task", NULL, NULL, 0, 0, ET_OK, ""},
        {NULL, "cls.weight", NULL, 0, 0, ET_OK, ""}, /* pooler optional for embeddings */
        /* The abstain label must be one of the labels; an embedding model has none. */
        {NULL, NULL, NULL, 1, 0, ET_OK, "", "label_2"},
        {NULL, NULL, NULL, 2, 0, ET_OK, "", "label_0"},
        {NULL, NULL, NULL, 1, 0, ET_ERR_CORRUPT, "edgetag.escalation.abstain_label 'label_3'", "label_3"},
        {NULL, NULL, NULL, 1, 0, ET_ERR_CORRUPT, "edgetag.escalation.abstain_label 'label_'", "label_"},
        {NULL, NULL, NULL, 1, 0, ET_ERR_CORRUPT, "edgetag.escalation.abstain_label ''", ""},
        {NULL, NULL, NULL, 0, 0, ET_ERR_CORRUPT, "edgetag.escalation.abstain_label 'label_0'", "label_0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tl_model_spec s = tl_small_spec();
        s.skip_key = cases[i].skip_key, s.skip_tensor = cases[i].skip_tensor, s.bad_shape = cases[i].bad_shape;
        s.task = cases[i].task;
        s.n_labels = s.task ? 3 : 0;
        s.label_names_delta = cases[i].label_delta;
        s.abstain_label = cases[i].abstain_label;
        s.layout = cases[i].layout ? cases[i].layout : 2;
        s.extra_tensor = cases[i].extra_tensor;
        uint8_t *p;
        const size_t n = tl_build_model(&s, &p, NULL);
        et_error err;
        const et_status st = load(p, n, &err);
        CHECK(st == cases[i].want, "case %zu (%s%s%s): status %d, want %d: %s", i, cases[i].skip_key ? cases[i].skip_key : "",
              cases[i].skip_tensor ? cases[i].skip_tensor : "", cases[i].bad_shape ? cases[i].bad_shape : "", st,
              cases[i].want, st ? err.message : "");
        if (st) CHECK(strstr(err.message, cases[i].mention), "case %zu message: %s", i, err.message);
        free(p);
    }
}

static void test_alignment(void) {
    tl_model_spec s = tl_small_spec();
    uint8_t *p;
    size_t n = tl_build_model(&s, &p, NULL);
    et_error err;
    /* The buffer itself must be 16-byte aligned unless the model copies it. */
    uint8_t *shifted = aligned_alloc(64, (n + 64 + 63) / 64 * 64);
    memcpy(shifted + 4, p, n);
    et_model *m = NULL;
    CHECK(et_model_load_from_buffer(shifted + 4, n, NULL, &m, &err) == ET_ERR_ALIGNMENT && !m, "unaligned buffer");
    et_model_params mp = et_model_default_params();
    mp.copy_buffer = 1;
    CHECK(et_model_load_from_buffer(shifted + 4, n, &mp, &m, &err) == ET_OK && m, "copy_buffer: %s", err.message);
    memset(shifted, 0, n + 64); /* the model must not depend on the caller's bytes any more */
    et_model_info in;
    et_model_get_info(m, &in);
    CHECK(in.n_layer == 2 && et_model_label(m, 0) == NULL, "copied model info");
    et_model_free(m);
    free(shifted);
    free(p);

    /* general.alignment: 64 and 1 load (1 puts F32 tensors at odd addresses: they get copied). */
    const uint32_t good[] = {64, 1, 8};
    for (int i = 0; i < 3; i++) {
        s.alignment = good[i];
        n = tl_build_model(&s, &p, NULL);
        CHECK(load(p, n, &err) == ET_OK, "alignment %u: %s", good[i], err.message);
        free(p);
    }
    const uint32_t bad[] = {3, 48, 1u << 20};
    for (int i = 0; i < 3; i++) {
        s.alignment = bad[i];
        n = tl_build_model(&s, &p, NULL);
        CHECK(load(p, n, &err) == ET_ERR_CORRUPT && strstr(err.message, "alignment"), "alignment %u: %s", bad[i], err.message);
        free(p);
    }
}

/* Random byte mutations of the metadata and tensor table (and random truncations): every load must
 * end in a status; a model that loads must run. ASan/UBSan watch the rest. */
static void test_mutations(const uint8_t *p, size_t n, const tl_layout *lay) {
    tl_rng r = {2024};
    uint8_t *q = aligned_alloc(64, (n + 63) / 64 * 64);
    int loaded = 0, iterations = 20000;
    for (int it = 0; it < iterations; it++) {
        memcpy(q, p, n);
        const int flips = tl_int(&r, 1, 8);
        for (int f = 0; f < flips; f++) {
            const size_t at = (size_t)tl_int(&r, 0, (int)lay->data_start - 1);
            switch (tl_int(&r, 0, 3)) {
            case 0: q[at] = (uint8_t)tl_next(&r); break;
            case 1: q[at] ^= (uint8_t)(1u << tl_int(&r, 0, 7)); break;
            case 2: q[at] = 0xff; break;
            default: q[at] = 0; break;
            }
        }
        const size_t len = tl_int(&r, 0, 9) == 0 ? (size_t)tl_int(&r, 0, (int)n) : n;
        et_model *m = NULL;
        et_error err;
        if (et_model_load_from_buffer(q, len, NULL, &m, &err) == ET_OK) {
            loaded++;
            et_model_info in;
            et_model_get_info(m, &in);
            et_context *ctx = NULL;
            if (et_context_create(m, NULL, &ctx) == ET_OK) {
                const int32_t ids[3] = {1, 7 % in.n_vocab, 2 % in.n_vocab}, lengths[1] = {in.n_ctx < 3 ? in.n_ctx : 3};
                et_context_run(ctx, ids, NULL, lengths, 1);
            }
            et_context_free(ctx);
            et_model_free(m);
        } else {
            CHECK(err.message[0] && err.status != ET_OK, "failure without a message");
        }
    }
    printf("mutations: %d of %d mutated files still loaded (and ran)\n", loaded, iterations);
    free(q);
}

static void test_file_loader(const uint8_t *p, size_t n) {
    et_error err;
    et_model *m = NULL;
    CHECK(et_model_load_from_file("/nonexistent/model.gguf", NULL, &m, &err) == ET_ERR_IO && !m, "missing file");
    CHECK(strstr(err.message, "/nonexistent/model.gguf"), "message names the path: %s", err.message);
    CHECK(et_model_load_from_file("/", NULL, &m, &err) == ET_ERR_IO && !m, "a directory: %s", err.message);
    char path[] = "/tmp/edgetag-test-XXXXXX";
    const int fd = mkstemp(path);
    FILE *fp = fdopen(fd, "wb");
    fwrite(p, 1, n, fp);
    fclose(fp);
    CHECK(et_model_load_from_file(path, NULL, &m, &err) == ET_OK && m, "file load: %s", err.message);
    et_model_free(m);
    fp = fopen(path, "wb");
    fclose(fp);
    CHECK(et_model_load_from_file(path, NULL, &m, &err) == ET_ERR_TRUNCATED, "empty file: %s", err.message);
    remove(path);
    CHECK(et_model_load_from_buffer(NULL, 10, NULL, &m, &err) == ET_ERR_INVALID_ARGUMENT, "NULL data");
    CHECK(et_model_load_from_buffer(p, n, NULL, NULL, &err) == ET_ERR_INVALID_ARGUMENT, "NULL out");
    CHECK(et_model_load_from_buffer(p, n, NULL, &m, NULL) == ET_OK, "NULL error is allowed");
    et_model_free(m);
}

int main(void) {
    tl_model_spec s = tl_small_spec();
    tl_layout lay;
    uint8_t *p;
    const size_t n = tl_build_model(&s, &p, &lay);
    test_valid(p, n);
    test_truncation(p, n);
    test_header_fields(p, n, &lay);
    test_spec_errors();
    test_alignment();
    test_file_loader(p, n);
    test_mutations(p, n, &lay);
    free(p);
    return tl_finish("test_gguf");
}
