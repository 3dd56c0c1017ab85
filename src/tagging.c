/*
 * tagging.c — text in, labels out: the tagging block, classification, and the merge of windowed rows.
 *
 *   classify: texts → one ragged batch → softmax(logits / T) per text → best label, escalate flag
 *   extract:  extract.c (windows group by group) and decode.c (entities)
 *
 * Tagging's buffers are its own block (tagging.h says why), made with the context; nothing is allocated
 * by a call. From the encoder it takes only the run's output, through et_context_logits.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "internal.h"
#include "model.h"
#include "tagging.h"

/* ---- the tagging block ----------------------------------------------------------------------------- */

et_status et__tagging_create(int32_t max_tokens, int32_t max_texts, int32_t max_seq, int32_t n_labels, et_tagging **out) {
    *out = NULL;
    const uint64_t T = (uint64_t)max_tokens, B = (uint64_t)max_texts, S = (uint64_t)max_seq;
    const uint64_t C = n_labels > 0 ? (uint64_t)n_labels : 1, held = T + ET_STREAM_ROOM;
    /* All factors are below 2^31, so each product fits in 64 bits; the sum is checked below. */
    uint64_t total = 0;
    et__plan(&total, 1, sizeof(et_tagging)); /* the header itself, at offset 0: the block is freed through it */
    const uint64_t o_ids = et__plan(&total, T, 4), o_types = et__plan(&total, T, 4), o_lengths = et__plan(&total, B, 4);
    const uint64_t o_probs = et__plan(&total, B * C, 4), o_label = et__plan(&total, B, 4);
    const uint64_t o_score = et__plan(&total, B, 4), o_escalate = et__plan(&total, B, 4);
    const uint64_t o_tok = et__plan(&total, held, 4), o_offs = et__plan(&total, 2 * held, 4);
    const uint64_t o_c0 = et__plan(&total, S * C, 4), o_c1 = et__plan(&total, S * C, 4);
    const uint64_t o_s0 = et__plan(&total, S, 4), o_s1 = et__plan(&total, S, 4);
    const uint64_t o_row = et__plan(&total, C, 4), o_sums = et__plan(&total, C, 8);
    const uint64_t o_entities = et__plan(&total, T + 2, sizeof(et_entity));
    if (total > SIZE_MAX - 64) return ET_ERR_OUT_OF_MEMORY;
    char *base = aligned_alloc(64, (size_t)total);
    if (!base) return ET_ERR_OUT_OF_MEMORY;
    et_tagging *t = (et_tagging *)(void *)base;
    *t = (et_tagging){
        .bytes = (size_t)total, .max_tokens = max_tokens, .max_texts = max_texts, .max_seq = max_seq, .n_labels = (int32_t)C,
        .ids = (int32_t *)(void *)(base + o_ids), .types = (int32_t *)(void *)(base + o_types),
        .lengths = (int32_t *)(void *)(base + o_lengths), .probs = (float *)(void *)(base + o_probs),
        .label = (int32_t *)(void *)(base + o_label), .score = (float *)(void *)(base + o_score),
        .escalate = (int32_t *)(void *)(base + o_escalate), .tok_ids = (int32_t *)(void *)(base + o_tok),
        .tok_offs = (int32_t *)(void *)(base + o_offs),
        .carry = {(float *)(void *)(base + o_c0), (float *)(void *)(base + o_c1)},
        .carry_score = {(int32_t *)(void *)(base + o_s0), (int32_t *)(void *)(base + o_s1)},
        .row = (float *)(void *)(base + o_row), .sums = (double *)(void *)(base + o_sums),
        .entities = (et_entity *)(void *)(base + o_entities),
    };
    *out = t;
    return ET_OK;
}

void et__tagging_free(et_tagging *t) { free(t); }

size_t et__tagging_bytes(const et_tagging *t) { return t ? t->bytes : 0; }

void et__tagging_forget(et_tagging *t) {
    if (t) t->n_classified = 0, t->n_entities = 0, t->x.active = 0;
}

/* ---- shared steps ----------------------------------------------------------------------------------- */

int et__softmax_row(const float *logits, int n, float t, float *p) {
    float mx = logits[0];
    for (int j = 0; j < n; j++) {
        if (!isfinite(logits[j])) return 0;
        mx = logits[j] > mx ? logits[j] : mx;
    }
    float sum = 0.0f;
    for (int j = 0; j < n; j++) sum += (p[j] = expf((logits[j] - mx) / t));
    for (int j = 0; j < n; j++) p[j] /= sum;
    return 1;
}

int et__argmax(const float *p, int n) {
    int best = 0;
    for (int j = 1; j < n; j++) best = p[j] > p[best] ? j : best;
    return best;
}

int et__below_threshold(const et_model *m, float score) {
    return !isnan(m->info.threshold) && score < m->info.threshold;
}

/* ---- windows ------------------------------------------------------------------------------------- */

/* A long text runs as overlapping windows (et_tokenize_windows); its per-token rows are merged back here,
 * each token from the window where it has the most context. Public (include/edgetag.h) for hosts that
 * run windows themselves; extract uses it below. */
et_status et_merge_windows(const float *rows, int32_t cols, const int32_t *lengths, const int32_t *first_token,
                           int32_t n_windows, float *out, int32_t n_content) {
    if (!rows || !lengths || !first_token || !out || cols < 1 || n_windows < 1 || n_content < 0)
        return ET_ERR_INVALID_ARGUMENT;
    if (first_token[0] != 0 || first_token[n_windows - 1] + lengths[n_windows - 1] - 2 != n_content)
        return ET_ERR_INVALID_ARGUMENT;
    for (int32_t w = 0; w < n_windows; w++)
        if (lengths[w] < 2 || (w > 0 && (first_token[w] <= first_token[w - 1] ||
                                          first_token[w] > first_token[w - 1] + lengths[w - 1] - 2)))
            return ET_ERR_INVALID_ARGUMENT; /* not windows that cover the text in order */
    /* Windows advance in order, so the best window for token t is found by moving forward. */
    int64_t row0 = 0;  /* first row of window w */
    int32_t w = 0;
    for (int32_t t = 0; t < n_content; t++) {
        while (first_token[w] + lengths[w] - 2 <= t) row0 += lengths[w], w++; /* t is past window w */
        int32_t best = w;
        int64_t best_row0 = row0, r0 = row0;
        int32_t best_score = -1;
        for (int32_t v = w; v < n_windows && first_token[v] <= t; v++) {
            const int32_t left = t - first_token[v], right = first_token[v] + lengths[v] - 3 - t;
            const int32_t score = left < right ? left : right;
            if (score > best_score) best_score = score, best = v, best_row0 = r0;
            r0 += lengths[v];
        }
        const float *src = rows + (size_t)(best_row0 + 1 + (t - first_token[best])) * (size_t)cols;
        memcpy(out + (size_t)t * (size_t)cols, src, (size_t)cols * sizeof *out);
    }
    return ET_OK;
}

/* ---- classification ------------------------------------------------------------------------------ */

et_status et_context_classify(et_context *ctx, const char *const *texts, const size_t *lengths, int32_t n_texts) {
    if (!ctx) return ET_ERR_INVALID_ARGUMENT;
    const et_model *m = ctx->model;
    et_tagging *tg = ctx->tagging;
    et__tagging_forget(tg);
    if (m->info.task != ET_TASK_SEQUENCE_CLASSIFICATION)
        return et__ctx_fail(ctx, ET_ERR_STATE, "et_context_classify: the model is not a sequence classifier");
    if (!texts || !lengths) return et__ctx_fail(ctx, ET_ERR_INVALID_ARGUMENT, "et_context_classify: NULL texts");
    if (n_texts < 1 || n_texts > ctx->max_texts)
        return et__ctx_fail(ctx, n_texts < 1 ? ET_ERR_INPUT : ET_ERR_CAPACITY,
                            "et_context_classify: %d texts; this context takes 1 to %d", n_texts, ctx->max_texts);
    const int32_t max_len = ctx->max_seq < m->info.n_ctx ? ctx->max_seq : m->info.n_ctx;
    int32_t at = 0;
    for (int32_t b = 0; b < n_texts; b++) {
        et_error err;
        int32_t n;
        const int32_t room = ctx->max_tokens - at;
        et_status s = et_tokenize(m, texts[b], lengths[b], NULL, 0, max_len, room > 0 ? tg->ids + at : NULL,
                                  tg->types + at, NULL, room, &n, &err);
        if (s == ET_OK && room <= 0) s = ET_ERR_CAPACITY;
        if (s == ET_ERR_CAPACITY)
            return et__ctx_fail(ctx, s, "et_context_classify: the texts need more than the context's %d tokens (max_tokens)",
                                ctx->max_tokens);
        if (s) return et__ctx_fail(ctx, s, "et_context_classify: text %d: %s", b, err.message);
        tg->lengths[b] = n;
        at += n;
    }
    et_status s = et_context_run(ctx, tg->ids, tg->types, tg->lengths, n_texts);
    const float *logits;
    int32_t rows, C;
    if (s || (s = et_context_logits(ctx, &logits, &rows, &C))) return s;
    for (int32_t b = 0; b < n_texts; b++) {
        float *p = tg->probs + (size_t)b * C;
        if (!et__softmax_row(logits + (size_t)b * C, C, m->info.temperature, p))
            return et__ctx_fail(ctx, ET_ERR_NUMERIC, "et_context_classify: the model's logits for text %d are not finite "
                                "(NaN or infinity): its weights are broken or overflow on this input", b);
        const int best = et__argmax(p, C);
        tg->label[b] = best;
        tg->score[b] = p[best];
        tg->escalate[b] = et__below_threshold(m, p[best]) || best == m->info.abstain_label;
    }
    tg->n_classified = n_texts;
    return ET_OK;
}

et_status et_context_classification(et_context *ctx, int32_t i, int32_t *label, float *score, const float **probs,
                                    int32_t *escalate) {
    if (!ctx) return ET_ERR_INVALID_ARGUMENT;
    const et_tagging *tg = ctx->tagging;
    if (i < 0 || i >= tg->n_classified)
        return et__ctx_fail_keep(ctx, tg->n_classified ? ET_ERR_INVALID_ARGUMENT : ET_ERR_STATE,
                                 "et_context_classification: no text %d in the last classification (%d texts)", i,
                                 tg->n_classified);
    if (label) *label = tg->label[i];
    if (score) *score = tg->score[i];
    if (probs) *probs = tg->probs + (size_t)i * ctx->model->info.n_labels;
    if (escalate) *escalate = tg->escalate[i];
    return ET_OK;
}

