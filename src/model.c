/*
 * model.c — from a parsed GGUF file to a model the encoder can run.
 *
 * Order of work: read and range-check the hyper-parameters; check every tensor the encoder will use
 * exists with the exact shape the hyper-parameters imply and a type we compute with; only then
 * allocate (the F32 copies of F16/Q8_0 tensors, the string pool) and bind pointers. Nothing is read
 * from a tensor before the whole file has been validated.
 */
#include "model.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "kernels/kernels.h"

#define ET_MAX_LAYERS 1024

/* ---- tensors ---------------------------------------------------------------------------------- */

/* One tensor the encoder uses: its expected shape, where to put its F32 pointer. */
typedef struct binding {
    char name[48];
    int64_t ne0, ne1; /* ne1 = 0: one-dimensional */
    int required;
    const float **dst;
    et_linear *lin;       /* for a matrix that may be int8 (with its `.scale`), else NULL */
    const gguf_tensor *t; /* found in the file, or NULL */
    const gguf_tensor *scale; /* the int8 matrix's scales */
} binding;

static int needs_conversion(const gguf_tensor *t) {
    return t->type != GGUF_TYPE_F32 || ((uintptr_t)t->data & 3u) != 0;
}

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
    case GGUF_TYPE_I8: {
        if (!b->lin)
            return et__fail(err, ET_ERR_UNSUPPORTED, "model: tensor '%s' is I8; only Linear weights and token_embd may be",
                            b->name);
        /* Its per-row scales: "X.weight" → "X.scale", F32 [rows]. */
        char scale_name[48];
        const size_t base = strlen(b->name) - strlen(".weight");
        et__format(scale_name, sizeof scale_name, "%.*s.scale", (int)base, b->name);
        b->scale = gguf_find_tensor(f, scale_name);
        if (!b->scale)
            return et__fail(err, ET_ERR_MISSING, "model: tensor '%s' is I8 but its scales '%s' are missing", b->name, scale_name);
        if (b->scale->n_dims != 1 || b->scale->ne[0] != b->ne1 || b->scale->type != GGUF_TYPE_F32)
            return et__fail(err, ET_ERR_SHAPE, "model: tensor '%s' must be F32 [%lld], one scale per row of '%s'", scale_name,
                            (long long)b->ne1, b->name);
        return ET_OK;
    }
    default:
        return et__fail(err, ET_ERR_UNSUPPORTED, "model: tensor '%s' has type %s; this engine reads F32, F16, BF16, Q8_0 "
                        "and I8 (with scales)", b->name, gguf_type_name(t->type));
    }
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

/* ---- loading ---------------------------------------------------------------------------------- */

static et_status read_hparams(const gguf_file *f, et_hparams *hp, et_error *err) {
    et_status s;
    gguf_str arch;
    if ((s = gguf_get_str(f, "general.architecture", 1, &arch, err))) return s;
    if (!gguf_str_eq(arch, "bert"))
        return et__fail(err, ET_ERR_UNSUPPORTED, "model: architecture '%.*s' is not supported (bert is)",
                        (int)(arch.len < 64 ? arch.len : 64), arch.ptr);
    int64_t fmt;
    if ((s = gguf_get_int(f, "edgetag.format_version", 0, 1, 0, INT32_MAX, &fmt, err))) return s;
    if (fmt > ET_FORMAT_VERSION)
        return et__fail(err, ET_ERR_BAD_VERSION, "model: edgetag.format_version %lld is newer than this engine reads (%d, edgetag %s)",
                        (long long)fmt, ET_FORMAT_VERSION, ET_VERSION_STRING);
    if ((s = gguf_get_int(f, "bert.context_length", 1, 0, 1, 1 << 20, &hp->n_ctx, err)) ||
        (s = gguf_get_int(f, "bert.embedding_length", 1, 0, 1, 1 << 16, &hp->n_embd, err)) ||
        (s = gguf_get_int(f, "bert.feed_forward_length", 1, 0, 1, 1 << 20, &hp->n_ff, err)) ||
        (s = gguf_get_int(f, "bert.block_count", 1, 0, 1, ET_MAX_LAYERS, &hp->n_layer, err)) ||
        (s = gguf_get_int(f, "bert.attention.head_count", 1, 0, 1, 1 << 16, &hp->n_head, err)))
        return s;
    if (hp->n_embd % hp->n_head != 0)
        return et__fail(err, ET_ERR_SHAPE, "model: bert.attention.head_count %lld does not divide bert.embedding_length %lld",
                        (long long)hp->n_head, (long long)hp->n_embd);
    const gguf_kv *eps = gguf_find_kv(f, "bert.attention.layer_norm_epsilon");
    if (!eps) return et__fail(err, ET_ERR_MISSING, "model: required key 'bert.attention.layer_norm_epsilon' is missing");
    if ((s = gguf_get_float(f, "bert.attention.layer_norm_epsilon", 0, &hp->eps, err))) return s;
    if (!(hp->eps > 0 && hp->eps < 1))
        return et__fail(err, ET_ERR_CORRUPT, "model: bert.attention.layer_norm_epsilon %g is outside (0, 1)", hp->eps);
    int causal = 0;
    if ((s = gguf_get_bool(f, "bert.attention.causal", 0, &causal, err))) return s;
    if (causal) return et__fail(err, ET_ERR_UNSUPPORTED, "model: bert.attention.causal is true; encoders attend both ways");
    gguf_str act;
    if ((s = gguf_get_str(f, "edgetag.hidden_act", 0, &act, err))) return s;
    if (act.ptr && !gguf_str_eq(act, "gelu"))
        return et__fail(err, ET_ERR_UNSUPPORTED, "model: edgetag.hidden_act '%.*s' is not supported (gelu is)",
                        (int)(act.len < 32 ? act.len : 32), act.ptr);
    gguf_str tok_model;
    if ((s = gguf_get_str(f, "tokenizer.ggml.model", 0, &tok_model, err))) return s;
    if (tok_model.ptr && !gguf_str_eq(tok_model, "bert"))
        return et__fail(err, ET_ERR_UNSUPPORTED, "model: tokenizer.ggml.model '%.*s' is not supported (bert is)",
                        (int)(tok_model.len < 32 ? tok_model.len : 32), tok_model.ptr);
    return ET_OK;
}

static et_status read_task(const gguf_file *f, int32_t *task, et_error *err) {
    gguf_str t;
    et_status s = gguf_get_str(f, "edgetag.task", 0, &t, err);
    if (s) return s;
    if (!t.ptr || gguf_str_eq(t, "embedding")) *task = ET_TASK_EMBEDDING;
    else if (gguf_str_eq(t, "sequence_classification")) *task = ET_TASK_SEQUENCE_CLASSIFICATION;
    else if (gguf_str_eq(t, "token_classification")) *task = ET_TASK_TOKEN_CLASSIFICATION;
    else
        return et__fail(err, ET_ERR_UNSUPPORTED, "model: edgetag.task '%.*s' is not supported", (int)(t.len < 48 ? t.len : 48), t.ptr);
    return ET_OK;
}

/* The tensors of one encoder layer: name suffix, dimensions ('H' hidden, 'F' FFN, 0 none), the float
 * pointer to fill, and for a matrix its et_linear (int8 allowed). */
#define LIN(f) offsetof(et_layer, f)
static const struct {
    const char *suffix;
    char ne0, ne1;
    size_t field;
    ptrdiff_t linear; /* offset of the et_linear, or -1 */
} layer_tensors[16] = {
    {"attn_q.weight", 'H', 'H', LIN(q.w), LIN(q)},       {"attn_q.bias", 'H', 0, LIN(q.b), -1},
    {"attn_k.weight", 'H', 'H', LIN(k.w), LIN(k)},       {"attn_k.bias", 'H', 0, LIN(k.b), -1},
    {"attn_v.weight", 'H', 'H', LIN(v.w), LIN(v)},       {"attn_v.bias", 'H', 0, LIN(v.b), -1},
    {"attn_output.weight", 'H', 'H', LIN(o.w), LIN(o)},  {"attn_output.bias", 'H', 0, LIN(o.b), -1},
    {"attn_output_norm.weight", 'H', 0, LIN(ln1_w), -1}, {"attn_output_norm.bias", 'H', 0, LIN(ln1_b), -1},
    {"ffn_up.weight", 'H', 'F', LIN(up.w), LIN(up)},     {"ffn_up.bias", 'F', 0, LIN(up.b), -1},
    {"ffn_down.weight", 'F', 'H', LIN(down.w), LIN(down)}, {"ffn_down.bias", 'H', 0, LIN(down.b), -1},
    {"layer_output_norm.weight", 'H', 0, LIN(ln2_w), -1}, {"layer_output_norm.bias", 'H', 0, LIN(ln2_b), -1},
};
#undef LIN

/* Fills the binding table; returns the number of entries. */
static int make_bindings(binding *b, et_model *m, const et_hparams *hp, int64_t n_vocab, int64_t n_labels) {
    const int64_t H = hp->n_embd, F = hp->n_ff;
    int n = 0;
#define BIND(req, ptr, e0, e1, ...)                                              \
    do {                                                                         \
        et__format(b[n].name, sizeof b[n].name, __VA_ARGS__);                    \
        b[n].ne0 = (e0), b[n].ne1 = (e1), b[n].required = (req);                 \
        b[n].dst = (ptr), b[n].lin = NULL, b[n].t = NULL, b[n].scale = NULL;     \
        n++;                                                                     \
    } while (0)
#define DIM(c) ((c) == 'H' ? H : (c) == 'F' ? F : 0)
    BIND(1, &m->tok_embd.w, H, n_vocab, "token_embd.weight");
    b[n - 1].lin = &m->tok_embd;
    BIND(1, &m->pos_embd, H, hp->n_ctx, "position_embd.weight");
    BIND(1, &m->type_embd, H, hp->n_types, "token_types.weight");
    BIND(1, &m->embd_ln_w, H, 0, "token_embd_norm.weight");
    BIND(1, &m->embd_ln_b, H, 0, "token_embd_norm.bias");
    for (int64_t l = 0; l < hp->n_layer; l++) {
        for (int i = 0; i < 16; i++) {
            char *layer = (char *)&m->layers[l];
            const float **field = (const float **)(void *)(layer + layer_tensors[i].field);
            BIND(1, field, DIM(layer_tensors[i].ne0), DIM(layer_tensors[i].ne1), "blk.%lld.%s", (long long)l,
                 layer_tensors[i].suffix);
            if (layer_tensors[i].linear >= 0) b[n - 1].lin = (et_linear *)(void *)(layer + layer_tensors[i].linear);
        }
    }
    const int task = m->info.task;
    const int pool_req = task == ET_TASK_SEQUENCE_CLASSIFICATION;
    BIND(pool_req, &m->pool_w, H, H, "cls.weight");
    BIND(pool_req, &m->pool_b, H, 0, "cls.bias");
    if (task != ET_TASK_EMBEDDING) {
        BIND(1, &m->head_w, H, n_labels, "cls.output.weight");
        BIND(1, &m->head_b, n_labels, 0, "cls.output.bias");
    }
#undef DIM
#undef BIND
    return n;
}

/* Copies a GGUF string into the pool as a C string; returns its start. */
static char *pool_put(char **cursor, gguf_str s) {
    char *start = *cursor;
    memcpy(start, s.ptr, (size_t)s.len);
    start[s.len] = '\0';
    *cursor += s.len + 1;
    return start;
}

/* Repacks the layers' matrices into the layouts of the fastest GEMMs, in the memory they occupy: f32
 * into panels of 8 rows (et_f32_pack_panels, through a temporary copy of one matrix), int8 into panels of
 * 4 rows (et_i8_pack_panels, one block of 4 rows at a time through a 4·k-byte scratch, so no memory grows
 * with the model). Done on the model's own copies always, on the caller's buffer when `in_place` (it
 * said so, or the model owns it); other matrices stay as they are and run on the row-major kernels. */
static et_status pack_linears(et_model *m, int in_place, et_error *err) {
    const uint8_t *buf = m->gguf.base, *conv = (const uint8_t *)m->converted;
    const size_t conv_bytes = m->converted_bytes;
    float *tmp = NULL;
    size_t tmp_n = 0;
    int8_t *scratch = NULL;
    et_status s = ET_OK;
    for (int32_t l = 0; l < m->info.n_layer && !s; l++) {
        et_linear *all[6] = {&m->layers[l].q, &m->layers[l].k, &m->layers[l].v, &m->layers[l].o, &m->layers[l].up,
                             &m->layers[l].down};
        const int32_t H = m->info.n_embd, F = m->info.n_ff;
        const int32_t rows[6] = {H, H, H, H, F, H}, cols[6] = {H, H, H, H, H, F};
        for (int i = 0; i < 6; i++) {
            et_linear *L = all[i];
            /* Writable below (hence the casts): our copy, or a buffer given to us. */
            const uint8_t *p = L->w ? (const uint8_t *)L->w : (const uint8_t *)L->wq;
            const int ours = conv && p >= conv && p < conv + conv_bytes;
            if (!ours && !(in_place && p >= buf && p < buf + m->gguf.size)) continue;
            if (L->wq) {
                if (!scratch && !(scratch = malloc(4 * (size_t)(H > F ? H : F)))) {
                    s = et__fail(err, ET_ERR_OUT_OF_MEMORY, "model: no memory to repack the int8 matrices");
                    break;
                }
                int8_t *w = (int8_t *)(uintptr_t)L->wq;
                const size_t block = 4 * (size_t)cols[i];
                for (int32_t r = 0; r + 4 <= rows[i]; r += 4) {
                    et_i8_pack_panels(4, cols[i], w + (size_t)r * cols[i], scratch);
                    memcpy(w + (size_t)r * cols[i], scratch, block);
                }
                L->wq_packed = 1;
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
            et_f32_pack_panels(rows[i], cols[i], L->w, cols[i], tmp);
            float *dst = (float *)(uintptr_t)L->w;
            memcpy(dst, tmp, n * sizeof *tmp);
            L->wp = dst, L->w = NULL;
        }
    }
    free(tmp);
    free(scratch);
    return s;
}

static et_status bind_model(et_model *m, et_error *err) {
    const gguf_file *f = &m->gguf;
    et_status s;
    et_hparams hp;
    if ((s = read_hparams(f, &hp, err))) return s;
    if ((s = read_task(f, &m->info.task, err))) return s;

    if ((s = et__model_read_tokenizer(m, &hp, err))) return s;
    const int64_t n_vocab = hp.n_vocab;

    /* Labels: the head's row count is the truth; the names must match it. */
    int64_t n_labels = 0;
    const gguf_array *labels = NULL;
    if (m->info.task != ET_TASK_EMBEDDING) {
        const gguf_tensor *head = gguf_find_tensor(f, "cls.output.weight");
        if (!head) return et__fail(err, ET_ERR_MISSING, "model: tensor 'cls.output.weight' is missing (a classifier needs it)");
        n_labels = head->ne[1];
        if ((s = gguf_get_str_array(f, "edgetag.labels", 1, &labels, err))) return s;
        if ((int64_t)labels->n != n_labels)
            return et__fail(err, ET_ERR_SHAPE, "model: edgetag.labels has %llu names, cls.output.weight has %lld rows",
                            (unsigned long long)labels->n, (long long)n_labels);
    }

    double temperature, threshold;
    if ((s = gguf_get_float(f, "edgetag.calibration.temperature", 1.0, &temperature, err))) return s;
    if (!(temperature > 0))
        return et__fail(err, ET_ERR_CORRUPT, "model: edgetag.calibration.temperature %g is not positive", temperature);
    if ((s = gguf_get_float(f, "edgetag.escalation.threshold", NAN, &threshold, err))) return s;
    if (gguf_find_kv(f, "edgetag.escalation.threshold") && !(threshold >= 0 && threshold <= 1))
        return et__fail(err, ET_ERR_CORRUPT, "model: edgetag.escalation.threshold %g is outside [0, 1]", threshold);
    gguf_str name, version, aggregation;
    if ((s = gguf_get_str(f, "general.name", 0, &name, err)) || (s = gguf_get_str(f, "edgetag.model.version", 0, &version, err)) ||
        (s = gguf_get_str(f, "edgetag.tagging.aggregation", 0, &aggregation, err)))
        return s;
    int32_t aggregation_mode = ET_AGGREGATION_SIMPLE;
    if (gguf_find_kv(f, "edgetag.tagging.aggregation")) {
        static const char *const modes[] = {"none", "simple", "first", "average", "max"};
        aggregation_mode = -1;
        for (int32_t k = 0; k < 5; k++)
            if (aggregation.len == strlen(modes[k]) && !memcmp(aggregation.ptr, modes[k], aggregation.len)) aggregation_mode = k;
        if (aggregation_mode < 0)
            return et__fail(err, ET_ERR_CORRUPT, "model: edgetag.tagging.aggregation '%.*s' is not none, simple, first, average or max",
                            (int)(aggregation.len > 40 ? 40 : aggregation.len), aggregation.ptr);
    }

    /* Tensors: check all, then size the copies, then bind. */
    m->layers = calloc((size_t)hp.n_layer, sizeof *m->layers);
    binding *b = malloc(((size_t)hp.n_layer * 16 + 9) * sizeof *b);
    if (!m->layers || !b) {
        free(b);
        return et__fail(err, ET_ERR_OUT_OF_MEMORY, "model: no memory for %lld layers", (long long)hp.n_layer);
    }
    const int nb = make_bindings(b, m, &hp, n_vocab, n_labels);
    uint64_t convert_floats = 0, weight_bytes = 0, row_sums = 0;
    for (int i = 0; i < nb; i++) {
        if ((s = check_binding(f, &b[i], err))) {
            free(b);
            return s;
        }
        const gguf_tensor *t = b[i].t;
        if (!t) continue;
        const uint64_t count = (uint64_t)t->ne[0] * (uint64_t)t->ne[1];
        if (t->type == GGUF_TYPE_I8) {
            weight_bytes += count + (uint64_t)t->ne[1] * 4;
            row_sums += (uint64_t)t->ne[1];
            if (needs_conversion(b[i].scale)) convert_floats += (uint64_t)t->ne[1];
        } else {
            weight_bytes += count * 4;
            if (needs_conversion(t)) convert_floats += count;
        }
    }
    if ((convert_floats && (convert_floats > SIZE_MAX / 4 || !(m->converted = malloc((size_t)convert_floats * 4)))) ||
        (row_sums && (row_sums > SIZE_MAX / 4 || !(m->wsums = malloc((size_t)row_sums * 4))))) {
        free(b);
        return et__fail(err, ET_ERR_OUT_OF_MEMORY, "model: no memory for %llu bytes of converted weights and row sums",
                        (unsigned long long)(convert_floats + row_sums) * 4);
    }
    m->converted_bytes = (size_t)convert_floats * 4;
    float *next = m->converted;
    int32_t *next_sum = m->wsums;
    /* Exact integer sums: any kernel set gives the same, so this build's default computes them. */
    const et_i8_row_sums_fn sum_rows = et_kernels_best()->i8_row_sums;
    for (int i = 0; i < nb; i++) {
        const gguf_tensor *t = b[i].t;
        if (!t) continue;
        if (t->type == GGUF_TYPE_I8) {
            et_linear *L = b[i].lin;
            const int64_t rows = t->ne[1], cols = t->ne[0];
            L->wq = (const int8_t *)t->data;
            if (needs_conversion(b[i].scale)) {
                et__tensor_to_f32(b[i].scale, next);
                L->scale = next;
                next += rows;
            } else {
                L->scale = (const float *)(const void *)b[i].scale->data;
            }
            sum_rows((int)rows, (int)cols, L->wq, next_sum);
            L->wsum = next_sum;
            next_sum += rows;
            m->info.int8_matrices++;
        } else if (needs_conversion(t)) {
            et__tensor_to_f32(t, next);
            *b[i].dst = next;
            next += (size_t)t->ne[0] * (size_t)t->ne[1];
        } else {
            *b[i].dst = (const float *)(const void *)t->data;
        }
    }
    free(b);

    /* Strings the API hands out as C strings: labels, tensor names, name, version. */
    uint64_t pool = name.len + 1 + (version.ptr ? version.len : 1) + 1;
    for (uint64_t i = 0, pos = 0; labels && i < labels->n; i++) pool += gguf_array_next_str(labels, &pos).len + 1;
    for (uint64_t i = 0; i < f->n_tensors; i++) pool += f->tensors[i].name.len + 1;
    m->strings = malloc((size_t)pool);
    m->labels = calloc((size_t)n_labels + 1, sizeof *m->labels);
    m->tensor_names = calloc((size_t)f->n_tensors + 1, sizeof *m->tensor_names);
    if (!m->strings || !m->labels || !m->tensor_names)
        return et__fail(err, ET_ERR_OUT_OF_MEMORY, "model: no memory for %llu bytes of names", (unsigned long long)pool);
    char *cur = m->strings;
    for (uint64_t i = 0, pos = 0; labels && i < labels->n; i++) m->labels[i] = pool_put(&cur, gguf_array_next_str(labels, &pos));
    for (uint64_t i = 0; i < f->n_tensors; i++) m->tensor_names[i] = pool_put(&cur, f->tensors[i].name);
    m->info.name = pool_put(&cur, name.ptr ? name : (gguf_str){"", 0});
    m->info.version = pool_put(&cur, version.ptr ? version : (gguf_str){"0", 1});

    /* Entity types of a tagger: "B-PER"/"I-PER" → "PER", as Hugging Face's pipeline reads them. */
    if (n_labels) {
        m->label_type = malloc((size_t)n_labels * sizeof *m->label_type);
        m->label_bi = malloc((size_t)n_labels);
        m->types = malloc((size_t)n_labels * sizeof *m->types);
        if (!m->label_type || !m->label_bi || !m->types)
            return et__fail(err, ET_ERR_OUT_OF_MEMORY, "model: no memory for %lld labels", (long long)n_labels);
        for (int64_t i = 0; i < n_labels; i++) {
            const char *l = m->labels[i];
            const int prefixed = (l[0] == 'B' || l[0] == 'I') && l[1] == '-';
            if (!strcmp(l, "O")) {
                m->label_bi[i] = 'O', m->label_type[i] = -1;
                continue;
            }
            m->label_bi[i] = prefixed ? l[0] : 'I';
            const char *type = prefixed ? l + 2 : l;
            int32_t t = 0;
            while (t < m->info.n_entity_types && strcmp(m->types[t], type)) t++;
            if (t == m->info.n_entity_types) m->types[m->info.n_entity_types++] = type;
            m->label_type[i] = t;
        }
    }

    et_model_info *in = &m->info;
    in->n_vocab = (int32_t)n_vocab;
    in->n_ctx = (int32_t)hp.n_ctx;
    in->n_embd = (int32_t)hp.n_embd;
    in->n_ff = (int32_t)hp.n_ff;
    in->n_layer = (int32_t)hp.n_layer;
    in->n_head = (int32_t)hp.n_head;
    in->n_token_types = (int32_t)hp.n_types;
    in->n_labels = (int32_t)n_labels;
    in->has_pooler = m->pool_w != NULL && m->pool_b != NULL;
    in->n_out = in->task != ET_TASK_EMBEDDING ? in->n_labels : (in->has_pooler ? in->n_embd : 0);
    in->layer_norm_eps = (float)hp.eps;
    in->temperature = (float)temperature;
    in->threshold = (float)threshold;
    in->aggregation = aggregation_mode;
    in->n_tensors = (int32_t)f->n_tensors;
    in->weights_bytes = weight_bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)weight_bytes;
    const uint64_t owned = convert_floats * 4 + row_sums * 4 + pool + (uint64_t)hp.n_layer * sizeof(et_layer) +
                           et_vocab_bytes(&m->vocab) + (m->owned_buffer ? f->size : 0);
    in->owned_bytes = owned > UINT32_MAX ? UINT32_MAX : (uint32_t)owned;
    return ET_OK;
}

et_model_params et_model_default_params(void) {
    et_model_params p = {.copy_buffer = 0, .pack_in_place = 0};
    return p;
}

void et_model_default_params_by_ref(et_model_params *out) {
    if (out) *out = et_model_default_params();
}

static et_status load(const void *data, size_t size, void *owned, int pack_in_place, et_model **out, et_error *error) {
    et_model *m = calloc(1, sizeof *m);
    if (!m) {
        free(owned);
        return et__fail(error, ET_ERR_OUT_OF_MEMORY, "model: no memory for the model");
    }
    m->owned_buffer = owned;
    et_status s = gguf_parse(&m->gguf, data, size, error);
    if (!s) s = bind_model(m, error);
    if (!s) s = pack_linears(m, pack_in_place || owned != NULL, error);
    if (s) {
        et_model_free(m);
        return s;
    }
    *out = m;
    if (error) {
        error->status = ET_OK;
        error->message[0] = '\0';
    }
    return ET_OK;
}

et_status et__model_load_owned(void *buffer, size_t size, et_model **out, et_error *error) {
    return load(buffer, size, buffer, 1, out, error);
}

et_status et_model_load_from_buffer(const void *data, size_t size, const et_model_params *params, et_model **out,
                                    et_error *error) {
    if (!out) return et__fail(error, ET_ERR_INVALID_ARGUMENT, "et_model_load_from_buffer: out is NULL");
    *out = NULL;
    if (!data) return et__fail(error, ET_ERR_INVALID_ARGUMENT, "et_model_load_from_buffer: data is NULL");
    const et_model_params p = params ? *params : et_model_default_params();
    if (p.copy_buffer) {
        void *copy = aligned_alloc(16, (size + 15) & ~(size_t)15);
        if (!copy) return et__fail(error, ET_ERR_OUT_OF_MEMORY, "et_model_load_from_buffer: no memory to copy %zu bytes", size);
        memcpy(copy, data, size);
        return load(copy, size, copy, 1, out, error);
    }
    if (((uintptr_t)data & 15u) != 0)
        return et__fail(error, ET_ERR_ALIGNMENT, "et_model_load_from_buffer: buffer at %p is not 16-byte aligned "
                        "(align it, or set copy_buffer)", data);
    return load(data, size, NULL, p.pack_in_place, out, error);
}

void et_model_free(et_model *m) {
    if (!m) return;
    gguf_free(&m->gguf);
    et_vocab_free(&m->vocab);
    free(m->layers);
    free(m->labels);
    free(m->label_type);
    free(m->label_bi);
    free(m->types);
    free(m->tensor_names);
    free(m->strings);
    free(m->converted);
    free(m->wsums);
    free(m->owned_buffer);
    free(m);
}

et_status et_model_get_info(const et_model *m, et_model_info *out) {
    if (!m || !out) return ET_ERR_INVALID_ARGUMENT;
    *out = m->info;
    return ET_OK;
}

const char *et_model_entity_type(const et_model *m, int32_t i) {
    if (!m || i < 0 || i >= m->info.n_entity_types) return NULL;
    return m->types[i];
}

const char *et_model_label(const et_model *m, int32_t i) {
    if (!m || i < 0 || i >= m->info.n_labels) return NULL;
    return m->labels[i];
}

et_status et_model_tensor_info(const et_model *m, int32_t i, et_tensor_info *out) {
    if (!m || !out || i < 0 || i >= m->info.n_tensors) return ET_ERR_INVALID_ARGUMENT;
    const gguf_tensor *t = &m->gguf.tensors[i];
    out->name = m->tensor_names[i];
    out->type = (int32_t)t->type;
    out->n_dims = (int32_t)t->n_dims;
    for (int d = 0; d < 4; d++) out->ne[d] = (int32_t)t->ne[d];
    const uint64_t off = (uint64_t)(t->data - m->gguf.base);
    out->offset = off > UINT32_MAX ? UINT32_MAX : (uint32_t)off;
    out->n_bytes = t->n_bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)t->n_bytes;
    return ET_OK;
}

const char *et_type_name(int32_t type) {
    const char *n = type >= 0 ? gguf_type_name((uint32_t)type) : NULL;
    return n ? n : "?";
}
