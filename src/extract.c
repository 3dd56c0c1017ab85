/*
 * extract.c — et_context_extract and its steps (et_context_extract_begin / _next): a text of any length in the
 * context's fixed memory.
 *
 *   text ─► the tokenizer's stream (tokenizer.h) ─► content tokens held in the tagging block
 *        ─► windows: window w is [CLS] tokens[w·step, w·step + window - 2) [SEP], as et_tokenize_windows makes
 *           them; per_run windows at a time (what max_tokens and max_texts hold) through the encoder
 *        ─► each token's logits from the window where it has the most context on both sides, the earlier on
 *           ties (et_merge_windows's rule); a token that a window still to run also holds waits in the carry
 *           with its best row so far
 *        ─► softmax(logits / T) ─► the decoder (decode.c) ─► entities, in text order
 *
 * The answer is the same as running every window in one batch (tests/c/test_robust.c compares the two).
 */
#include <string.h>

#include "context.h"
#include "internal.h"
#include "model.h"
#include "tagging.h"

static et_status begin(et_context *ctx, const char *text, size_t length, int32_t aggregation, int32_t stride, const char *fn) {
    const et_model *m = ctx->model;
    et_tagging *tg = ctx->tagging;
    et__tagging_forget(tg);
    if (m->info.task != ET_TASK_TOKEN_CLASSIFICATION)
        return et__ctx_fail(ctx, ET_ERR_STATE, "%s: the model is not a token classifier", fn);
    if (aggregation == ET_AGGREGATION_DEFAULT) aggregation = m->info.aggregation;
    if (aggregation < ET_AGGREGATION_NONE || aggregation > ET_AGGREGATION_MAX)
        return et__ctx_fail(ctx, ET_ERR_INVALID_ARGUMENT, "%s: unknown aggregation %d", fn, aggregation);
    if (length > INT32_MAX)
        return et__ctx_fail(ctx, ET_ERR_INPUT, "%s: a text of %zu bytes; at most 2^31 - 1", fn, length);
    const int32_t window = ctx->max_seq < m->info.n_ctx ? ctx->max_seq : m->info.n_ctx;
    if (window < 3) return et__ctx_fail(ctx, ET_ERR_CAPACITY, "%s: windows of %d tokens are too short", fn, window);
    if (stride < 0) stride = (window - 2) / 4;
    if (stride >= window - 2) stride = window - 3;
    et_extraction *x = &tg->x;
    et_error err;
    const et_status s = et_vocab_stream_begin(&x->stream, &m->vocab, text, length, &err);
    if (s) return et__ctx_fail(ctx, s, "%s: %s", fn, err.message);
    const int32_t fit = ctx->max_tokens / window;
    x->active = 1, x->aggregation = aggregation, x->window = window, x->step = window - 2 - stride;
    x->per_run = fit < ctx->max_texts ? fit : ctx->max_texts;
    x->base = x->held = x->next_window = x->next_final = x->carry_from = x->carry_n = x->carry_cur = x->accumulate = 0;
    et__decoder_start(&x->dec, m, aggregation, tg->sums, tg->entities, ctx->max_tokens + 2);
    ctx->error[0] = '\0';
    return ET_OK;
}

/* Tokens [base, end) wanted in the buffer: read from the stream until they are there or the text ends. */
static et_status fill(et_context *ctx, et_extraction *x, int64_t end) {
    et_tagging *tg = ctx->tagging;
    const int32_t cap = ctx->max_tokens + ET_STREAM_ROOM;
    while (!x->stream.done && x->base + x->held < end) {
        const int32_t got = et_vocab_stream_next(&x->stream, tg->tok_ids + x->held, tg->tok_offs + 2 * (size_t)x->held, cap - x->held);
        if (got == 0 && !x->stream.done)
            return et__ctx_fail(ctx, ET_ERR_CAPACITY, "et_context_extract: the text has a run of more than %d tokens with no "
                                "place between words to cut it", cap - x->held);
        x->held += got;
    }
    return ET_OK;
}

/* The next run: the windows that fit, through the encoder; every token no later window holds decoded. */
static et_status step(et_context *ctx) {
    const et_model *m = ctx->model;
    et_tagging *tg = ctx->tagging;
    et_extraction *x = &tg->x;
    const int32_t win = x->window - 2, step = x->step, C = m->info.n_labels;

    /* The buffer keeps tokens from the first window to run on (earlier ones are decoded). */
    const int64_t first0 = (int64_t)x->next_window * step;
    const int32_t drop = (int32_t)(first0 - x->base);
    if (drop > 0) {
        memmove(tg->tok_ids, tg->tok_ids + drop, (size_t)(x->held - drop) * sizeof *tg->tok_ids);
        memmove(tg->tok_offs, tg->tok_offs + 2 * (size_t)drop, (size_t)(x->held - drop) * 2 * sizeof *tg->tok_offs);
        x->base += drop, x->held -= drop;
    }
    et_status s = fill(ctx, x, first0 + (int64_t)(x->per_run - 1) * step + win);
    if (s) return s;

    /* Window w exists while window w - 1 ends before the text's last token; one of `win` needs them all read. */
    const int ended = x->stream.done;
    const int64_t T = x->base + x->held; /* the text's token count once ended */
    int32_t nw = 0, at = 0;
    for (int32_t w = x->next_window; nw < x->per_run; w++) {
        const int64_t first = (int64_t)w * step;
        if (ended ? w > 0 && first - step + win >= T : first + win > T) break;
        const int32_t len = (int32_t)(ended && T - first < win ? T - first : win);
        tg->ids[at] = m->info.cls_id;
        memcpy(tg->ids + at + 1, tg->tok_ids + (first - x->base), (size_t)len * sizeof *tg->ids);
        tg->ids[at + len + 1] = m->info.sep_id;
        tg->lengths[nw++] = len + 2;
        at += len + 2;
    }
    ET_ASSERT(nw > 0);
    const int32_t w_last = x->next_window + nw - 1;
    const int64_t last_first = (int64_t)w_last * step, hi = last_first + tg->lengths[nw - 1] - 2;
    const int last_run = ended && last_first + win >= T;
    if (T == 0) { /* no content token: no window to run, no entity */
        et__decoder_finish(&x->dec);
        x->active = 0;
        return ET_OK;
    }

    const float *logits;
    int32_t rows, cols;
    if ((s = et_context_run(ctx, tg->ids, NULL, tg->lengths, nw)) || (s = et_context_logits(ctx, &logits, &rows, &cols))) return s;

    /* Tokens [next_final, hi): the best row of the carry and of this run's windows; decoded unless a later window
     * holds the token too (from final_hi on), then carried. */
    const int64_t final_hi = last_run ? hi : (int64_t)(w_last + 1) * step;
    const int cur = x->carry_cur;
    for (int64_t t = x->next_final; t < hi; t++) {
        const float *best = NULL;
        int32_t best_score = -1;
        if (t < (int64_t)x->carry_from + x->carry_n) {
            best = tg->carry[cur] + (size_t)(t - x->carry_from) * C;
            best_score = tg->carry_score[cur][t - x->carry_from];
        }
        for (int32_t v = 0, row0 = 0; v < nw; row0 += tg->lengths[v], v++) {
            const int64_t fv = (int64_t)(x->next_window + v) * step, lv = tg->lengths[v] - 2;
            if (t < fv || t >= fv + lv) continue;
            const int64_t left = t - fv, right = fv + lv - 1 - t, score = left < right ? left : right;
            if (score > best_score) best_score = (int32_t)score, best = logits + (size_t)(row0 + 1 + (t - fv)) * C;
        }
        if (t >= final_hi) {
            memcpy(tg->carry[1 - cur] + (size_t)(t - final_hi) * C, best, (size_t)C * sizeof *best);
            tg->carry_score[1 - cur][t - final_hi] = best_score;
            continue;
        }
        if (!et__softmax_row(best, C, m->info.temperature, tg->row))
            return et__ctx_fail(ctx, ET_ERR_NUMERIC, "et_context_extract: the model's logits for token %lld are not finite "
                                "(NaN or infinity): its weights are broken or overflow on this input", (long long)t);
        const size_t i = (size_t)(t - x->base);
        et__decoder_feed(&x->dec, tg->tok_ids[i], tg->tok_offs[2 * i], tg->tok_offs[2 * i + 1], tg->row);
    }
    x->carry_cur = 1 - cur, x->carry_from = (int32_t)final_hi, x->carry_n = (int32_t)(hi - final_hi);
    x->next_final = (int32_t)final_hi, x->next_window = w_last + 1;
    if (last_run) {
        et__decoder_finish(&x->dec);
        x->active = 0;
    }
    if (x->dec.overflow)
        return et__ctx_fail(ctx, ET_ERR_CAPACITY, "et_context_extract: the text has more than %d entities, this context's "
                            "max_tokens; et_context_extract_begin and et_context_extract_next hand them out a part at a time",
                            x->dec.cap);
    return ET_OK;
}

et_status et_context_extract_begin(et_context *ctx, const char *text, size_t length, int32_t aggregation, int32_t stride) {
    if (!ctx) return ET_ERR_INVALID_ARGUMENT;
    return begin(ctx, text, length, aggregation, stride, "et_context_extract_begin");
}

et_status et_context_extract_next(et_context *ctx, const et_entity **entities, int32_t *n_entities, int32_t *escalate,
                                  int32_t *done) {
    if (!ctx) return ET_ERR_INVALID_ARGUMENT;
    et_tagging *tg = ctx->tagging;
    et_extraction *x = &tg->x;
    if (!entities || !n_entities || !done)
        return et__ctx_fail(ctx, ET_ERR_INVALID_ARGUMENT, "et_context_extract_next: NULL outputs");
    if (!x->active)
        return et__ctx_fail(ctx, ET_ERR_STATE, "et_context_extract_next: no extraction under way "
                            "(et_context_extract_begin starts one; it ends after its last step or a failed call)");
    x->dec.n_out = 0;
    const et_status s = step(ctx);
    if (s) return s;
    tg->n_entities = x->dec.n_out;
    *entities = tg->entities;
    *n_entities = x->dec.n_out;
    if (escalate) *escalate = x->dec.escalate;
    *done = !x->active;
    return ET_OK;
}

et_status et_context_extract(et_context *ctx, const char *text, size_t length, int32_t aggregation, int32_t stride,
                             const et_entity **entities, int32_t *n_entities, int32_t *escalate) {
    if (!ctx) return ET_ERR_INVALID_ARGUMENT;
    if (!entities || !n_entities) {
        et__tagging_forget(ctx->tagging);
        return et__ctx_fail(ctx, ET_ERR_INVALID_ARGUMENT, "et_context_extract: NULL outputs");
    }
    et_status s = begin(ctx, text, length, aggregation, stride, "et_context_extract");
    if (s) return s;
    et_extraction *x = &ctx->tagging->x;
    x->accumulate = 1, x->dec.cap = ctx->max_tokens;
    while (x->active)
        if ((s = step(ctx))) return s;
    ctx->tagging->n_entities = x->dec.n_out;
    *entities = ctx->tagging->entities;
    *n_entities = x->dec.n_out;
    if (escalate) *escalate = x->dec.escalate;
    return ET_OK;
}
