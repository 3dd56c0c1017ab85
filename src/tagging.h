/*
 * tagging.h — text in, labels out (tagging.c, which also holds et_context_classify, et_context_extract and
 * et_merge_windows of include/edgetag.h): the tagging block a context owns, and the entity decoder,
 * exposed for its unit tests. Private.
 *
 * Why a block of its own: tagging keeps the tokens it makes, the calibrated probabilities and the results
 * it hands out (et_context_classification, et_context_extract's entities) in one allocation planned by
 * tagging.c, apart from the encoder's arena (context.h). The two hold different things for different
 * times: the arena is the forward pass's working memory, rewritten by every run, while a classification
 * or an entity list stays readable until the next tagging call. Tagging reads the encoder only through
 * its output (et_context_logits) and never uses an arena buffer as scratch, so the encoder's plan can
 * change without breaking tagging. The context makes the block when it is made, from the same limits,
 * and owns it through one pointer: classify and extract allocate nothing.
 */
#ifndef ET_TAGGING_H
#define ET_TAGGING_H

#include <stddef.h>
#include <stdint.h>

#include "edgetag.h"

/* The tagging block; its layout is tagging.c's. */
typedef struct et_tagging et_tagging;

/* Makes the block for a context of max_tokens tokens and max_texts texts on a model of n_labels labels
 * (all > 0 but n_labels, which is 0 for an embedding model). ET_ERR_OUT_OF_MEMORY when it cannot be had. */
et_status et__tagging_create(int32_t max_tokens, int32_t max_texts, int32_t n_labels, et_tagging **out);

/* Frees the block. NULL is a no-op. */
void et__tagging_free(et_tagging *t);

/* Bytes of the block (part of et_context_memory). */
size_t et__tagging_bytes(const et_tagging *t);

/* Drops the last classification and entities: they are no longer readable. A failed call on the context
 * does this (et__ctx_fail). NULL is a no-op. */
void et__tagging_forget(et_tagging *t);

/* Bytes of one unit of the entity decoder's scratch (a token or a word with its label). */
#define ET_TAGGING_UNIT_BYTES 16

/* Entities from n tokens' probabilities [n][n_labels], ids and code-point offsets [2n] (see tagging.c).
 * scratch: room for n units of ET_TAGGING_UNIT_BYTES; out: room for n entities. Returns the count. */
int32_t et__decode_entities(const et_model *m, const float *probs, const int32_t *ids, const int32_t *offsets, int32_t n,
                            int32_t aggregation, void *scratch, et_entity *out);

#endif /* ET_TAGGING_H */
