/*
 * quantize.c — rewrites a model file with int8 weights (native builds; `edgetag quantize`).
 *
 *   ET_QUANT_I8:   every Linear weight of the encoder layers and the word-embedding table become GGUF I8
 *                  tensors, symmetric per output row (scale = max|row| / 127, levels −127…127), each
 *                  followed by its F32 scales "edgetag.row_scale.X.weight" [rows] (ET_ROW_SCALE_PREFIX).
 *                  The engine runs them on its int8 GEMMs; llama.cpp does not read these files.
 *   ET_QUANT_Q8_0: the same tensors in llama.cpp's Q8_0 blocks (for other readers; the engine converts
 *                  them back to F32 at load). Rows not a multiple of 32 stay as they are.
 *   ET_QUANT_Q4_0: the same tensors in llama.cpp's Q4_0 blocks, rounded as its reference quantizer
 *                  rounds them (d = the block's value of largest magnitude / −8, levels 0..15 for
 *                  d·(q − 8)); the engine runs them on its 4-bit kernels. A tensor whose rows are not a
 *                  multiple of 32 becomes I8 as above. Without such a tensor llama.cpp reads the file.
 * Everything else — keys, other tensors (biases, LayerNorms, position and segment embeddings, pooler,
 * classifier) — is copied unchanged, in order. The input is validated by loading it as a model first.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "internal.h"
#include "model.h"

#define ALIGN 32u

typedef struct obuf {
    uint8_t *p;
    size_t n, cap;
    int failed;
} obuf;

static void put(obuf *b, const void *data, size_t n) {
    if (b->failed) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->n + n) cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p, b->cap = cap;
    }
    memcpy(b->p + b->n, data, n);
    b->n += n;
}
static void put_u32(obuf *b, uint32_t v) { put(b, &v, 4); }
static void put_u64(obuf *b, uint64_t v) { put(b, &v, 8); }
static void put_str(obuf *b, const char *s, uint64_t n) {
    put_u64(b, n);
    put(b, s, (size_t)n);
}
static void pad(obuf *b, size_t from) {
    static const uint8_t zeros[ALIGN];
    while ((b->n - from) % ALIGN) put(b, zeros, 1);
}

/* Is this tensor one the quantizer rewrites: a Linear weight of a layer, or the word embeddings — and for
 * Q4_0 the pooler's dense weight too (the engine converts it to F32 at load: only the file shrinks)? */
static int quantizable(const gguf_tensor *t, int32_t type) {
    static const char *const suffixes[] = {".attn_q.weight", ".attn_k.weight", ".attn_v.weight", ".attn_output.weight",
                                           ".ffn_up.weight", ".ffn_down.weight"};
    if (t->n_dims != 2) return 0;
    if (gguf_str_eq(t->name, "token_embd.weight")) return 1;
    if (type == ET_QUANT_Q4_0 && gguf_str_eq(t->name, "cls.weight")) return t->ne[0] % 32 == 0;
    if (t->name.len < 4 || memcmp(t->name.ptr, "blk.", 4) != 0) return 0;
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        const size_t n = strlen(suffixes[i]);
        if (t->name.len > n && memcmp(t->name.ptr + t->name.len - n, suffixes[i], n) == 0) return 1;
    }
    return 0;
}

/* One output tensor: its info and where its bytes are. */
typedef struct otensor {
    gguf_str name;
    char owned_name[80]; /* for the scale tensors we add */
    uint32_t n_dims, type;
    int64_t ne[2];
    const uint8_t *data; /* copied unchanged, or NULL when `made` holds the bytes */
    uint8_t *made;
    uint64_t n_bytes;
} otensor;

/* Q4_0: blocks of { f16 d; nibbles[16] }, low nibbles first; d = the block's largest-magnitude value / -8. */
static void quantize_q4_0(const float *x, int64_t n, uint8_t *out) {
    for (int64_t b = 0; b < n / 32; b++) {
        const float *v = x + 32 * b;
        float amax = 0.0f, max = 0.0f;
        for (int i = 0; i < 32; i++)
            if (amax < fabsf(v[i])) amax = fabsf(v[i]), max = v[i];
        const float d = max / -8.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        const uint16_t dh = et__f32_to_f16(d);
        uint8_t *blk = out + 18 * b;
        memcpy(blk, &dh, 2);
        for (int i = 0; i < 16; i++) {
            const float lo = v[i] * id + 8.5f, hi = v[i + 16] * id + 8.5f; /* in [0.5, 16.5]: truncate, cap */
            const int q0 = lo >= 15.0f ? 15 : (int)lo, q1 = hi >= 15.0f ? 15 : (int)hi;
            blk[2 + i] = (uint8_t)(q0 | q1 << 4);
        }
    }
}

/* Q8_0: blocks of { f16 d; int8[32] } as llama.cpp makes them; d = the block's largest magnitude / 127. */
static void quantize_q8_0(const float *x, int64_t n, uint8_t *out) {
    for (int64_t b = 0; b < n / 32; b++) {
        const float *v = x + 32 * b;
        float amax = 0.0f;
        for (int i = 0; i < 32; i++) amax = fabsf(v[i]) > amax ? fabsf(v[i]) : amax;
        const float d = amax / 127.0f, id = d > 0 ? 1.0f / d : 0.0f;
        const uint16_t dh = et__f32_to_f16(d);
        uint8_t *blk = out + 34 * b;
        memcpy(blk, &dh, 2);
        for (int i = 0; i < 32; i++) blk[2 + i] = (uint8_t)(int8_t)roundf(v[i] * id);
    }
}

/* I8: one f32 scale per row (its largest magnitude / 127) into `scales`, the row's int8 values into `out`. */
static void quantize_i8_rows(const float *x, int64_t rows, int64_t cols, uint8_t *out, uint8_t *scales) {
    for (int64_t r = 0; r < rows; r++) {
        const float *row = x + r * cols;
        float amax = 0.0f;
        for (int64_t c = 0; c < cols; c++) amax = fabsf(row[c]) > amax ? fabsf(row[c]) : amax;
        const float scale = amax / 127.0f, inv = scale > 0 ? 1.0f / scale : 0.0f;
        for (int64_t c = 0; c < cols; c++) {
            const float q = nearbyintf(row[c] * inv);
            out[r * cols + c] = (uint8_t)(int8_t)(q > 127 ? 127 : q < -127 ? -127 : q);
        }
        memcpy(scales + 4 * r, &scale, 4);
    }
}

/* Quantizes one tensor into `o` (and its scales into `s` for I8). */
static et_status quantize_tensor(const gguf_tensor *t, int32_t type, otensor *o, otensor *s, et_error *err) {
    const int64_t cols = t->ne[0], rows = t->ne[1], n = cols * rows;
    o->name = t->name, o->n_dims = 2, o->ne[0] = cols, o->ne[1] = rows;
    o->type = type == ET_QUANT_Q4_0 ? GGUF_TYPE_Q4_0 : type == ET_QUANT_I8 ? GGUF_TYPE_I8 : GGUF_TYPE_Q8_0;
    o->n_bytes = (uint64_t)(type == ET_QUANT_Q4_0 ? n / 32 * 18 : type == ET_QUANT_I8 ? n : n / 32 * 34);
    float *x = malloc((size_t)n * sizeof *x);
    o->made = malloc((size_t)o->n_bytes);
    if (type == ET_QUANT_I8) s->made = malloc((size_t)rows * 4);
    if (!x || !o->made || (type == ET_QUANT_I8 && !s->made)) {
        free(x); /* o->made and s->made are the caller's to free, as on every other failure */
        return et__fail(err, ET_ERR_OUT_OF_MEMORY, "quantize: no memory for tensor %.*s", (int)t->name.len, t->name.ptr);
    }
    et__tensor_to_f32(t, x);
    if (type == ET_QUANT_Q4_0) quantize_q4_0(x, n, o->made);
    else if (type == ET_QUANT_Q8_0) quantize_q8_0(x, n, o->made);
    else {
        et__format(s->owned_name, sizeof s->owned_name, "%s%.*s", ET_ROW_SCALE_PREFIX, (int)t->name.len, t->name.ptr);
        s->name.ptr = s->owned_name, s->name.len = strlen(s->owned_name);
        s->n_dims = 1, s->ne[0] = rows, s->ne[1] = 1, s->type = GGUF_TYPE_F32, s->n_bytes = (uint64_t)rows * 4;
        quantize_i8_rows(x, rows, cols, o->made, s->made);
    }
    free(x);
    return ET_OK;
}

/* Keys the output writes anew: the weights' type and the alignment of its own layout. */
static int replaced_key(gguf_str key) {
    return gguf_str_eq(key, "general.file_type") || gguf_str_eq(key, "edgetag.quantization") ||
           gguf_str_eq(key, "general.alignment");
}

/* Writes one key-value exactly as it was parsed. */
static void put_kv(obuf *b, const gguf_kv *kv) {
    put_str(b, kv->key.ptr, kv->key.len);
    put_u32(b, kv->type);
    switch (kv->type) {
    case GGUF_STRING: put_str(b, kv->v.s.ptr, kv->v.s.len); break;
    case GGUF_ARRAY:
        put_u32(b, kv->v.a.type);
        put_u64(b, kv->v.a.n);
        put(b, kv->v.a.data, (size_t)kv->v.a.n_bytes);
        break;
    case GGUF_F32: { const float v = (float)kv->v.f; put(b, &v, 4); break; }
    case GGUF_F64: put(b, &kv->v.f, 8); break;
    case GGUF_I8: case GGUF_I16: case GGUF_I32: case GGUF_I64: put(b, &kv->v.i, gguf_value_size(kv->type)); break;
    default: put(b, &kv->v.u, gguf_value_size(kv->type)); break; /* unsigned and bool, little-endian */
    }
}

et_status et_quantize(const void *data, size_t size, int32_t type, void **out, size_t *out_size, et_error *error) {
    if (!out || !out_size) return et__fail(error, ET_ERR_INVALID_ARGUMENT, "et_quantize: out is NULL");
    *out = NULL, *out_size = 0;
    if (type != ET_QUANT_I8 && type != ET_QUANT_Q8_0 && type != ET_QUANT_Q4_0)
        return et__fail(error, ET_ERR_INVALID_ARGUMENT, "et_quantize: unknown type %d", type);
    /* Validate by loading a borrowed aligned copy (not one the model owns: it would repack the weights
     * we are about to read). */
    void *copy = aligned_alloc(16, size > 0 ? (size + 15) & ~(size_t)15 : 16);
    if (!copy) return et__fail(error, ET_ERR_OUT_OF_MEMORY, "et_quantize: no memory to copy %zu bytes", size);
    memcpy(copy, data, size);
    et_model *m = NULL;
    et_status s = et_model_load_from_buffer(copy, size, NULL, &m, error);
    if (s) {
        free(copy);
        return s;
    }
    if (m->info.int8_matrices || m->info.q4_matrices) {
        et_model_free(m);
        free(copy);
        return et__fail(error, ET_ERR_UNSUPPORTED, "et_quantize: the model is quantized already");
    }
    const gguf_file *f = &m->gguf;
    otensor *ts = calloc((size_t)f->n_tensors * 2 + 1, sizeof *ts);
    obuf b = {0};
    size_t nt = 0, int8_fallbacks = 0;
    if (!ts) {
        et_model_free(m);
        free(copy);
        return et__fail(error, ET_ERR_OUT_OF_MEMORY, "et_quantize: no memory");
    }
    for (uint64_t i = 0; i < f->n_tensors && !s; i++) {
        const gguf_tensor *t = &f->tensors[i];
        const int q = quantizable(t, type) && (type != ET_QUANT_Q8_0 || t->ne[0] % 32 == 0);
        /* Q4_0 needs whole blocks too: other rows go int8. */
        const int32_t as = type == ET_QUANT_Q4_0 && t->ne[0] % 32 ? ET_QUANT_I8 : type;
        if (q) {
            s = quantize_tensor(t, as, &ts[nt], &ts[nt + 1], error);
            nt += as == ET_QUANT_I8 ? 2 : 1;
            int8_fallbacks += as == ET_QUANT_I8 && type == ET_QUANT_Q4_0;
        } else {
            otensor *o = &ts[nt++];
            o->name = t->name, o->n_dims = t->n_dims, o->ne[0] = t->ne[0], o->ne[1] = t->ne[1];
            o->type = t->type, o->data = t->data, o->n_bytes = t->n_bytes;
        }
    }
    if (!s) {
        /* Keys: all but the ones describing the weights' type, then ours. */
        uint64_t n_kv = 0;
        for (uint64_t i = 0; i < f->n_kv; i++) n_kv += !replaced_key(f->kv[i].key);
        /* llama.cpp's general.file_type: LLAMA_FTYPE_MOSTLY_Q8_0 7, MOSTLY_Q4_0 2 (not with I8 tensors). */
        const uint32_t ftype = type == ET_QUANT_Q8_0 ? 7 : type == ET_QUANT_Q4_0 && !int8_fallbacks ? 2 : 0;
        n_kv += 2 + (ftype != 0);
        put_u32(&b, 0x46554747u);
        put_u32(&b, 3);
        put_u64(&b, nt);
        put_u64(&b, n_kv);
        for (uint64_t i = 0; i < f->n_kv; i++)
            if (!replaced_key(f->kv[i].key)) put_kv(&b, &f->kv[i]);
        put_str(&b, "general.alignment", strlen("general.alignment"));
        put_u32(&b, GGUF_U32);
        put_u32(&b, ALIGN);
        const char *qname = type == ET_QUANT_I8 ? "i8" : type == ET_QUANT_Q8_0 ? "q8_0" : "q4_0";
        put_str(&b, "edgetag.quantization", strlen("edgetag.quantization"));
        put_u32(&b, GGUF_STRING);
        put_str(&b, qname, strlen(qname));
        if (ftype) {
            put_str(&b, "general.file_type", strlen("general.file_type"));
            put_u32(&b, GGUF_U32);
            put_u32(&b, ftype);
        }
        uint64_t offset = 0;
        for (size_t i = 0; i < nt; i++) {
            put_str(&b, ts[i].name.ptr, ts[i].name.len);
            put_u32(&b, ts[i].n_dims);
            for (uint32_t d = 0; d < ts[i].n_dims; d++) put_u64(&b, (uint64_t)ts[i].ne[d]);
            put_u32(&b, ts[i].type);
            put_u64(&b, offset);
            offset += (ts[i].n_bytes + ALIGN - 1) / ALIGN * ALIGN;
        }
        pad(&b, 0);
        const size_t data_start = b.n;
        for (size_t i = 0; i < nt; i++) {
            put(&b, ts[i].data ? (const void *)ts[i].data : (const void *)ts[i].made, (size_t)ts[i].n_bytes);
            if (i + 1 < nt) pad(&b, data_start);
        }
        if (b.failed) s = et__fail(error, ET_ERR_OUT_OF_MEMORY, "et_quantize: no memory for the output");
    }
    for (size_t i = 0; i < nt; i++) free(ts[i].made);
    free(ts);
    et_model_free(m);
    free(copy);
    if (s) {
        free(b.p);
        return s;
    }
    *out = b.p, *out_size = b.n;
    return ET_OK;
}
