/*
 * tokenizer.h — the BERT WordPiece vocabulary of a loaded model. Private to the engine; the public
 * entry points are et_tokenize and et_tokenize_windows in include/edgetag.h.
 */
#ifndef ET_TOKENIZER_H
#define ET_TOKENIZER_H

#include <stdint.h>

#include "edgetag.h"
#include "gguf.h"

/* Longest word, in normalized code points, the engine can hold (max_input_chars_per_word ≤ this). */
#define ET_MAX_WORD_CHARS 1024
#define ET_MAX_SPECIALS 64

typedef struct et_vocab {
    uint32_t n;                  /* V */
    const uint8_t *base;         /* the GGUF buffer the strings live in */
    uint32_t *str_off;           /* [V] offset of token i's bytes from base */
    uint32_t *str_len;           /* [V] its length in bytes */
    uint32_t *table;             /* [mask + 1] open-addressing hash of the strings: id + 1, 0 = empty */
    uint32_t mask;
    uint32_t max_bytes;          /* longest token, in bytes, "##" excluded */
    int32_t specials[ET_MAX_SPECIALS]; /* added tokens matched verbatim in the raw text */
    int32_t n_specials;
    uint8_t special_first[32];   /* bit set of the specials' first bytes */
    int32_t lowercase, strip_accents, chinese, max_chars;
    int32_t cls, sep, unk;       /* -1 when absent */
} et_vocab;

/* Builds the vocabulary from the file's tokenizer.ggml.* and edgetag.tokenizer.* keys (validated by the
 * caller's shape checks: tokens count = n_vocab). special ids: cls, sep, unk, pad, mask (-1 = absent). */
et_status et_vocab_init(et_vocab *v, const gguf_file *f, const int32_t special_ids[5], et_error *err);

void et_vocab_free(et_vocab *v);

/* Bytes the vocabulary allocated. */
uint64_t et_vocab_bytes(const et_vocab *v);

/* The id of the token spelled `prefix ## bytes` (continuation) or `bytes`, or -1. */
int32_t et_vocab_find(const et_vocab *v, int continuation, const uint8_t *bytes, uint32_t len);

#endif /* ET_TOKENIZER_H */
