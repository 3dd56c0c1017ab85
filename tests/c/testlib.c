/*
 * testlib.c — see testlib.h.
 */
#include "testlib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h" /* et__f16_to_f32, et__f32_to_f16 */

int tl_failures;
int tl_checks;

int tl_finish(const char *name) {
    if (tl_failures) {
        fprintf(stderr, "%s: %d of %d checks FAILED\n", name, tl_failures, tl_checks);
        return 1;
    }
    printf("%s: all %d checks passed\n", name, tl_checks);
    return 0;
}

/* ---- random numbers --------------------------------------------------------------------------- */

uint64_t tl_next(tl_rng *r) {
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1Dull;
}

float tl_uniform(tl_rng *r, float lo, float hi) {
    return lo + (hi - lo) * (float)((tl_next(r) >> 40) / 16777216.0);
}

int tl_int(tl_rng *r, int lo, int hi) { return lo + (int)(tl_next(r) % (uint64_t)(hi - lo + 1)); }

/* ---- f16 / q8_0 encoders ----------------------------------------------------------------------- */

float tl_round_f16(float x) { return et__f16_to_f32(et__f32_to_f16(x)); }

/* Quantizes a block of 32 values as Q8_0 into 34 bytes; writes the dequantized values back. */
static void q8_0_block(float *x, uint8_t *out) {
    float amax = 0.0f;
    for (int i = 0; i < 32; i++) amax = fabsf(x[i]) > amax ? fabsf(x[i]) : amax;
    const uint16_t dh = et__f32_to_f16(amax / 127.0f);
    const float d = et__f16_to_f32(dh);
    memcpy(out, &dh, 2);
    for (int i = 0; i < 32; i++) {
        const int q = d > 0 ? (int)lrintf(x[i] / d) : 0;
        const int8_t qc = (int8_t)(q > 127 ? 127 : q < -127 ? -127 : q);
        out[2 + i] = (uint8_t)qc;
        x[i] = d * (float)qc;
    }
}

/* ---- the GGUF builder --------------------------------------------------------------------------- */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *data, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->n + n) cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p) abort();
        b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}
static void put_u32(buf *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(buf *b, uint64_t v) { put(b, &v, 8); }
static void put_str(buf *b, const char *s) {
    put_u64(b, strlen(s));
    put(b, s, strlen(s));
}

typedef struct tensor {
    char name[48];
    uint32_t n_dims, type;
    uint64_t ne[2];
    buf data;
} tensor;

typedef struct builder {
    const tl_model_spec *spec;
    buf kv;
    size_t n_kv;
    tensor *t;
    size_t n_t;
    tl_rng rng;
} builder;

static int key_wanted(builder *b, const char *key) {
    if (b->spec->skip_key && !strcmp(b->spec->skip_key, key)) return 0;
    put_str(&b->kv, key);
    b->n_kv++;
    return 1;
}
static void kv_u32(builder *b, const char *k, uint32_t v) {
    if (key_wanted(b, k)) put_u32(&b->kv, 4), put_u32(&b->kv, v);
}
static void kv_f32(builder *b, const char *k, float v) {
    if (key_wanted(b, k)) put_u32(&b->kv, 6), put(&b->kv, &v, 4);
}
static void kv_bool(builder *b, const char *k, int v) {
    const uint8_t x = (uint8_t)v;
    if (key_wanted(b, k)) put_u32(&b->kv, 7), put(&b->kv, &x, 1);
}
static void kv_str(builder *b, const char *k, const char *v) {
    if (key_wanted(b, k)) put_u32(&b->kv, 8), put_str(&b->kv, v);
}
static void kv_strs(builder *b, const char *k, char **v, size_t n) {
    if (!key_wanted(b, k)) return;
    put_u32(&b->kv, 9), put_u32(&b->kv, 8), put_u64(&b->kv, n);
    for (size_t i = 0; i < n; i++) put_str(&b->kv, v[i]);
}

/* Adds a tensor of ne0 × ne1 values (ne1 = 0: one-dimensional) drawn as `kind` says. */
enum { W_MATRIX, W_BIAS, W_NORM, W_EMBED };
static void add_tensor(builder *b, const char *name, uint64_t ne0, uint64_t ne1, int kind) {
    const tl_model_spec *s = b->spec;
    if (s->no_tensors || (s->skip_tensor && !strcmp(s->skip_tensor, name))) return;
    if (s->bad_shape && !strcmp(s->bad_shape, name)) ne0++;
    tensor *t = &b->t[b->n_t++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->n_dims = ne1 ? 2 : 1;
    t->ne[0] = ne0, t->ne[1] = ne1 ? ne1 : 1;
    const size_t n = (size_t)(ne0 * t->ne[1]);
    float *v = malloc(n * sizeof *v);
    const float scale = kind == W_MATRIX ? 1.0f / sqrtf((float)ne0) : kind == W_EMBED ? 1.0f : 0.1f;
    for (size_t i = 0; i < n; i++) v[i] = (kind == W_NORM ? 1.0f : 0.0f) + tl_uniform(&b->rng, -scale, scale) * 1.7f;
    const int two_d = ne1 != 0;
    t->type = two_d ? (uint32_t)s->weight_type : 0;
    if (two_d && s->weight_type == 0 && s->round_to == 1)
        for (size_t i = 0; i < n; i++) v[i] = tl_round_f16(v[i]);
    if (two_d && s->weight_type == 0 && s->round_to == 8) {
        uint8_t scratch[34];
        for (size_t i = 0; i + 32 <= n; i += 32) q8_0_block(v + i, scratch);
    }
    if (t->type == 0) {
        put(&t->data, v, n * 4);
    } else if (t->type == 1) {
        for (size_t i = 0; i < n; i++) {
            const uint16_t h = et__f32_to_f16(v[i]);
            put(&t->data, &h, 2);
        }
    } else { /* Q8_0 */
        uint8_t blk[34];
        for (size_t i = 0; i + 32 <= n; i += 32) {
            q8_0_block(v + i, blk);
            put(&t->data, blk, 34);
        }
    }
    free(v);
}

tl_model_spec tl_small_spec(void) {
    tl_model_spec s = {
        .n_layer = 2, .n_embd = 24, .n_head = 3, .n_ff = 40, .n_ctx = 32, .n_vocab = 50, .n_types = 2,
        .eps = 1e-5f, .task = ET_TASK_EMBEDDING, .n_labels = 0, .with_pooler = 1, .weight_type = 0,
        .round_to = 0, .alignment = 0, .version = 3, .seed = 42, .lowercase = -1, .strip_accents = -2,
        .threshold = -1, .layout = 2,
    };
    return s;
}

size_t tl_build_model(const tl_model_spec *s, uint8_t **out, tl_layout *layout) {
    builder b = {.spec = s, .rng = {s->seed * 0x9E3779B97F4A7C15ull + 1}};
    b.t = calloc((size_t)s->n_layer * 16 + 16, sizeof *b.t);
    const uint64_t H = (uint64_t)s->n_embd, F = (uint64_t)s->n_ff;
    const uint64_t A = s->n_head_dim ? (uint64_t)s->n_head * (uint64_t)s->n_head_dim : H; /* attention width */

    kv_str(&b, "general.architecture", "bert");
    kv_str(&b, "general.name", "testlib model");
    if (s->alignment) kv_u32(&b, "general.alignment", s->alignment);
    const int lay_v = s->layout == 1 ? 1 : 2; /* the file layout: tl_model_spec.layout */
    if (s->format_version >= 0) kv_u32(&b, "edgetag.format_version", (uint32_t)(s->format_version ? s->format_version : lay_v));
    kv_u32(&b, "bert.context_length", (uint32_t)s->n_ctx);
    kv_u32(&b, "bert.embedding_length", (uint32_t)s->n_embd);
    kv_u32(&b, "bert.feed_forward_length", (uint32_t)s->n_ff);
    kv_u32(&b, "bert.block_count", (uint32_t)s->n_layer);
    kv_u32(&b, "bert.attention.head_count", (uint32_t)s->n_head);
    if (s->n_head_dim) {
        kv_u32(&b, "bert.attention.key_length", (uint32_t)s->n_head_dim);
        kv_u32(&b, "bert.attention.value_length", (uint32_t)(s->value_length ? s->value_length : s->n_head_dim));
    }
    kv_f32(&b, "bert.attention.layer_norm_epsilon", s->eps);
    kv_bool(&b, "bert.attention.causal", 0);
    kv_str(&b, "tokenizer.ggml.model", "bert");
    char **vocab = calloc((size_t)s->n_vocab, sizeof *vocab);
    static const char *const specials[5] = {"[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]"};
    for (int i = 0; i < s->n_vocab; i++) {
        const char *w = i < 5 ? specials[i] : s->words ? s->words[i - 5] : NULL;
        vocab[i] = malloc(w ? strlen(w) + 4 : 24);
        if (!w) snprintf(vocab[i], 24, "%sw%d", lay_v == 2 ? "\xe2\x96\x81" : "", i);
        else if (lay_v == 1 || i < 5) strcpy(vocab[i], w);
        else if (w[0] == '#' && w[1] == '#' && w[2]) strcpy(vocab[i], w + 2); /* llama.cpp's spelling */
        else snprintf(vocab[i], strlen(w) + 4, "\xe2\x96\x81%s", w);
    }
    kv_strs(&b, "tokenizer.ggml.tokens", vocab, (size_t)s->n_vocab);
    for (int i = 0; i < s->n_vocab; i++) free(vocab[i]);
    free(vocab);
    if (!s->no_token_types && key_wanted(&b, "tokenizer.ggml.token_type")) {
        put_u32(&b.kv, 9), put_u32(&b.kv, 5), put_u64(&b.kv, (uint64_t)s->n_vocab);
        for (int i = 0; i < s->n_vocab; i++) put_u32(&b.kv, i == 3 ? 2u : i < 5 ? 3u : 1u);
    }
    if (lay_v == 1) {
        if (s->lowercase >= 0) kv_bool(&b, "edgetag.tokenizer.do_lower_case", s->lowercase);
        if (s->strip_accents >= -1 && key_wanted(&b, "edgetag.tokenizer.strip_accents"))
            put_u32(&b.kv, 5), put_u32(&b.kv, (uint32_t)s->strip_accents);
    } else {
        if (s->lowercase >= 0) kv_bool(&b, "tokenizer.ggml.normalizer.lowercase", s->lowercase);
        if (s->strip_accents >= 0) kv_bool(&b, "tokenizer.ggml.normalizer.strip_accents", s->strip_accents);
    }
    if (s->max_chars) kv_u32(&b, "edgetag.tokenizer.max_input_chars_per_word", (uint32_t)s->max_chars);
    if (s->bool_key) kv_bool(&b, s->bool_key, s->bool_value);
    if (s->str_key) kv_str(&b, s->str_key, "x");
    if (s->temperature > 0) kv_f32(&b, "edgetag.calibration.temperature", s->temperature);
    if (s->threshold >= 0) kv_f32(&b, "edgetag.escalation.threshold", s->threshold);
    if (s->aggregation) kv_str(&b, "edgetag.tagging.aggregation", s->aggregation);
    if (s->abstain_label) kv_str(&b, "edgetag.escalation.abstain_label", s->abstain_label);
    kv_u32(&b, "tokenizer.ggml.token_type_count", (uint32_t)s->n_types);
    kv_u32(&b, "tokenizer.ggml.padding_token_id", 0);
    if (lay_v == 2) kv_u32(&b, "tokenizer.ggml.bos_token_id", 1);
    kv_u32(&b, "tokenizer.ggml.cls_token_id", 1);
    kv_u32(&b, "tokenizer.ggml.seperator_token_id", 2);
    kv_u32(&b, "tokenizer.ggml.unknown_token_id", 3);
    kv_u32(&b, "tokenizer.ggml.mask_token_id", 4);
    static const char *const tasks[3] = {"embedding", "sequence_classification", "token_classification"};
    kv_str(&b, "edgetag.task", tasks[s->task]);
    if (s->task != ET_TASK_EMBEDDING) {
        const int n = s->n_labels + s->label_names_delta;
        char **labels = calloc((size_t)n, sizeof *labels);
        for (int i = 0; i < n; i++) {
            labels[i] = malloc(32);
            if (s->label_names && i < s->n_labels) snprintf(labels[i], 32, "%s", s->label_names[i]);
            else snprintf(labels[i], 32, "label_%d", i);
        }
        kv_strs(&b, lay_v == 2 ? "bert.classifier.output_labels" : "edgetag.labels", labels, (size_t)n);
        for (int i = 0; i < n; i++) free(labels[i]);
        free(labels);
    }

    add_tensor(&b, "token_embd.weight", H, (uint64_t)s->n_vocab, W_EMBED);
    add_tensor(&b, "position_embd.weight", H, (uint64_t)s->n_ctx, W_EMBED);
    add_tensor(&b, "token_types.weight", H, (uint64_t)s->n_types, W_EMBED);
    add_tensor(&b, "token_embd_norm.weight", H, 0, W_NORM);
    add_tensor(&b, "token_embd_norm.bias", H, 0, W_BIAS);
    for (int l = 0; l < s->n_layer; l++) {
        static const char *const sq[4] = {"attn_q", "attn_k", "attn_v", "attn_output"};
        char name[48];
        for (int i = 0; i < 4; i++) {
            snprintf(name, sizeof name, "blk.%d.%s.weight", l, sq[i]);
            add_tensor(&b, name, i < 3 ? H : A, i < 3 ? A : H, W_MATRIX);
            snprintf(name, sizeof name, "blk.%d.%s.bias", l, sq[i]);
            add_tensor(&b, name, i < 3 ? A : H, 0, W_BIAS);
        }
        snprintf(name, sizeof name, "blk.%d.attn_output_norm.weight", l), add_tensor(&b, name, H, 0, W_NORM);
        snprintf(name, sizeof name, "blk.%d.attn_output_norm.bias", l), add_tensor(&b, name, H, 0, W_BIAS);
        snprintf(name, sizeof name, "blk.%d.ffn_up.weight", l), add_tensor(&b, name, H, F, W_MATRIX);
        snprintf(name, sizeof name, "blk.%d.ffn_up.bias", l), add_tensor(&b, name, F, 0, W_BIAS);
        snprintf(name, sizeof name, "blk.%d.ffn_down.weight", l), add_tensor(&b, name, F, H, W_MATRIX);
        snprintf(name, sizeof name, "blk.%d.ffn_down.bias", l), add_tensor(&b, name, H, 0, W_BIAS);
        snprintf(name, sizeof name, "blk.%d.layer_output_norm.weight", l), add_tensor(&b, name, H, 0, W_NORM);
        snprintf(name, sizeof name, "blk.%d.layer_output_norm.bias", l), add_tensor(&b, name, H, 0, W_BIAS);
    }
    if (s->with_pooler) {
        add_tensor(&b, "cls.weight", H, H, W_MATRIX);
        add_tensor(&b, "cls.bias", H, 0, W_BIAS);
    }
    if (s->task != ET_TASK_EMBEDDING) {
        add_tensor(&b, "cls.output.weight", H, (uint64_t)s->n_labels, W_MATRIX);
        add_tensor(&b, "cls.output.bias", (uint64_t)s->n_labels, 0, W_BIAS);
    }
    if (s->extra_tensor) add_tensor(&b, s->extra_tensor, 1, 0, W_NORM);

    const uint64_t align = s->alignment ? s->alignment : 32;
    buf f = {0};
    put_u32(&f, 0x46554747u);
    put_u32(&f, s->version ? s->version : 3);
    put_u64(&f, b.n_t);
    put_u64(&f, b.n_kv);
    tl_layout lay = {.kv_start = f.n, .n_tensors = b.n_t, .n_kv = b.n_kv};
    put(&f, b.kv.p, b.kv.n);
    lay.tensor_info_start = f.n;
    uint64_t offset = 0;
    for (size_t i = 0; i < b.n_t; i++) {
        tensor *t = &b.t[i];
        put_str(&f, t->name);
        if (i == 0) lay.first_ndims_field = f.n;
        put_u32(&f, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims; d++) put_u64(&f, t->ne[d]);
        if (i == 0) lay.first_type_field = f.n;
        put_u32(&f, t->type);
        if (i == 0) lay.first_offset_field = f.n;
        put_u64(&f, offset);
        offset += (t->data.n + align - 1) / align * align;
    }
    static const uint8_t zeros[64];
    while (f.n % align) put(&f, zeros, 1);
    lay.data_start = f.n;
    for (size_t i = 0; i < b.n_t; i++) {
        put(&f, b.t[i].data.p, b.t[i].data.n);
        while ((f.n - lay.data_start) % align) put(&f, zeros, 1);
        free(b.t[i].data.p);
    }
    free(b.t);
    free(b.kv.p);

    /* Hand back a 64-byte aligned copy: the loader wants 16. */
    uint8_t *aligned = aligned_alloc(64, (f.n + 63) / 64 * 64);
    memcpy(aligned, f.p, f.n);
    free(f.p);
    *out = aligned;
    if (layout) *layout = lay;
    return f.n;
}

uint8_t *tl_read_file(const char *path, size_t *size) {
    FILE *fp = fopen(path, "rb");
    if (!fp) return NULL;
    fseek(fp, 0, SEEK_END);
    const long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *p = aligned_alloc(64, ((size_t)n + 63) / 64 * 64 + 64);
    if (p && fread(p, 1, (size_t)n, fp) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(fp);
    *size = (size_t)n;
    return p;
}
