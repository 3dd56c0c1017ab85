/*
 * tagging.h — the decoding step of et_context_extract, exposed for its unit tests. Private.
 */
#ifndef ET_TAGGING_H
#define ET_TAGGING_H

#include "edgetag.h"

/* Entities from n tokens' probabilities [n][n_labels], ids and code-point offsets [2n] (see tagging.c).
 * scratch: room for n units of 16 bytes; out: room for n entities. Returns the count. */
int32_t et__decode_entities(const et_model *m, const float *probs, const int32_t *ids, const int32_t *offsets, int32_t n,
                            int32_t aggregation, void *scratch, et_entity *out);

#endif /* ET_TAGGING_H */
