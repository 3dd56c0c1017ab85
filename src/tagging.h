/*
 * tagging.h — text in, labels out: the tagging block a context owns, the streaming entity decoder and the
 * extraction stream. Private. Three files share it:
 *
 *   tagging.c   the block, classify, et_merge_windows
 *   decode.c    token probabilities → entities, one token at a time (Hugging Face's aggregations)
 *   extract.c   et_context_extract(_begin/_next): a text of any length, window group by window group
 *
 * Why a block of its own: tagging keeps the tokens it makes, the calibrated probabilities and the results
 * it hands out (et_context_classification, et_context_extract's entities) in one allocation planned by
 * tagging.c, apart from the encoder's arena (context.h). The two hold different things for different
 * times: the arena is the forward pass's working memory, rewritten by every run, while a classification
 * or an entity list stays readable until the next tagging call. Tagging reads the encoder only through
 * its output (et_context_logits) and never uses an arena buffer as scratch, so the encoder's plan can
 * change without breaking tagging. The context makes the block when it is made, from the same limits,
 * and owns it through one pointer: classify and extract allocate nothing, whatever the text's length.
 */
#ifndef ET_TAGGING_H
#define ET_TAGGING_H

#include <stddef.h>
#include <stdint.h>

#include "edgetag.h"
#include "tokenizer.h"

/* ---- the entity decoder ------------------------------------------------------------------------------- */

/* Token probabilities become entities as Hugging Face's token-classification pipeline makes them: tokens
 * (aggregation none, simple) or words (first, average, max; a word is a token and the continuation pieces
 * after it) become units with a label and a score; units become entities (none: each unit not tagged O;
 * otherwise B- starts an entity and I- of the same type continues it). Added tokens typed in the text make
 * no unit, end a word and do not break an entity. Fed one token at a time, it keeps only the open word and
 * the open entity, so a text of any length decodes in fixed memory. */
typedef struct et_decoder {
    const struct et_model *m;
    int32_t aggregation, n_labels;
    double *sums;               /* [C] average: the open word's probabilities summed label by label */
    et_entity *out;             /* where entities go: out[n_out++], at most cap */
    int32_t n_out, cap;
    int32_t overflow;           /* an entity did not fit in out */
    int32_t escalate;           /* an entity so far is below the model's threshold */
    /* The open word (first, average, max). */
    int32_t w_open, w_tokens, w_start, w_end, w_label;
    float w_score;
    /* The open entity (simple, first, average, max). */
    int32_t g_open, g_type, g_start, g_end, g_units;
    double g_sum;
} et_decoder;

/* Starts decoding with `aggregation` (not DEFAULT) into out[cap]; sums: room for n_labels doubles. */
void et__decoder_start(et_decoder *d, const struct et_model *m, int32_t aggregation, double *sums, et_entity *out, int32_t cap);

/* One content token: its id, [start, end) in code points, and its n_labels probabilities. */
void et__decoder_feed(et_decoder *d, int32_t id, int32_t start, int32_t end, const float *probs);

/* The text has ended: the open word and entity are closed. */
void et__decoder_finish(et_decoder *d);

/* Bytes of one unit of et__decode_entities' scratch (kept for its callers; the decoder needs none). */
#define ET_TAGGING_UNIT_BYTES 16

/* Entities from n tokens' probabilities [n][n_labels], ids and code-point offsets [2n], all at once (the
 * decoder above, fed every token). scratch: room for n units of ET_TAGGING_UNIT_BYTES and for n_labels doubles
 * (the decoder's sums); out: room for n entities. Returns the count. */
int32_t et__decode_entities(const struct et_model *m, const float *probs, const int32_t *ids, const int32_t *offsets,
                            int32_t n, int32_t aggregation, void *scratch, et_entity *out);

/* ---- the tagging block ----------------------------------------------------------------------------------- */

/* The extraction stream (extract.c): windows of `window` tokens every `step` content tokens, `per_run` of them
 * through the encoder at a time. Tokens come from the tokenizer's stream into a buffer that holds the content
 * tokens [base, base + held); a token's probabilities are final once no window still to run holds it; until
 * then the best row so far (et_merge_windows's rule) waits in the carry. */
typedef struct et_extraction {
    int32_t active;             /* 1 between a successful begin and the last step */
    int32_t aggregation, window, step, per_run;
    et_token_stream stream;
    int32_t base, held;         /* content tokens in the buffer: [base, base + held) of the text's */
    int32_t next_window;        /* the next window to run */
    int32_t next_final;         /* the first token whose probabilities are not final yet */
    int32_t carry_from, carry_n; /* the carry: best rows so far of tokens [carry_from, carry_from + carry_n) */
    int32_t carry_cur;          /* which of the two carry buffers holds them */
    int32_t accumulate;         /* et_context_extract: keep every step's entities */
    et_decoder dec;
} et_extraction;

/* Views into the block; T = the context's max_tokens, B = max_texts, S = max_seq, C = n_labels (at least 1). */
typedef struct et_tagging {
    size_t bytes;          /* of the block, this header included */
    int32_t max_tokens, max_texts, max_seq, n_labels;
    int32_t *ids, *types;  /* [T] the batch's tokens (classify), or the windows' (extract) */
    int32_t *lengths;      /* [B] tokens per text or window */
    float *probs;          /* [B][C] classify: calibrated probabilities */
    int32_t *label;        /* [B] classify: best label per text */
    float *score;          /* [B] its probability */
    int32_t *escalate;     /* [B] and whether it should go to the cloud */
    int32_t *tok_ids;      /* [T + ET_STREAM_ROOM] extract: the text's content tokens held */
    int32_t *tok_offs;     /* [2 (T + ET_STREAM_ROOM)] their code-point offsets */
    float *carry[2];       /* [S][C] each: best rows so far (one read while the other is written) */
    int32_t *carry_score[2]; /* [S] their windows' context (et_merge_windows's score) */
    float *row;            /* [C] one token's probabilities */
    double *sums;          /* [C] the decoder's */
    et_entity *entities;   /* [T + 2] extract: the entities of a step, or of the whole text */
    int32_t n_classified;  /* texts of the last successful classify; 0 after a failed call */
    int32_t n_entities;    /* entities of the last successful extract; 0 after a failed call */
    et_extraction x;
} et_tagging;

/* Makes the block for a context of max_tokens tokens, max_texts texts and max_seq tokens per text on a model of
 * n_labels labels (all > 0 but n_labels, which is 0 for an embedding model). ET_ERR_OUT_OF_MEMORY when it cannot
 * be had. */
et_status et__tagging_create(int32_t max_tokens, int32_t max_texts, int32_t max_seq, int32_t n_labels, et_tagging **out);

/* Frees the block. NULL is a no-op. */
void et__tagging_free(et_tagging *t);

/* Bytes of the block (part of et_context_memory). */
size_t et__tagging_bytes(const et_tagging *t);

/* Drops the last classification and entities and ends an extraction stream: they are no longer readable. A
 * failed call on the context does this (et__ctx_fail), and so does every tagging call. NULL is a no-op. */
void et__tagging_forget(et_tagging *t);

/* The shared steps of classify and extract: p = softmax(logits / t) over n (0 when a logit is not finite: the
 * caller fails with ET_ERR_NUMERIC), the best index, and whether a score is below the model's threshold. */
int et__softmax_row(const float *logits, int n, float t, float *p);
int et__argmax(const float *p, int n);
int et__below_threshold(const struct et_model *m, float score);

#endif /* ET_TAGGING_H */
