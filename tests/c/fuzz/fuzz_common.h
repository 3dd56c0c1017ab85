/*
 * fuzz_common.h — what the libFuzzer targets share: an invariant check that aborts (libFuzzer then keeps the
 * input), a model file copied to aligned memory and loaded, and the small models the targets build once.
 */
#ifndef ET_FUZZ_COMMON_H
#define ET_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#define REQUIRE(cond)                                                                       \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "%s:%d: REQUIRE(%s) failed\n", __FILE__, __LINE__, #cond);      \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

/* A failed call's contract: a status the header declares and a message that is a C string. */
static inline void fuzz_check_error(et_status s, const char *message) {
    REQUIRE(s > ET_OK && s <= ET_ERR_NUMERIC);
    REQUIRE(message != NULL && memchr(message, 0, 256) != NULL);
}

/* The labels and words of the targets' own models. */
static const char *const fuzz_labels[] = {"O", "B-PER", "I-PER", "B-LOC", "I-LOC"};
static const char *const fuzz_words[] = {"john", "##ny", "lives", "in", "new", "york", "##er", "x", "hello", "world", ".", "caf\xc3\xa9",
                                         "##s", "a", "##a", "the"};
#define FUZZ_N_WORDS (int)(sizeof fuzz_words / sizeof fuzz_words[0])

/* A token classifier with random weights over the words above (n_ctx positions). */
static inline tl_model_spec fuzz_tagger_spec(int n_ctx) {
    tl_model_spec s = tl_small_spec();
    s.task = ET_TASK_TOKEN_CLASSIFICATION, s.n_labels = 5, s.label_names = fuzz_labels;
    s.n_vocab = 5 + FUZZ_N_WORDS, s.words = fuzz_words, s.n_ctx = n_ctx, s.threshold = 0.5f;
    return s;
}

#endif /* ET_FUZZ_COMMON_H */
