/*
 * model_tensors.c — the model's tensors: each one the encoder reads is checked against the shape the
 * hyper-parameters imply, then converted or used in place, bound to its place in et_model, and the
 * layers' matrices repacked into the layouts of the fastest GEMMs.
 *
 * Driven by a table (one entry per tensor: its name, expected shape, and the pointer to fill), in three
 * passes: check every entry and size what must be copied; allocate; bind. Nothing is read from a tensor
 * until every entry has been checked.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "kernels/kernels.h"
#include "model.h"

/* ---- the table ------------------------------------------------------------------------------------ */

/* One tensor the encoder uses: its expected shape, where to put its F32 pointer. */
typedef struct binding {
    char name[48];
    int64_t ne0, ne1; /* ne1 = 0: one-dimensional */
    int required;
    const float **dst;
    et_linear *lin;       /* for a matrix that may be int8 (with its scales), else NULL */
    const gguf_tensor *t; /* found in the file, or NULL */
    const gguf_tensor *scale; /* the int8 matrix's scales */
} binding;

/* The tensors of one encoder layer: name suffix, dimensions ('H' hidden, 'A' attention width = heads × head
 * size, H unless heads were pruned, 'F' FFN, 0 none), the float
 * pointer to fill, and for a matrix its et_linear (int8 allowed). */
#define LIN(f) offsetof(et_layer, f)
static const struct {
    const char *suffix;
    char ne0, ne1;
    size_t field;
    ptrdiff_t linear; /* offset of the et_linear, or -1 */
} layer_tensors[16] = {
    {"attn_q.weight", 'H', 'A', LIN(q.w), LIN(q)},       {"attn_q.bias", 'A', 0, LIN(q.b), -1},
    {"attn_k.weight", 'H', 'A', LIN(k.w), LIN(k)},       {"attn_k.bias", 'A', 0, LIN(k.b), -1},
    {"attn_v.weight", 'H', 'A', LIN(v.w), LIN(v)},       {"attn_v.bias", 'A', 0, LIN(v.b), -1},
    {"attn_output.weight", 'A', 'H', LIN(o.w), LIN(o)},  {"attn_output.bias", 'H', 0, LIN(o.b), -1},
    {"attn_output_norm.weight", 'H', 0, LIN(ln1_w), -1}, {"attn_output_norm.bias", 'H', 0, LIN(ln1_b), -1},
    {"ffn_up.weight", 'H', 'F', LIN(up.w), LIN(up)},     {"ffn_up.bias", 'F', 0, LIN(up.b), -1},
    {"ffn_down.weight", 'F', 'H', LIN(down.w), LIN(down)}, {"ffn_down.bias", 'H', 0, LIN(down.b), -1},
    {"layer_output_norm.weight", 'H', 0, LIN(ln2_w), -1}, {"layer_output_norm.bias", 'H', 0, LIN(ln2_b), -1},
};
#undef LIN

/* The table under construction: `n` entries so far, in the encoder's order. */
typedef struct table {
    binding *b;
    int n;
} table;

/* Adds an expected tensor: required or not, the F32 pointer it fills, its shape (e1 = 0: one-dimensional). */
#if defined(__GNUC__)
__attribute__((format(printf, 6, 7)))
#endif
static binding *expect(table *tb, int required, const float **dst, int64_t e0, int64_t e1, const char *fmt, ...) {
    binding *b = &tb->b[tb->n++];
    va_list ap;
    va_start(ap, fmt);
    et__vformat(b->name, sizeof b->name, fmt, ap);
    va_end(ap);
    b->ne0 = e0, b->ne1 = e1, b->required = required;
    b->dst = dst, b->lin = NULL, b->t = NULL, b->scale = NULL;
    return b;
}

/* Word, position and segment embeddings and their LayerNorm. The word embeddings may be int8. */
static void expect_embeddings(table *tb, et_model *m, const et_hparams *hp) {
    const int64_t H = hp->n_embd;
    expect(tb, 1, &m->tok_embd.w, H, hp->n_vocab, "token_embd.weight")->lin = &m->tok_embd;
    expect(tb, 1, &m->pos_embd, H, hp->n_ctx, "position_embd.weight");
    expect(tb, 1, &m->type_embd, H, hp->n_types, "token_types.weight");
    expect(tb, 1, &m->embd_ln_w, H, 0, "token_embd_norm.weight");
    expect(tb, 1, &m->embd_ln_b, H, 0, "token_embd_norm.bias");
}

/* The 16 tensors of encoder layer l (layer_tensors). */
static int64_t dim(char c, const et_hparams *hp) {
    return c == 'H' ? hp->n_embd : c == 'F' ? hp->n_ff : c == 'A' ? hp->n_head * hp->n_head_dim : 0;
}

static void expect_layer(table *tb, et_model *m, const et_hparams *hp, int64_t l) {
    char *layer = (char *)&m->layers[l];
    for (int i = 0; i < 16; i++) {
        const float **field = (const float **)(void *)(layer + layer_tensors[i].field);
        binding *b = expect(tb, 1, field, dim(layer_tensors[i].ne0, hp), dim(layer_tensors[i].ne1, hp), "blk.%lld.%s",
                            (long long)l, layer_tensors[i].suffix);
        if (layer_tensors[i].linear >= 0) b->lin = (et_linear *)(void *)(layer + layer_tensors[i].linear);
    }
}

/* The pooler (`cls`; required by a sequence classifier, optional for embeddings) and the classifier. */
static void expect_head(table *tb, et_model *m, const et_hparams *hp) {
    const int64_t H = hp->n_embd;
    const int task = m->info.task, pool_required = task == ET_TASK_SEQUENCE_CLASSIFICATION;
    expect(tb, pool_required, &m->pool_w, H, H, "cls.weight");
    expect(tb, pool_required, &m->pool_b, H, 0, "cls.bias");
    if (task != ET_TASK_EMBEDDING) {
        expect(tb, 1, &m->head_w, H, hp->n_labels, "cls.output.weight");
        expect(tb, 1, &m->head_b, hp->n_labels, 0, "cls.output.bias");
    }
}

/* ---- conversion ------------------------------------------------------------------------------------ */

/* F16, BF16 and Q8_0 tensors become F32 copies, and so do F32 tensors at offsets not 4-byte aligned. */
static int needs_conversion(const gguf_tensor *t) {
    return t->type != GGUF_TYPE_F32 || ((uintptr_t)t->data & 3u) != 0;
}

void et__tensor_to_f32(const gguf_tensor *t, float *dst) {
    const uint64_t n = (uint64_t)t->ne[0] * (uint64_t)t->ne[1] * (uint64_t)t->ne[2] * (uint64_t)t->ne[3];
    const uint8_t *p = t->data;
    switch (t->type) {
    case GGUF_TYPE_F32:
        memcpy(dst, p, (size_t)n * 4);
        break;
    case GGUF_TYPE_F16:
        for (uint64_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, p + 2 * i, 2);
            dst[i] = et__f16_to_f32(h);
        }
        break;
    case GGUF_TYPE_BF16:
        for (uint64_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, p + 2 * i, 2);
            const uint32_t bits = (uint32_t)h << 16;
            memcpy(&dst[i], &bits, 4);
        }
        break;
    case GGUF_TYPE_Q4_0: /* blocks of { f16 scale; u8 nibbles[16] }: llama.cpp's definition */
        for (uint64_t r = 0; r < n / (uint64_t)t->ne[0]; r++)
            et_q4_dequantize_row((int)t->ne[0], p + r * (uint64_t)t->ne[0] / 32 * 18, dst + r * (uint64_t)t->ne[0]);
        break;
    case GGUF_TYPE_Q8_0: /* blocks of { f16 scale; i8 q[32] } */
        for (uint64_t b = 0; b < n / 32; b++) {
            const uint8_t *blk = p + 34 * b;
            uint16_t h;
            memcpy(&h, blk, 2);
            const float d = et__f16_to_f32(h);
            for (int i = 0; i < 32; i++) dst[32 * b + i] = d * (float)(int8_t)blk[2 + i];
        }
        break;
    default:
        ET_ASSERT(0);
    }
}

/* ---- check, allocate, bind ------------------------------------------------------------------------- */

/* The tensor of an entry exists (unless optional) with the expected shape and a type the engine reads;
 * an I8 matrix has its F32 scales. */
static et_status check_binding(const gguf_file *f, binding *b, et_error *err) {
    b->t = gguf_find_tensor(f, b->name);
    if (!b->t) return b->required ? et__fail(err, ET_ERR_MISSING, "model: tensor '%s' is missing", b->name) : ET_OK;
    const gguf_tensor *t = b->t;
    const uint32_t want_dims = b->ne1 ? 2 : 1;
    if (t->n_dims != want_dims || t->ne[0] != b->ne0 || (b->ne1 && t->ne[1] != b->ne1)) {
        char got[64];
        if (t->n_dims == 1) et__format(got, sizeof got, "[%lld]", (long long)t->ne[0]);
        else et__format(got, sizeof got, "[%lld, %lld%s]", (long long)t->ne[0], (long long)t->ne[1], t->n_dims > 2 ? ", …" : "");
        if (b->ne1)
            return et__fail(err, ET_ERR_SHAPE, "model: tensor '%s' has shape %s, expected [%lld, %lld]", b->name, got,
                            (long long)b->ne0, (long long)b->ne1);
        return et__fail(err, ET_ERR_SHAPE, "model: tensor '%s' has shape %s, expected [%lld]", b->name, got, (long long)b->ne0);
    }
    switch (t->type) {
    case GGUF_TYPE_F32: case GGUF_TYPE_F16: case GGUF_TYPE_BF16: case GGUF_TYPE_Q8_0: return ET_OK;
    case GGUF_TYPE_Q4_0: { /* the 4-bit path for a matrix (converted to F32 elsewhere): finite scales only */
        for (uint64_t blk = 0; blk < t->n_bytes / 18; blk++) {
            const uint8_t *h = t->data + 18 * blk;
            if ((h[1] & 0x7c) == 0x7c)
                return et__fail(err, ET_ERR_CORRUPT, "model: tensor '%s' has an infinite or NaN scale in Q4_0 block %llu",
                                b->name, (unsigned long long)blk);
        }
        return ET_OK;
    }
    case GGUF_TYPE_I8: {
        if (!b->lin)
            return et__fail(err, ET_ERR_UNSUPPORTED, "model: tensor '%s' is I8; only Linear weights and token_embd may be",
                            b->name);
        /* Its per-row scales: "edgetag.row_scale.X.weight", F32 [rows] (format 1 named them "X.scale",
         * which llama.cpp reads as a per-tensor scale of shape [1]: that name is still read here). */
        char scale_name[80], legacy[64];
        et__format(scale_name, sizeof scale_name, "%s%s", ET_ROW_SCALE_PREFIX, b->name);
        et__format(legacy, sizeof legacy, "%.*s.scale", (int)(strlen(b->name) - strlen(".weight")), b->name);
        b->scale = gguf_find_tensor(f, scale_name);
        if (!b->scale) b->scale = gguf_find_tensor(f, legacy);
        if (!b->scale)
            return et__fail(err, ET_ERR_MISSING, "model: tensor '%s' is I8 but its scales '%s' are missing", b->name, scale_name);
        if (b->scale->n_dims != 1 || b->scale->ne[0] != b->ne1 || b->scale->type != GGUF_TYPE_F32)
            return et__fail(err, ET_ERR_SHAPE, "model: tensor '%.*s' must be F32 [%lld], one scale per row of '%s'",
                            (int)b->scale->name.len, b->scale->name.ptr, (long long)b->ne1, b->name);
        return ET_OK;
    }
    default:
        return et__fail(err, ET_ERR_UNSUPPORTED, "model: tensor '%s' has type %s; this engine reads F32, F16, BF16, Q4_0, "
                        "Q8_0 and I8 (with scales)", b->name, gguf_type_name(t->type));
    }
}

/* What the checked tensors need: F32 copies (of F16/BF16/Q8_0 tensors and of F32 ones at unaligned
 * offsets), int8 row sums, and the bytes of weights the engine reads. */
typedef struct sizes {
    uint64_t convert_floats, row_sums, zero_sums, weight_bytes;
} sizes;

/* A Q4_0 matrix the 4-bit kernels run (any other Q4_0 tensor is converted to F32). */
static int on_q4_path(const binding *b) { return b->t && b->t->type == GGUF_TYPE_Q4_0 && b->lin; }

static et_status check_all(const gguf_file *f, table *tb, sizes *z, et_error *err) {
    *z = (sizes){0, 0, 0, 0};
    for (int i = 0; i < tb->n; i++) {
        binding *b = &tb->b[i];
        const et_status s = check_binding(f, b, err);
        if (s) return s;
        const gguf_tensor *t = b->t;
        if (!t) continue;
        const uint64_t count = (uint64_t)t->ne[0] * (uint64_t)t->ne[1];
        if (t->type == GGUF_TYPE_I8) {
            z->weight_bytes += count + (uint64_t)t->ne[1] * 4;
            z->row_sums += (uint64_t)t->ne[1];
            if (needs_conversion(b->scale)) z->convert_floats += (uint64_t)t->ne[1];
        } else if (on_q4_path(b)) {
            z->weight_bytes += t->n_bytes;
            z->zero_sums += (uint64_t)t->ne[1];
        } else {
            z->weight_bytes += count * 4;
            if (needs_conversion(t)) z->convert_floats += count;
        }
    }
    return ET_OK;
}

/* Every tensor of the file must be one the engine reads: the table's, their int8 scales, and a
 * classifier an embedding model does not run (a llama.cpp classifier or reranker loaded for its
 * embeddings). Anything else would change what the file computes elsewhere and be ignored here, so it
 * is refused: llama.cpp's per-tensor scales "X.scale" above all. */
static et_status check_known(const gguf_file *f, const table *tb, int task, et_error *err) {
    if (!f->n_tensors) return ET_OK;
    uint8_t *used = calloc((size_t)f->n_tensors, 1);
    if (!used) return et__fail(err, ET_ERR_OUT_OF_MEMORY, "model: no memory for %llu tensor flags",
                               (unsigned long long)f->n_tensors);
    for (int i = 0; i < tb->n; i++) {
        if (tb->b[i].t) used[tb->b[i].t - f->tensors] = 1;
        if (tb->b[i].scale) used[tb->b[i].scale - f->tensors] = 1;
    }
    et_status s = ET_OK;
    for (uint64_t i = 0; i < f->n_tensors && !s; i++) {
        const gguf_str n = f->tensors[i].name;
        if (used[i] || (task == ET_TASK_EMBEDDING && (gguf_str_eq(n, "cls.output.weight") || gguf_str_eq(n, "cls.output.bias"))))
            continue;
        const int scale = (n.len > 6 && memcmp(n.ptr + n.len - 6, ".scale", 6) == 0) ||
                          (n.len > 12 && memcmp(n.ptr + n.len - 12, ".input_scale", 12) == 0);
        s = et__fail(err, ET_ERR_UNSUPPORTED, "model: tensor '%.*s' is not one this engine reads%s", (int)(n.len > 64 ? 64 : n.len),
                     n.ptr, scale ? " (llama.cpp's per-tensor scale of a weight: not applied here, so the file is refused)"
                                  : " (models/FORMAT.md lists them)");
    }
    free(used);
    return s;
}

static et_status allocate_copies(et_model *m, const sizes *z, et_error *err) {
    if ((z->convert_floats &&
         (z->convert_floats > SIZE_MAX / 4 || !(m->converted = malloc((size_t)z->convert_floats * 4)))) ||
        (z->row_sums && (z->row_sums > SIZE_MAX / 4 || !(m->wsums = malloc((size_t)z->row_sums * 4)))) ||
        (z->zero_sums && (z->zero_sums > SIZE_MAX / 4 || !(m->zsums = malloc((size_t)z->zero_sums * 4)))))
        return et__fail(err, ET_ERR_OUT_OF_MEMORY, "model: no memory for %llu bytes of converted weights and row sums",
                        (unsigned long long)(z->convert_floats + z->row_sums + z->zero_sums) * 4);
    m->converted_bytes = (size_t)z->convert_floats * 4;
    return ET_OK;
}

/* Points every entry at its data: F32 in place, others converted into m->converted (from *next); an
 * int8 matrix also gets its scales and its row sums (into m->wsums, from *next_sum). */
static void bind_all(et_model *m, const table *tb) {
    float *next = m->converted;
    int32_t *next_sum = m->wsums;
    float *next_zsum = m->zsums;
    /* Exact integer sums: any kernel set gives the same, so this build's default computes them. */
    const et_i8_row_sums_fn sum_rows = et_kernels_best()->i8_row_sums;
    for (int i = 0; i < tb->n; i++) {
        const binding *b = &tb->b[i];
        const gguf_tensor *t = b->t;
        if (!t) continue;
        if (on_q4_path(b)) { /* rows as in the file; the layers' matrices are packed later */
            et_linear *L = b->lin;
            L->w4 = t->data;
            L->w = NULL;
            et_q4_zero_sums((int)t->ne[1], (int)t->ne[0], t->data, next_zsum); /* scales checked finite */
            L->zsum = next_zsum;
            next_zsum += t->ne[1];
            m->info.q4_matrices++;
        } else if (t->type == GGUF_TYPE_I8) {
            et_linear *L = b->lin;
            const int64_t rows = t->ne[1], cols = t->ne[0];
            L->wq = (const int8_t *)t->data;
            if (needs_conversion(b->scale)) {
                et__tensor_to_f32(b->scale, next);
                L->scale = next;
                next += rows;
            } else {
                L->scale = (const float *)(const void *)b->scale->data;
            }
            sum_rows((int)rows, (int)cols, L->wq, next_sum);
            L->wsum = next_sum;
            next_sum += rows;
            m->info.int8_matrices++;
        } else if (needs_conversion(t)) {
            et__tensor_to_f32(t, next);
            *b->dst = next;
            next += (size_t)t->ne[0] * (size_t)t->ne[1];
        } else {
            *b->dst = (const float *)(const void *)t->data;
        }
    }
}

et_status et__model_bind_tensors(et_model *m, const et_hparams *hp, uint64_t *owned, et_error *err) {
    m->layers = calloc((size_t)hp->n_layer, sizeof *m->layers);
    table tb = {malloc(((size_t)hp->n_layer * 16 + 9) * sizeof *tb.b), 0};
    if (!m->layers || !tb.b) {
        free(tb.b);
        return et__fail(err, ET_ERR_OUT_OF_MEMORY, "model: no memory for %lld layers", (long long)hp->n_layer);
    }
    expect_embeddings(&tb, m, hp);
    for (int64_t l = 0; l < hp->n_layer; l++) expect_layer(&tb, m, hp, l);
    expect_head(&tb, m, hp);
    sizes z;
    et_status s = check_all(&m->gguf, &tb, &z, err);
    if (!s) s = check_known(&m->gguf, &tb, m->info.task, err);
    if (!s) s = allocate_copies(m, &z, err);
    if (!s) bind_all(m, &tb);
    free(tb.b);
    if (s) return s;
    m->info.weights_bytes = z.weight_bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)z.weight_bytes;
    *owned = (z.convert_floats + z.row_sums + z.zero_sums) * 4 + (uint64_t)hp->n_layer * sizeof(et_layer);
    return ET_OK;
}

/* ---- repacking --------------------------------------------------------------------------------------- */

/* May the matrix's memory be rewritten: it is the model's own copy, or a buffer given to the model
 * (`in_place`)? The casts in the packers below rest on this. */
static int writable(const et_model *m, const et_linear *L, int in_place) {
    const uint8_t *p = L->w ? (const uint8_t *)L->w : L->wq ? (const uint8_t *)L->wq : L->w4;
    const uint8_t *buf = m->gguf.base, *conv = (const uint8_t *)m->converted;
    if (conv && p >= conv && p < conv + m->converted_bytes) return 1;
    return in_place && p >= buf && p < buf + m->gguf.size;
}

/* An int8 matrix into 4-row panels (et_i8_pack_panels), in place, one block of 4 rows at a time through
 * `scratch` (4·cols bytes). */
static void pack_int8(et_linear *L, int32_t rows, int32_t cols, int8_t *scratch) {
    int8_t *w = (int8_t *)(uintptr_t)L->wq;
    const size_t block = 4 * (size_t)cols;
    for (int32_t r = 0; r + 4 <= rows; r += 4) {
        et_i8_pack_panels(4, cols, w + (size_t)r * cols, scratch);
        memcpy(w + (size_t)r * cols, scratch, block);
    }
    L->wq_packed = 1;
}

/* An f32 matrix (rows % 8 == 0) into 8-row panels (et_f32_pack_panels), in place through `tmp` (a copy of
 * the whole matrix). */
static void pack_f32(et_linear *L, int32_t rows, int32_t cols, float *tmp) {
    et_f32_pack_panels(rows, cols, L->w, cols, tmp);
    float *dst = (float *)(uintptr_t)L->w;
    memcpy(dst, tmp, (size_t)rows * (size_t)cols * sizeof *tmp);
    L->wp = dst, L->w = NULL;
}

/* A Q4_0 matrix into 4-row panels (et_q4_pack_panels): in place 4 rows at a time through `scratch`
 * (4·cols/32·18 bytes) when its memory may be rewritten, else into `copy` (the model's own). */
static void pack_q4(et_linear *L, int32_t rows, int32_t cols, uint8_t *scratch, uint8_t *copy) {
    if (copy) {
        et_q4_pack_panels(rows, cols, L->w4, copy);
        L->w4 = copy;
        return;
    }
    uint8_t *w = (uint8_t *)(uintptr_t)L->w4;
    const size_t block = 4 * (size_t)(cols / 32) * 18;
    for (int32_t r = 0; r + 4 <= rows; r += 4) {
        et_q4_pack_panels(4, cols, w + (size_t)r / 4 * block, scratch);
        memcpy(w + (size_t)r / 4 * block, scratch, block);
    }
}

/* The scratch of both packers is allocated once, on the first matrix that needs it, so no memory grows
 * with the model beyond one f32 matrix. Q4_0 matrices in memory the model may not rewrite are packed
 * into one copy of them all (the 4-bit kernels read panels only). */
et_status et__model_pack_linears(et_model *m, int in_place, et_error *err) {
    const int32_t H = m->info.n_embd, F = m->info.n_ff, A = m->info.n_head * m->info.n_head_dim;
    const int32_t rows[6] = {A, A, A, H, F, H}, cols[6] = {H, H, H, A, H, F};
    const int32_t widest = H > F ? (H > A ? H : A) : (F > A ? F : A);
    float *tmp = NULL;
    size_t tmp_n = 0, copies = 0;
    int8_t *scratch = NULL;
    et_status s = ET_OK;
    for (int32_t l = 0; l < m->info.n_layer; l++) {
        et_layer *y = &m->layers[l];
        et_linear *all[6] = {&y->q, &y->k, &y->v, &y->o, &y->up, &y->down};
        for (int i = 0; i < 6; i++)
            if (all[i]->w4 && !writable(m, all[i], in_place)) copies += (size_t)rows[i] * (size_t)(cols[i] / 32) * 18;
    }
    if (copies && !(m->q4_copies = malloc(copies)))
        return et__fail(err, ET_ERR_OUT_OF_MEMORY, "model: no memory for %zu bytes of packed 4-bit matrices", copies);
    m->info.owned_bytes = (uint32_t)(m->info.owned_bytes + copies > UINT32_MAX ? UINT32_MAX : m->info.owned_bytes + copies);
    uint8_t *next_copy = m->q4_copies;
    for (int32_t l = 0; l < m->info.n_layer && !s; l++) {
        et_layer *y = &m->layers[l];
        et_linear *all[6] = {&y->q, &y->k, &y->v, &y->o, &y->up, &y->down};
        for (int i = 0; i < 6; i++) {
            et_linear *L = all[i];
            if (L->w4) {
                const int own = writable(m, L, in_place);
                if (own && !scratch && !(scratch = malloc(4 * (size_t)widest))) {
                    s = et__fail(err, ET_ERR_OUT_OF_MEMORY, "model: no memory to repack the 4-bit matrices");
                    break;
                }
                pack_q4(L, rows[i], cols[i], (uint8_t *)scratch, own ? NULL : next_copy);
                if (!own) next_copy += (size_t)rows[i] * (size_t)(cols[i] / 32) * 18;
                continue;
            }
            if (!writable(m, L, in_place)) continue;
            if (L->wq) {
                if (!scratch && !(scratch = malloc(4 * (size_t)widest))) {
                    s = et__fail(err, ET_ERR_OUT_OF_MEMORY, "model: no memory to repack the int8 matrices");
                    break;
                }
                pack_int8(L, rows[i], cols[i], scratch);
                continue;
            }
            if (rows[i] % 8) continue;
            const size_t n = (size_t)rows[i] * (size_t)cols[i];
            if (n > tmp_n) {
                float *t = realloc(tmp, n * sizeof *t);
                if (!t) {
                    s = et__fail(err, ET_ERR_OUT_OF_MEMORY, "model: no memory to repack a %d × %d matrix", rows[i], cols[i]);
                    break;
                }
                tmp = t, tmp_n = n;
            }
            pack_f32(L, rows[i], cols[i], tmp);
        }
    }
    free(tmp);
    free(scratch);
    return s;
}
