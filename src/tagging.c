/*
 * tagging.c — text in, labels out: tokenize, run, and decode with the model's calibration.
 *
 *   classify: texts → one ragged batch → softmax(logits / T) per text → best label, escalate flag
 *   extract:  text → windows (when longer than max_seq) → one batch → rows merged per token →
 *             softmax(logits / T) per token → entities, by Hugging Face's token-classification
 *             aggregation strategies (none, simple, first, average, max)
 *
 * Everything lives in the context's arena (context.h); nothing is allocated.
 */
#include <math.h>
#include <string.h>

#include "context.h"
#include "internal.h"
#include "model.h"
#include "tagging.h"

/* p[j] = softmax(logits / t)[j] for one row of n. */
static void softmax_row(const float *logits, int n, float t, float *p) {
    float mx = logits[0];
    for (int j = 1; j < n; j++) mx = logits[j] > mx ? logits[j] : mx;
    float sum = 0.0f;
    for (int j = 0; j < n; j++) sum += (p[j] = expf((logits[j] - mx) / t));
    for (int j = 0; j < n; j++) p[j] /= sum;
}

static int argmax(const float *p, int n) {
    int best = 0;
    for (int j = 1; j < n; j++) best = p[j] > p[best] ? j : best;
    return best;
}

static int below_threshold(const et_model *m, float score) {
    return !isnan(m->info.threshold) && score < m->info.threshold;
}

/* ---- classification ------------------------------------------------------------------------------ */

et_status et_context_classify(et_context *ctx, const char *const *texts, const size_t *lengths, int32_t n_texts) {
    if (!ctx) return ET_ERR_INVALID_ARGUMENT;
    const et_model *m = ctx->model;
    ctx->n_classified = 0;
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
        et_status s = et_tokenize(m, texts[b], lengths[b], NULL, 0, max_len, room > 0 ? ctx->tag_ids + at : NULL,
                                  ctx->tag_types + at, NULL, room, &n, &err);
        if (s == ET_OK && room <= 0) s = ET_ERR_CAPACITY;
        if (s == ET_ERR_CAPACITY)
            return et__ctx_fail(ctx, s, "et_context_classify: the texts need more than the context's %d tokens (max_tokens)",
                                ctx->max_tokens);
        if (s) return et__ctx_fail(ctx, s, "et_context_classify: text %d: %s", b, err.message);
        ctx->tag_lengths[b] = n;
        at += n;
    }
    et_status s = et_context_run(ctx, ctx->tag_ids, ctx->tag_types, ctx->tag_lengths, n_texts);
    if (s) return s;
    const int C = m->info.n_labels;
    for (int32_t b = 0; b < n_texts; b++) {
        float *p = ctx->tag_probs + (size_t)b * C;
        softmax_row(ctx->out + (size_t)b * C, C, m->info.temperature, p);
        const int best = argmax(p, C);
        ctx->tag_label[b] = best;
        ctx->tag_score[b] = p[best];
        ctx->tag_escalate[b] = below_threshold(m, p[best]) || !strcmp(m->labels[best], "oos");
    }
    ctx->n_classified = n_texts;
    return ET_OK;
}

et_status et_context_classification(et_context *ctx, int32_t i, int32_t *label, float *score, const float **probs,
                                    int32_t *escalate) {
    if (!ctx) return ET_ERR_INVALID_ARGUMENT;
    if (i < 0 || i >= ctx->n_classified)
        return et__ctx_fail_keep(ctx, ctx->n_classified ? ET_ERR_INVALID_ARGUMENT : ET_ERR_STATE,
                                 "et_context_classification: no text %d in the last classification (%d texts)", i,
                                 ctx->n_classified);
    if (label) *label = ctx->tag_label[i];
    if (score) *score = ctx->tag_score[i];
    if (probs) *probs = ctx->tag_probs + (size_t)i * ctx->model->info.n_labels;
    if (escalate) *escalate = ctx->tag_escalate[i];
    return ET_OK;
}

/* ---- extraction ------------------------------------------------------------------------------------ */

/* One token (or, for first/average/max, one word) on its way to an entity. */
typedef struct unit {
    int32_t label;   /* the chosen label */
    float score;     /* its probability */
    int32_t start, end;
} unit;

/* Is content token t a piece of the word before it ("##…")? */
static int is_subword(const et_model *m, int32_t id) {
    const char *text;
    int32_t len;
    return et_model_token(m, id, &text, &len) == ET_OK && len > 2 && text[0] == '#' && text[1] == '#';
}

/* An added token the text contained verbatim ([SEP], [MASK] …): no entity, as Hugging Face skips the
 * special tokens. A [UNK] WordPiece produced is a token like the others. */
static int is_special(const et_model *m, int32_t id, int32_t start, int32_t end) {
    const et_model_info *in = &m->info;
    if (id == in->cls_id || id == in->sep_id || id == in->pad_id || id == in->mask_id) return 1;
    if (id != in->unk_id) return 0;
    const char *text;
    int32_t len;
    return et_model_token(m, id, &text, &len) == ET_OK && end - start == len; /* "[UNK]" typed: 5 characters */
}

/* Entities from per-token probabilities — Hugging Face's token-classification pipeline: tokens (none,
 * simple) or words (first, average, max; a word is a token and the "##" pieces after it) become units
 * with a label and score, then units become entities (none: each unit not tagged O; otherwise
 * group(): B- starts an entity, I- of the same type continues it). Added tokens typed in the text get
 * no entity. `scratch` holds n units (16 bytes each). Returns the number of entities written to out. */
int32_t et__decode_entities(const et_model *m, const float *probs, const int32_t *tok_id, const int32_t *tok_off,
                            int32_t n, int32_t aggregation, void *scratch, et_entity *out) {
    const int C = m->info.n_labels;
    unit *u = scratch;
    int32_t nu = 0;
    for (int32_t t = 0; t < n;) {
        const float *p = probs + (size_t)t * C;
        if (is_special(m, tok_id[t], tok_off[2 * t], tok_off[2 * t + 1])) {
            t++;
            continue;
        }
        if (aggregation <= ET_AGGREGATION_SIMPLE) {
            const int best = argmax(p, C);
            u[nu++] = (unit){best, p[best], tok_off[2 * t], tok_off[2 * t + 1]};
            t++;
            continue;
        }
        /* A word: this token and the "##" pieces after it. */
        int32_t e = t + 1;
        while (e < n && is_subword(m, tok_id[e]) && !is_special(m, tok_id[e], tok_off[2 * e], tok_off[2 * e + 1])) e++;
        int best;
        float score;
        if (aggregation == ET_AGGREGATION_FIRST) {
            best = argmax(p, C), score = p[best];
        } else if (aggregation == ET_AGGREGATION_MAX) {
            int32_t top = t;
            for (int32_t i = t + 1; i < e; i++) {
                const float *q = probs + (size_t)i * C, *r = probs + (size_t)top * C;
                if (q[argmax(q, C)] > r[argmax(r, C)]) top = i;
            }
            const float *q = probs + (size_t)top * C;
            best = argmax(q, C), score = q[best];
        } else { /* average: the mean of the tokens' probabilities, label by label */
            best = 0, score = -1.0f;
            for (int j = 0; j < C; j++) {
                double sum = 0;
                for (int32_t i = t; i < e; i++) sum += probs[(size_t)i * C + j];
                const float mean = (float)(sum / (e - t));
                if (mean > score) score = mean, best = j;
            }
        }
        u[nu++] = (unit){best, score, tok_off[2 * t], tok_off[2 * e - 1]};
        t = e;
    }
    int32_t ne = 0;
    if (aggregation == ET_AGGREGATION_NONE) {
        for (int32_t i = 0; i < nu; i++)
            if (m->label_type[u[i].label] >= 0)
                out[ne++] = (et_entity){m->label_type[u[i].label], u[i].label, u[i].score, u[i].start, u[i].end};
        return ne;
    }
    for (int32_t i = 0; i < nu;) {
        const int32_t type = m->label_type[u[i].label];
        int32_t j = i + 1;
        double sum = u[i].score;
        while (j < nu && m->label_type[u[j].label] == type && m->label_bi[u[j].label] != 'B') sum += u[j++].score;
        if (type >= 0) out[ne++] = (et_entity){type, -1, (float)(sum / (j - i)), u[i].start, u[j - 1].end};
        i = j;
    }
    return ne;
}

et_status et_context_extract(et_context *ctx, const char *text, size_t length, int32_t aggregation, int32_t stride,
                             const et_entity **entities, int32_t *n_entities, int32_t *escalate) {
    if (!ctx) return ET_ERR_INVALID_ARGUMENT;
    const et_model *m = ctx->model;
    ctx->n_entities = 0;
    if (m->info.task != ET_TASK_TOKEN_CLASSIFICATION)
        return et__ctx_fail(ctx, ET_ERR_STATE, "et_context_extract: the model is not a token classifier");
    if (aggregation == ET_AGGREGATION_DEFAULT) aggregation = m->info.aggregation;
    if (!entities || !n_entities || aggregation < ET_AGGREGATION_NONE || aggregation > ET_AGGREGATION_MAX)
        return et__ctx_fail(ctx, ET_ERR_INVALID_ARGUMENT, "et_context_extract: NULL outputs or unknown aggregation %d",
                            aggregation);
    const int32_t window = ctx->max_seq < m->info.n_ctx ? ctx->max_seq : m->info.n_ctx;
    if (m->info.n_embd < 4) return et__ctx_fail(ctx, ET_ERR_UNSUPPORTED, "et_context_extract: hidden size below 4");
    if (window < 3) return et__ctx_fail(ctx, ET_ERR_CAPACITY, "et_context_extract: windows of %d tokens are too short", window);
    if (stride < 0) stride = (window - 2) / 4;
    if (stride >= window - 2) stride = window - 3;

    /* Windows, as one batch. */
    et_error err;
    int32_t nt, nw;
    et_status s = et_tokenize_windows(m, text, length, window, stride, ctx->tag_ids, ctx->tag_offsets, ctx->max_tokens,
                                      ctx->tag_lengths, ctx->tag_first, ctx->max_texts, &nt, &nw, &err);
    if (s == ET_ERR_CAPACITY)
        return et__ctx_fail(ctx, s, "et_context_extract: the text needs %d tokens in %d windows; this context takes %d "
                            "tokens and %d texts (max_tokens, max_texts)", nt, nw, ctx->max_tokens, ctx->max_texts);
    if (s) return et__ctx_fail(ctx, s, "%s", err.message);
    if ((s = et_context_run(ctx, ctx->tag_ids, NULL, ctx->tag_lengths, nw))) return s;

    /* One row per content token of the whole text, then probabilities in place. */
    const int C = m->info.n_labels;
    const int32_t n = ctx->tag_first[nw - 1] + ctx->tag_lengths[nw - 1] - 2;
    et_merge_windows(ctx->out, C, ctx->tag_lengths, ctx->tag_first, nw, ctx->tag_probs, n);
    for (int32_t t = 0; t < n; t++) softmax_row(ctx->tag_probs + (size_t)t * C, C, m->info.temperature, ctx->tag_probs + (size_t)t * C);

    /* Each content token's id and offsets, from the first window that holds it (window w's content token
     * j is the whole text's token first[w] + j; windows overlap, and agree on shared tokens). Written
     * into tag_types/tag_offsets, which run() no longer needs, as [t] and [2t]. */
    int32_t *tok_id = ctx->tag_types, *tok_off = ctx->tag_offsets;
    for (int32_t w = 0, row = 0, next = 0; w < nw; row += ctx->tag_lengths[w], w++) {
        for (int32_t j = 0; j < ctx->tag_lengths[w] - 2; j++) {
            const int32_t t = ctx->tag_first[w] + j;
            if (t < next) continue;
            tok_id[t] = ctx->tag_ids[row + 1 + j];
            /* Offsets are read before being overwritten: t <= row + 1 + j, so 2t < 2(row + 1 + j). */
            const int32_t st = ctx->tag_offsets[2 * (row + 1 + j)], en = ctx->tag_offsets[2 * (row + 1 + j) + 1];
            tok_off[2 * t] = st, tok_off[2 * t + 1] = en;
            next = t + 1;
        }
    }

    /* Units live in the queries buffer, free once the run is over: max_tokens rows of H ≥ 4 floats. */
    ctx->n_entities = et__decode_entities(m, ctx->tag_probs, tok_id, tok_off, n, aggregation, ctx->q, ctx->entities);
    int esc = 0;
    for (int32_t i = 0; i < ctx->n_entities; i++) esc |= below_threshold(m, ctx->entities[i].score);
    *entities = ctx->entities;
    *n_entities = ctx->n_entities;
    if (escalate) *escalate = esc;
    return ET_OK;
}
