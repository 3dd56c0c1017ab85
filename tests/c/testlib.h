/*
 * testlib.h — what the native tests share: checks that count failures and keep going, a seeded RNG,
 * allocation counters (the test binaries link with -Wl,--wrap=malloc,…), and a builder of small BERT
 * GGUF files made in memory, so every loader path can be exercised without files.
 */
#ifndef ET_TESTLIB_H
#define ET_TESTLIB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "edgetag.h"

/* ---- checks ------------------------------------------------------------------------------------ */
extern int tl_failures;
extern int tl_checks;

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        tl_checks++;                                                        \
        if (!(cond)) {                                                      \
            tl_failures++;                                                  \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                   \
            fputc('\n', stderr);                                            \
        }                                                                   \
    } while (0)

/* Prints the summary; returns the process exit status. */
int tl_finish(const char *name);

/* ---- random numbers (xorshift64*, seeded) ----------------------------------------------------- */
typedef struct tl_rng {
    uint64_t s;
} tl_rng;
uint64_t tl_next(tl_rng *r);
float tl_uniform(tl_rng *r, float lo, float hi); /* [lo, hi) */
int tl_int(tl_rng *r, int lo, int hi);           /* [lo, hi] */

/* ---- allocation counters ---------------------------------------------------------------------- */
/* Calls to malloc/calloc/realloc/aligned_alloc made by any code since the program started. */
long tl_alloc_calls(void);
/* When set to n > 0, the n-th allocation from now fails (returns NULL), once. */
void tl_fail_allocation(long n);
/* The largest size asked of an allocation since the last reset (or the start). */
size_t tl_alloc_largest(void);
void tl_alloc_largest_reset(void);

/* ---- in-memory BERT GGUF files ----------------------------------------------------------------- */
typedef struct tl_model_spec {
    int n_layer, n_embd, n_head, n_ff, n_ctx, n_vocab, n_types;
    float eps;
    int task;            /* et_task */
    int n_labels;
    int with_pooler;
    int weight_type;     /* GGUF type of the 2-D tensors: 0 F32, 1 F16, 8 Q8_0 */
    int round_to;        /* with F32: round 2-D weights as `weight_type` would (0 none, 1 f16, 8 q8_0) */
    uint32_t alignment;  /* general.alignment to write; 0 = key absent (default 32) */
    uint32_t version;    /* GGUF version to write (3) */
    uint64_t seed;
    const char *skip_tensor;  /* name of a tensor to leave out, or NULL */
    const char *skip_key;     /* name of a key to leave out, or NULL */
    const char *bad_shape;    /* name of a tensor written with ne[0] + 1, or NULL */
    int label_names_delta;    /* write n_labels + delta label names */
    const char *const *words; /* vocabulary after the 5 specials (n_vocab - 5 entries), or NULL: "w5", "w6", …,
                               * in vocab.txt's spelling ("##s"); layout 2 writes it in llama.cpp's ("s", "▁w5") */
    int layout;               /* 2 (default): what the converter writes now (format 2: llama.cpp's spelling and
                               * keys); 1: the first layout (vocab.txt's spelling, edgetag.* keys) */
    int format_version;       /* edgetag.format_version written: 0 = the layout's, -1 = none */
    int lowercase;            /* do_lower_case (layout 1: edgetag.tokenizer.do_lower_case, layout 2:
                               * tokenizer.ggml.normalizer.lowercase): -1 absent (default true), 0, 1 */
    int strip_accents;        /* strip_accents (edgetag.tokenizer.strip_accents, or tokenizer.ggml.normalizer.
                               * strip_accents where -1 is left out): -2 absent, -1 follow lowercase, 0, 1 */
    const char *extra_tensor; /* name of an extra F32 tensor of shape [1] to add, or NULL */
    const char *bool_key;     /* an extra bool key (value bool_value) to write, or NULL */
    int bool_value;
    const char *str_key;      /* an extra string key (value "x") to write, or NULL */
    int no_tensors;           /* write the keys only, as llama.cpp's vocabulary-only files */
    int max_chars;            /* edgetag.tokenizer.max_input_chars_per_word: 0 absent */
    int no_token_types;       /* leave out tokenizer.ggml.token_type */
    const char *const *label_names; /* the classifier's labels, or NULL: "label_0", "label_1", … */
    float temperature;        /* edgetag.calibration.temperature, 0 = absent */
    float threshold;          /* edgetag.escalation.threshold, < 0 = absent */
    const char *aggregation;  /* edgetag.tagging.aggregation, NULL = absent */
    const char *abstain_label; /* edgetag.escalation.abstain_label, NULL = absent */
    int n_head_dim;           /* bert.attention.key_length and value_length (a model with pruned heads: the
                               * attention is n_head · n_head_dim wide); 0 = absent (n_embd / n_head) */
    int value_length;         /* bert.attention.value_length when it should differ from n_head_dim; 0 = the same */
} tl_model_spec;

/* A small embedding model: 2 layers, H 24, 3 heads, F 40, 32 positions, vocab 50, 2 types. */
tl_model_spec tl_small_spec(void);

/* Byte positions inside a built file, for targeted corruption. */
typedef struct tl_layout {
    size_t kv_start;            /* first key-value */
    size_t tensor_info_start;   /* first tensor info */
    size_t first_offset_field;  /* the u64 offset of the first tensor info */
    size_t first_type_field;    /* the u32 type of the first tensor info */
    size_t first_ndims_field;   /* the u32 n_dims of the first tensor info */
    size_t data_start;
    size_t n_tensors, n_kv;
} tl_layout;

/* Builds the file into a 64-byte aligned malloc'd buffer (free with free()); returns its size. */
size_t tl_build_model(const tl_model_spec *spec, uint8_t **out, tl_layout *layout);

/* Rounds like the F16 / Q8_0 encoders of the builder (for comparing against converted loads). */
float tl_round_f16(float x);

/* Reads a whole file; NULL when it does not exist. */
uint8_t *tl_read_file(const char *path, size_t *size);

#endif /* ET_TESTLIB_H */
