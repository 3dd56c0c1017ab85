/*
 * model.c — from a parsed GGUF file to a model the encoder can run: the loader.
 *
 * Order of work (bind_model): read and range-check the hyper-parameters, the task, the tokenizer, the
 * labels and the decoding keys; check every tensor the encoder will use exists with the exact shape the
 * hyper-parameters imply and a type we compute with; only then allocate (the F32 copies of F16/Q8_0
 * tensors, the row sums, the string pool) and bind pointers (model_tensors.c, driven by a table); last,
 * repack the layers' matrices for the fastest GEMMs. Nothing is read from a tensor before the whole file
 * has been validated.
 */
#include "model.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define ET_MAX_LAYERS 1024

/* ---- the keys ------------------------------------------------------------------------------------- */

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
    /* The head size: llama.cpp's key_length / value_length when present (a model whose heads were pruned
     * keeps its head size with fewer heads), else n_embd / n_head. */
    int64_t kl, vl;
    if ((s = gguf_get_int(f, "bert.attention.key_length", 0, 0, 1, 1 << 16, &kl, err)) ||
        (s = gguf_get_int(f, "bert.attention.value_length", 0, kl, 1, 1 << 16, &vl, err)))
        return s;
    if (kl != vl)
        return et__fail(err, ET_ERR_UNSUPPORTED, "model: bert.attention.key_length %lld differs from value_length %lld",
                        (long long)kl, (long long)vl);
    if (!kl && hp->n_embd % hp->n_head != 0)
        return et__fail(err, ET_ERR_SHAPE, "model: bert.attention.head_count %lld does not divide bert.embedding_length %lld",
                        (long long)hp->n_head, (long long)hp->n_embd);
    hp->n_head_dim = kl ? kl : hp->n_embd / hp->n_head;
    if (hp->n_head * hp->n_head_dim > (int64_t)1 << 20)
        return et__fail(err, ET_ERR_SHAPE, "model: attention width %lld × %lld is too large", (long long)hp->n_head,
                        (long long)hp->n_head_dim);
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

/* Do two string arrays hold the same strings? */
static int same_strings(const gguf_array *a, const gguf_array *b) {
    if (a->n != b->n) return 0;
    for (uint64_t i = 0, pa = 0, pb = 0; i < a->n; i++) {
        const gguf_str x = gguf_array_next_str(a, &pa), y = gguf_array_next_str(b, &pb);
        if (x.len != y.len || memcmp(x.ptr, y.ptr, (size_t)x.len) != 0) return 0;
    }
    return 1;
}

static int compare_strs(const void *a, const void *b) {
    const gguf_str *x = a, *y = b;
    const int c = memcmp(x->ptr, y->ptr, (size_t)(x->len < y->len ? x->len : y->len));
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Labels name results (a C string each, a key of a JavaScript object): a NUL byte would cut one short, and
 * two labels of one name would make one answer unreachable. Both are a corrupt file. */
static et_status check_label_names(const gguf_array *labels, const char *key, et_error *err) {
    gguf_str *sorted = malloc((size_t)labels->n * sizeof *sorted + 1);
    if (!sorted) return et__fail(err, ET_ERR_OUT_OF_MEMORY, "model: no memory to check %llu labels", (unsigned long long)labels->n);
    et_status s = ET_OK;
    for (uint64_t i = 0, pos = 0; i < labels->n; i++) {
        sorted[i] = gguf_array_next_str(labels, &pos);
        if (s == ET_OK && memchr(sorted[i].ptr, 0, (size_t)sorted[i].len))
            s = et__fail(err, ET_ERR_CORRUPT, "model: %s[%llu] holds a NUL byte", key, (unsigned long long)i);
    }
    if (s == ET_OK) qsort(sorted, (size_t)labels->n, sizeof *sorted, compare_strs);
    for (uint64_t i = 1; s == ET_OK && i < labels->n; i++)
        if (!compare_strs(&sorted[i - 1], &sorted[i]))
            s = et__fail(err, ET_ERR_CORRUPT, "model: %s names the label '%.*s' twice", key,
                         (int)(sorted[i].len < 64 ? sorted[i].len : 64), sorted[i].ptr);
    free(sorted);
    return s;
}

/* The labels of a classifier: the head's row count is the truth; the names must match it. They are
 * llama.cpp's bert.classifier.output_labels (our files of format 2, llama.cpp's) or edgetag.labels
 * (format 1); when both are present they must agree. */
static et_status read_labels(const gguf_file *f, int32_t task, et_hparams *hp, const gguf_array **labels, et_error *err) {
    hp->n_labels = 0;
    *labels = NULL;
    if (task == ET_TASK_EMBEDDING) return ET_OK;
    const gguf_tensor *head = gguf_find_tensor(f, "cls.output.weight");
    if (!head) return et__fail(err, ET_ERR_MISSING, "model: tensor 'cls.output.weight' is missing (a classifier needs it)");
    hp->n_labels = head->ne[1];
    const gguf_array *theirs, *ours;
    et_status s;
    if ((s = gguf_get_str_array(f, "bert.classifier.output_labels", 0, &theirs, err)) ||
        (s = gguf_get_str_array(f, "edgetag.labels", 0, &ours, err)))
        return s;
    if (!theirs && !ours)
        return et__fail(err, ET_ERR_MISSING, "model: required key 'bert.classifier.output_labels' (or edgetag.labels) is "
                        "missing: a classifier needs its labels");
    if (theirs && ours && !same_strings(theirs, ours))
        return et__fail(err, ET_ERR_CORRUPT, "model: bert.classifier.output_labels and edgetag.labels disagree");
    *labels = theirs ? theirs : ours;
    if ((int64_t)(*labels)->n != hp->n_labels)
        return et__fail(err, ET_ERR_SHAPE, "model: %s has %llu names, cls.output.weight has %lld rows",
                        theirs ? "bert.classifier.output_labels" : "edgetag.labels", (unsigned long long)(*labels)->n,
                        (long long)hp->n_labels);
    return check_label_names(*labels, theirs ? "bert.classifier.output_labels" : "edgetag.labels", err);
}

/* The calibration temperature (1 when absent) and the escalation threshold (NaN when absent). */
static et_status read_calibration(const gguf_file *f, et_model_info *in, et_error *err) {
    double temperature, threshold;
    et_status s;
    if ((s = gguf_get_float(f, "edgetag.calibration.temperature", 1.0, &temperature, err))) return s;
    if (!(temperature > 0))
        return et__fail(err, ET_ERR_CORRUPT, "model: edgetag.calibration.temperature %g is not positive", temperature);
    if ((s = gguf_get_float(f, "edgetag.escalation.threshold", NAN, &threshold, err))) return s;
    if (gguf_find_kv(f, "edgetag.escalation.threshold") && !(threshold >= 0 && threshold <= 1))
        return et__fail(err, ET_ERR_CORRUPT, "model: edgetag.escalation.threshold %g is outside [0, 1]", threshold);
    in->temperature = (float)temperature;
    in->threshold = (float)threshold;
    return ET_OK;
}

/* How entities are best decoded: edgetag.tagging.aggregation, "simple" when absent. */
static et_status read_aggregation(const gguf_file *f, int32_t *mode, et_error *err) {
    gguf_str a;
    const et_status s = gguf_get_str(f, "edgetag.tagging.aggregation", 0, &a, err);
    if (s) return s;
    *mode = ET_AGGREGATION_SIMPLE;
    if (!a.ptr) return ET_OK;
    static const char *const modes[] = {"none", "simple", "first", "average", "max"};
    *mode = -1;
    for (int32_t k = 0; k < 5; k++)
        if (gguf_str_eq(a, modes[k])) *mode = k;
    if (*mode < 0)
        return et__fail(err, ET_ERR_CORRUPT, "model: edgetag.tagging.aggregation '%.*s' is not none, simple, first, average or max",
                        (int)(a.len > 40 ? 40 : a.len), a.ptr);
    return ET_OK;
}

/* The label whose prediction means the model declines to answer, so the text escalates:
 * edgetag.escalation.abstain_label, which must name one of edgetag.labels; its index, -1 when absent. */
static et_status read_abstain_label(const gguf_file *f, const gguf_array *labels, int32_t *index, et_error *err) {
    gguf_str a;
    const et_status s = gguf_get_str(f, "edgetag.escalation.abstain_label", 0, &a, err);
    *index = -1;
    if (s || !a.ptr) return s;
    for (uint64_t i = 0, pos = 0; labels && i < labels->n; i++) {
        const gguf_str l = gguf_array_next_str(labels, &pos);
        if (l.len == a.len && memcmp(l.ptr, a.ptr, (size_t)a.len) == 0) {
            *index = (int32_t)i;
            return ET_OK;
        }
    }
    return et__fail(err, ET_ERR_CORRUPT, "model: edgetag.escalation.abstain_label '%.*s' is not one of edgetag.labels",
                    (int)(a.len > 64 ? 64 : a.len), a.ptr);
}

/* ---- strings and labels ------------------------------------------------------------------------------ */

/* Copies a GGUF string into the pool as a C string; returns its start. */
static char *pool_put(char **cursor, gguf_str s) {
    char *start = *cursor;
    memcpy(start, s.ptr, (size_t)s.len);
    start[s.len] = '\0';
    *cursor += s.len + 1;
    return start;
}

/* The strings the API hands out as C strings, copied into one pool: labels, tensor names, name, version. */
static et_status copy_strings(et_model *m, const gguf_array *labels, gguf_str name, gguf_str version, uint64_t *bytes,
                              et_error *err) {
    const gguf_file *f = &m->gguf;
    uint64_t pool = name.len + 1 + (version.ptr ? version.len : 1) + 1;
    for (uint64_t i = 0, pos = 0; labels && i < labels->n; i++) pool += gguf_array_next_str(labels, &pos).len + 1;
    for (uint64_t i = 0; i < f->n_tensors; i++) pool += f->tensors[i].name.len + 1;
    m->strings = malloc((size_t)pool);
    m->labels = calloc((size_t)(labels ? labels->n : 0) + 1, sizeof *m->labels);
    m->tensor_names = calloc((size_t)f->n_tensors + 1, sizeof *m->tensor_names);
    if (!m->strings || !m->labels || !m->tensor_names)
        return et__fail(err, ET_ERR_OUT_OF_MEMORY, "model: no memory for %llu bytes of names", (unsigned long long)pool);
    char *cur = m->strings;
    for (uint64_t i = 0, pos = 0; labels && i < labels->n; i++) m->labels[i] = pool_put(&cur, gguf_array_next_str(labels, &pos));
    for (uint64_t i = 0; i < f->n_tensors; i++) m->tensor_names[i] = pool_put(&cur, f->tensors[i].name);
    m->info.name = pool_put(&cur, name.ptr ? name : (gguf_str){"", 0});
    m->info.version = pool_put(&cur, version.ptr ? version : (gguf_str){"0", 1});
    *bytes = pool;
    return ET_OK;
}

/* Entity types of a tagger: "B-PER"/"I-PER" → "PER", as Hugging Face's pipeline reads them. */
static et_status map_entity_types(et_model *m, int64_t n_labels, et_error *err) {
    if (!n_labels) return ET_OK;
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
    return ET_OK;
}

/* ---- loading ---------------------------------------------------------------------------------------- */

/* The sizes et_model_info reports, from the checked hyper-parameters. */
static void fill_sizes(et_model_info *in, const et_hparams *hp, uint64_t n_tensors) {
    in->n_vocab = (int32_t)hp->n_vocab;
    in->n_ctx = (int32_t)hp->n_ctx;
    in->n_embd = (int32_t)hp->n_embd;
    in->n_ff = (int32_t)hp->n_ff;
    in->n_layer = (int32_t)hp->n_layer;
    in->n_head = (int32_t)hp->n_head;
    in->n_head_dim = (int32_t)hp->n_head_dim;
    in->n_token_types = (int32_t)hp->n_types;
    in->n_labels = (int32_t)hp->n_labels;
    in->layer_norm_eps = (float)hp->eps;
    in->n_tensors = (int32_t)n_tensors;
}

/* The loader's steps in order; each checks what it reads before the next one runs. A vocabulary-only
 * model reads the keys and the tokenizer, and neither labels nor tensors. */
static et_status bind_model(et_model *m, et_error *err) {
    const gguf_file *f = &m->gguf;
    et_model_info *in = &m->info;
    const int full = !m->vocab_only;
    et_hparams hp;
    const gguf_array *labels = NULL;
    gguf_str name, version;
    uint64_t tensor_bytes = 0, string_bytes = 0;
    et_status s;
    hp.n_labels = 0;
    in->abstain_label = -1;
    if ((s = read_hparams(f, &hp, err)) || (s = read_task(f, &in->task, err)) ||
        (s = et__model_read_tokenizer(m, &hp, m->vocab_only, err)) ||
        (full && (s = read_labels(f, in->task, &hp, &labels, err))) ||
        (s = read_calibration(f, in, err)) || (s = gguf_get_str(f, "general.name", 0, &name, err)) ||
        (s = gguf_get_str(f, "edgetag.model.version", 0, &version, err)) ||
        (s = read_aggregation(f, &in->aggregation, err)) ||
        (full && (s = read_abstain_label(f, labels, &in->abstain_label, err))) ||
        (full && (s = et__model_bind_tensors(m, &hp, &tensor_bytes, err))) ||
        (s = copy_strings(m, labels, name, version, &string_bytes, err)) ||
        (s = map_entity_types(m, hp.n_labels, err)))
        return s;
    fill_sizes(in, &hp, f->n_tensors);
    in->has_pooler = m->pool_w != NULL && m->pool_b != NULL;
    in->n_out = in->task != ET_TASK_EMBEDDING ? in->n_labels : (in->has_pooler ? in->n_embd : 0);
    const uint64_t owned = tensor_bytes + string_bytes + et_vocab_bytes(&m->vocab) + (m->owned_buffer ? f->size : 0);
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

static et_status load(const void *data, size_t size, void *owned, int pack_in_place, int vocab_only, et_model **out,
                      et_error *error) {
    et_model *m = calloc(1, sizeof *m);
    if (!m) {
        free(owned);
        return et__fail(error, ET_ERR_OUT_OF_MEMORY, "model: no memory for the model");
    }
    m->owned_buffer = owned;
    m->vocab_only = vocab_only;
    et_status s = gguf_parse(&m->gguf, data, size, error);
    if (!s) s = bind_model(m, error);
    if (!s && !vocab_only) s = et__model_pack_linears(m, pack_in_place || owned != NULL, error);
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

et_status et__model_load_owned(void *buffer, size_t size, int vocab_only, et_model **out, et_error *error) {
    return load(buffer, size, buffer, 1, vocab_only, out, error);
}

/* et_model_load_from_buffer and et_model_load_vocab_from_buffer; `fn` names the call in messages. */
static et_status load_buffer(const char *fn, const void *data, size_t size, const et_model_params *params,
                             int vocab_only, et_model **out, et_error *error) {
    if (!out) return et__fail(error, ET_ERR_INVALID_ARGUMENT, "%s: out is NULL", fn);
    *out = NULL;
    if (!data) return et__fail(error, ET_ERR_INVALID_ARGUMENT, "%s: data is NULL", fn);
    const et_model_params p = params ? *params : et_model_default_params();
    if (p.copy_buffer) {
        void *copy = aligned_alloc(16, (size + 15) & ~(size_t)15);
        if (!copy) return et__fail(error, ET_ERR_OUT_OF_MEMORY, "%s: no memory to copy %zu bytes", fn, size);
        memcpy(copy, data, size);
        return load(copy, size, copy, 1, vocab_only, out, error);
    }
    if (((uintptr_t)data & 15u) != 0)
        return et__fail(error, ET_ERR_ALIGNMENT, "%s: buffer at %p is not 16-byte aligned (align it, or set copy_buffer)",
                        fn, data);
    return load(data, size, NULL, p.pack_in_place, vocab_only, out, error);
}

et_status et_model_load_from_buffer(const void *data, size_t size, const et_model_params *params, et_model **out,
                                    et_error *error) {
    return load_buffer("et_model_load_from_buffer", data, size, params, 0, out, error);
}

et_status et_model_load_vocab_from_buffer(const void *data, size_t size, const et_model_params *params, et_model **out,
                                          et_error *error) {
    return load_buffer("et_model_load_vocab_from_buffer", data, size, params, 1, out, error);
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
    free(m->zsums);
    free(m->q4_copies);
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
