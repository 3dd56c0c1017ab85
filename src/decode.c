/*
 * decode.c — token probabilities → entities, as Hugging Face's token-classification pipeline makes them, one
 * token at a time (tagging.h has the contract).
 *
 *   token ─► unit: the token itself (none, simple), or its word (first: the first token's label; average: the
 *            label of the tokens' mean probabilities; max: the label of the most confident token)
 *   unit  ─► entity: none: every unit not tagged O; otherwise B- starts an entity and I- of the same type
 *            continues it, the entity's score being the mean of its units'
 *
 * Only the open word and the open entity are kept, so the memory is the same for any text's length.
 */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "model.h"
#include "tagging.h"

void et__decoder_start(et_decoder *d, const et_model *m, int32_t aggregation, double *sums, et_entity *out, int32_t cap) {
    *d = (et_decoder){.m = m, .aggregation = aggregation, .n_labels = m->info.n_labels, .sums = sums, .out = out, .cap = cap};
}

static void put(et_decoder *d, int32_t type, int32_t label, float score, int32_t start, int32_t end) {
    if (d->n_out == d->cap) {
        d->overflow = 1;
        return;
    }
    d->out[d->n_out++] = (et_entity){type, label, score, start, end};
    d->escalate |= et__below_threshold(d->m, score);
}

static void close_entity(et_decoder *d) {
    if (d->g_open && d->g_type >= 0) put(d, d->g_type, -1, (float)(d->g_sum / d->g_units), d->g_start, d->g_end);
    d->g_open = 0;
}

/* A unit: with none an entity of its own; otherwise it continues the open entity (same type, not B-) or
 * starts one. O units group like the others, and their groups are dropped. */
static void unit(et_decoder *d, int32_t label, float score, int32_t start, int32_t end) {
    const et_model *m = d->m;
    const int32_t type = m->label_type[label];
    if (d->aggregation == ET_AGGREGATION_NONE) {
        if (type >= 0) put(d, type, label, score, start, end);
        return;
    }
    if (d->g_open && type == d->g_type && m->label_bi[label] != 'B') {
        d->g_sum += score, d->g_units++, d->g_end = end;
        return;
    }
    close_entity(d);
    d->g_open = 1, d->g_type = type, d->g_start = start, d->g_end = end, d->g_units = 1, d->g_sum = score;
}

static void close_word(et_decoder *d) {
    if (!d->w_open) return;
    d->w_open = 0;
    if (d->aggregation == ET_AGGREGATION_AVERAGE) { /* the mean of the tokens' probabilities, label by label */
        int best = 0;
        float score = -1.0f;
        for (int j = 0; j < d->n_labels; j++) {
            const float mean = (float)(d->sums[j] / d->w_tokens);
            if (mean > score) score = mean, best = j;
        }
        d->w_label = best, d->w_score = score;
    }
    unit(d, d->w_label, d->w_score, d->w_start, d->w_end);
}

/* Is the token a piece of the word before it ("##…", or in llama.cpp's spelling not "▁…")? */
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

void et__decoder_feed(et_decoder *d, int32_t id, int32_t start, int32_t end, const float *p) {
    const et_model *m = d->m;
    const int C = d->n_labels;
    if (is_special(m, id, start, end)) { /* skipped: it ends a word, and leaves the open entity open */
        close_word(d);
        return;
    }
    const int best = et__argmax(p, C);
    if (d->aggregation <= ET_AGGREGATION_SIMPLE) {
        unit(d, best, p[best], start, end);
        return;
    }
    if (d->w_open && is_subword(m, id)) { /* the word goes on */
        d->w_tokens++, d->w_end = end;
        if (d->aggregation == ET_AGGREGATION_MAX && p[best] > d->w_score) d->w_label = best, d->w_score = p[best];
        if (d->aggregation == ET_AGGREGATION_AVERAGE)
            for (int j = 0; j < C; j++) d->sums[j] += p[j];
        return;
    }
    close_word(d);
    d->w_open = 1, d->w_tokens = 1, d->w_start = start, d->w_end = end, d->w_label = best, d->w_score = p[best];
    if (d->aggregation == ET_AGGREGATION_AVERAGE)
        for (int j = 0; j < C; j++) d->sums[j] = p[j];
}

void et__decoder_finish(et_decoder *d) {
    close_word(d);
    close_entity(d);
}

int32_t et__decode_entities(const et_model *m, const float *probs, const int32_t *ids, const int32_t *offsets, int32_t n,
                            int32_t aggregation, void *scratch, et_entity *out) {
    et_decoder d;
    et__decoder_start(&d, m, aggregation, scratch, out, n + 1);
    for (int32_t t = 0; t < n; t++) et__decoder_feed(&d, ids[t], offsets[2 * t], offsets[2 * t + 1], probs + (size_t)t * m->info.n_labels);
    et__decoder_finish(&d);
    return d.n_out;
}
