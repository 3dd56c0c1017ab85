/*
 * tagging.c — text in, labels out: tokenize, run, and decode with the model's calibration.
 *
 *   classify: texts → one ragged batch → softmax(logits / T) per text → best label, escalate flag
 *   extract:  text → windows (when longer than max_seq) → one batch → rows merged per token →
 *             softmax(logits / T) per token → entities, by Hugging Face's token-classification
 *             aggregation strategies (none, simple, first, average, max)
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

struct et_tagging {
    size_t bytes;          /* of the block, this header included */
    /* Views into the block; T = the context's max_tokens, B = max_texts, C = n_labels (at least 1). */
    int32_t *ids, *types;  /* [T] the batch's (or the windows') tokens */
    int32_t *offsets;      /* [2T] their code-point offsets */
    int32_t *lengths;      /* [B] tokens per text or window */
    int32_t *first;        /* [B] windows: first content token in the whole text */
    float *probs;          /* [max(T, B)][C] calibrated probabilities */
    int32_t *label;        /* [B] classify: best label per text */
    float *score;          /* [B] its probability */
    int32_t *escalate;     /* [B] and whether it should go to the cloud */
    void *units;           /* [T] extract: the decoder's scratch, ET_TAGGING_UNIT_BYTES each */
    et_entity *entities;   /* [T] extract: the entities of the last text */
    int32_t n_classified;  /* texts of the last successful classify; 0 after a failed call */
    int32_t n_entities;    /* entities of the last successful extract; 0 after a failed call */
};

et_status et__tagging_create(int32_t max_tokens, int32_t max_texts, int32_t n_labels, et_tagging **out) {
    *out = NULL;
    const uint64_t T = (uint64_t)max_tokens, B = (uint64_t)max_texts, C = n_labels > 0 ? (uint64_t)n_labels : 1;
    /* All factors are below 2^31, so each product fits in 64 bits; the sum is checked below. */
    uint64_t total = 0;
    et__plan(&total, 1, sizeof(et_tagging)); /* the header itself, at offset 0: the block is freed through it */
    const uint64_t o_ids = et__plan(&total, T, 4), o_types = et__plan(&total, T, 4);
    const uint64_t o_offsets = et__plan(&total, 2 * T, 4), o_lengths = et__plan(&total, B, 4);
    const uint64_t o_first = et__plan(&total, B, 4), o_probs = et__plan(&total, (T > B ? T : B) * C, 4);
    const uint64_t o_label = et__plan(&total, B, 4), o_score = et__plan(&total, B, 4);
    const uint64_t o_escalate = et__plan(&total, B, 4), o_units = et__plan(&total, T, ET_TAGGING_UNIT_BYTES);
    const uint64_t o_entities = et__plan(&total, T, sizeof(et_entity));
    if (total > SIZE_MAX - 64) return ET_ERR_OUT_OF_MEMORY;
    char *base = aligned_alloc(64, (size_t)total);
    if (!base) return ET_ERR_OUT_OF_MEMORY;
    et_tagging *t = (et_tagging *)(void *)base;
    *t = (et_tagging){
        .bytes = (size_t)total,
        .ids = (int32_t *)(void *)(base + o_ids), .types = (int32_t *)(void *)(base + o_types),
        .offsets = (int32_t *)(void *)(base + o_offsets), .lengths = (int32_t *)(void *)(base + o_lengths),
        .first = (int32_t *)(void *)(base + o_first), .probs = (float *)(void *)(base + o_probs),
        .label = (int32_t *)(void *)(base + o_label), .score = (float *)(void *)(base + o_score),
        .escalate = (int32_t *)(void *)(base + o_escalate), .units = base + o_units,
        .entities = (et_entity *)(void *)(base + o_entities),
    };
    *out = t;
    return ET_OK;
}

void et__tagging_free(et_tagging *t) { free(t); }

size_t et__tagging_bytes(const et_tagging *t) { return t ? t->bytes : 0; }

void et__tagging_forget(et_tagging *t) {
    if (t) t->n_classified = 0, t->n_entities = 0;
}

/* ---- shared steps ----------------------------------------------------------------------------------- */

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
    tg->n_classified = 0;
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
        softmax_row(logits + (size_t)b * C, C, m->info.temperature, p);
        const int best = argmax(p, C);
        tg->label[b] = best;
        tg->score[b] = p[best];
        tg->escalate[b] = below_threshold(m, p[best]) || best == m->info.abstain_label;
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

/* ---- extraction ------------------------------------------------------------------------------------ */

/* One token (or, for first/average/max, one word) on its way to an entity. */
typedef struct unit {
    int32_t label;   /* the chosen label */
    float score;     /* its probability */
    int32_t start, end;
} unit;
_Static_assert(sizeof(unit) == ET_TAGGING_UNIT_BYTES, "the tagging block plans units of ET_TAGGING_UNIT_BYTES");

/* Is content token t a piece of the word before it ("##…", or in llama.cpp's spelling not "▁…")? */
static int is_subword(const et_model *m, int32_t id) {
    return id >= 0 && (uint32_t)id < m->vocab.n && et_vocab_is_continuation(&m->vocab, id);
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
 * simple) or words (first, average, max; a word is a token and the continuation pieces after it) become units
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
        /* A word: this token and the continuation pieces after it. */
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
    et_tagging *tg = ctx->tagging;
    tg->n_entities = 0;
    if (m->info.task != ET_TASK_TOKEN_CLASSIFICATION)
        return et__ctx_fail(ctx, ET_ERR_STATE, "et_context_extract: the model is not a token classifier");
    if (aggregation == ET_AGGREGATION_DEFAULT) aggregation = m->info.aggregation;
    if (!entities || !n_entities || aggregation < ET_AGGREGATION_NONE || aggregation > ET_AGGREGATION_MAX)
        return et__ctx_fail(ctx, ET_ERR_INVALID_ARGUMENT, "et_context_extract: NULL outputs or unknown aggregation %d",
                            aggregation);
    const int32_t window = ctx->max_seq < m->info.n_ctx ? ctx->max_seq : m->info.n_ctx;
    if (window < 3) return et__ctx_fail(ctx, ET_ERR_CAPACITY, "et_context_extract: windows of %d tokens are too short", window);
    if (stride < 0) stride = (window - 2) / 4;
    if (stride >= window - 2) stride = window - 3;

    /* Windows, as one batch. */
    et_error err;
    int32_t nt, nw;
    et_status s = et_tokenize_windows(m, text, length, window, stride, tg->ids, tg->offsets, ctx->max_tokens, tg->lengths,
                                      tg->first, ctx->max_texts, &nt, &nw, &err);
    if (s == ET_ERR_CAPACITY)
        return et__ctx_fail(ctx, s, "et_context_extract: the text needs %d tokens in %d windows; this context takes %d "
                            "tokens and %d texts (max_tokens, max_texts)", nt, nw, ctx->max_tokens, ctx->max_texts);
    if (s) return et__ctx_fail(ctx, s, "%s", err.message);
    const float *logits;
    int32_t rows, C;
    if ((s = et_context_run(ctx, tg->ids, NULL, tg->lengths, nw)) || (s = et_context_logits(ctx, &logits, &rows, &C)))
        return s;

    /* One row per content token of the whole text, then probabilities in place. */
    const int32_t n = tg->first[nw - 1] + tg->lengths[nw - 1] - 2;
    et_merge_windows(logits, C, tg->lengths, tg->first, nw, tg->probs, n);
    for (int32_t t = 0; t < n; t++) softmax_row(tg->probs + (size_t)t * C, C, m->info.temperature, tg->probs + (size_t)t * C);

    /* Each content token's id and offsets, from the first window that holds it (window w's content token
     * j is the whole text's token first[w] + j; windows overlap, and agree on shared tokens). Written
     * into types/offsets, which the run no longer needs, as [t] and [2t]. */
    int32_t *tok_id = tg->types, *tok_off = tg->offsets;
    for (int32_t w = 0, row = 0, next = 0; w < nw; row += tg->lengths[w], w++) {
        for (int32_t j = 0; j < tg->lengths[w] - 2; j++) {
            const int32_t t = tg->first[w] + j;
            if (t < next) continue;
            tok_id[t] = tg->ids[row + 1 + j];
            /* Offsets are read before being overwritten: t <= row + 1 + j, so 2t < 2(row + 1 + j). */
            const int32_t st = tg->offsets[2 * (row + 1 + j)], en = tg->offsets[2 * (row + 1 + j) + 1];
            tok_off[2 * t] = st, tok_off[2 * t + 1] = en;
            next = t + 1;
        }
    }

    tg->n_entities = et__decode_entities(m, tg->probs, tok_id, tok_off, n, aggregation, tg->units, tg->entities);
    int esc = 0;
    for (int32_t i = 0; i < tg->n_entities; i++) esc |= below_threshold(m, tg->entities[i].score);
    *entities = tg->entities;
    *n_entities = tg->n_entities;
    if (escalate) *escalate = esc;
    return ET_OK;
}
