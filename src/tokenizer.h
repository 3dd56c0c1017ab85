/*
 * tokenizer.h — BERT's WordPiece tokenizer over a vocabulary. Private to the engine.
 *
 * The tokenizer knows nothing of models or files. A vocabulary (et_vocab) is its whole input besides the
 * text: the tokens' spellings and their hash table, the added tokens, the normalizer flags, WordPiece's
 * word limit and the template's special ids. The model reads those from its file and builds its et_vocab
 * with the calls below (model_vocab.c); the public et_tokenize, et_tokenize_windows, et_model_token and
 * et_model_token_id (include/edgetag.h) are thin wrappers there that pass &model->vocab.
 */
#ifndef ET_TOKENIZER_H
#define ET_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "edgetag.h" /* et_status, et_error */

/* Longest word, in normalized code points, the engine can hold (max_input_chars_per_word ≤ this). */
#define ET_MAX_WORD_CHARS 1024
#define ET_MAX_SPECIALS 64

/* How a vocabulary spells its pieces. vocab.txt's WordPiece spelling: a word-initial piece as it is
 * ("the"), a continuation with "##" ("##s"). llama.cpp's converter's: a word-initial piece after the
 * "phantom space" U+2581 ▁ ("▁the"), a continuation as it is ("s"). Added tokens ([CLS], …) are
 * spelled as they are in both. The tokenizer runs the same either way; only the lookups differ. */
typedef enum et_spelling {
    ET_SPELLING_WORDPIECE = 0, /* "the", "##s" */
    ET_SPELLING_PHANTOM = 1,   /* "▁the", "s" */
} et_spelling;

/* Everything about a vocabulary but its tokens: Hugging Face's BertNormalizer flags, WordPiece's word
 * limit, and the special tokens the template and WordPiece insert. */
typedef struct et_vocab_config {
    int32_t lowercase;     /* do_lower_case */
    int32_t strip_accents; /* -1: as lowercase (Hugging Face's default), 0 no, 1 yes */
    int32_t chinese;       /* tokenize_chinese_chars: CJK ideographs become words of their own */
    int32_t max_chars;     /* max_input_chars_per_word: a longer word is [UNK]; 1 … ET_MAX_WORD_CHARS */
    int32_t cls, sep, unk; /* ids of [CLS], [SEP], [UNK]; -1 when absent (texts are then refused) */
    int32_t spelling;      /* et_spelling */
} et_vocab_config;

typedef struct et_vocab {
    uint32_t n;                  /* V */
    const uint8_t *base;         /* the buffer the spellings live in (borrowed) */
    uint32_t *str_off;           /* [V] offset of token i's bytes from base */
    uint32_t *str_len;           /* [V] its length in bytes */
    uint32_t *table;             /* [mask + 1] open-addressing hash of the strings: id + 1, 0 = empty */
    uint32_t mask;
    uint32_t max_bytes;          /* longest token, in bytes, its spelling's prefix excluded */
    uint8_t prefix[2][4];        /* the spelling's prefix of [0] a word-initial piece, [1] a continuation */
    uint8_t prefix_len[2];
    int32_t specials[ET_MAX_SPECIALS]; /* added tokens matched verbatim in the raw text */
    int32_t n_specials;
    uint8_t special_first[32];   /* bit set of the specials' first bytes */
    int32_t lowercase, strip_accents, chinese, max_chars; /* the config, strip_accents resolved to 0 or 1 */
    int32_t cls, sep, unk;       /* -1 when absent */
} et_vocab;

/* Starts a vocabulary of n tokens whose spellings lie in `base` (borrowed: it must outlive the vocabulary),
 * with the settings of `c`, and allocates its tables. ET_ERR_UNSUPPORTED when max_chars is above
 * ET_MAX_WORD_CHARS, ET_ERR_OUT_OF_MEMORY; on failure nothing stays allocated. Then give every token its
 * spelling (et_vocab_set) and mark the added tokens (et_vocab_add_special). */
et_status et_vocab_init(et_vocab *v, uint32_t n, const uint8_t *base, const et_vocab_config *c, et_error *err);

/* Token `id` (< n) is spelled text[0 … len), bytes inside `base`, in the vocabulary's spelling. Called
 * once per id in id order; a spelling given twice maps to its last id, as vocab.txt loading does. */
void et_vocab_set(et_vocab *v, uint32_t id, const char *text, uint32_t len);

/* Makes token `id` an added token, found verbatim in the raw text before normalization (as Hugging Face
 * finds [CLS], [SEP], …); an empty spelling is skipped. ET_ERR_UNSUPPORTED beyond ET_MAX_SPECIALS. */
et_status et_vocab_add_special(et_vocab *v, int32_t id, et_error *err);

/* Frees the tables; safe on a zeroed or already freed vocabulary. */
void et_vocab_free(et_vocab *v);

/* Bytes the vocabulary allocated. */
uint64_t et_vocab_bytes(const et_vocab *v);

/* The id of the piece `bytes` as a continuation or as a word-initial piece (the spelling's prefix added
 * to `bytes`), or -1. */
int32_t et_vocab_find(const et_vocab *v, int continuation, const uint8_t *bytes, uint32_t len);

/* The id of the token spelled exactly `bytes` (prefix included), or -1. */
int32_t et_vocab_find_spelling(const et_vocab *v, const uint8_t *bytes, uint32_t len);

/* Whether token `id` (< n) continues a word ("##s" in WordPiece spelling; in llama.cpp's, a token that
 * is neither word-initial nor an added token). */
int et_vocab_is_continuation(const et_vocab *v, int32_t id);

/* et_tokenize and et_tokenize_windows of include/edgetag.h on a vocabulary, with the same arguments and
 * results; `default_length` is what a max_length of 0 stands for (the model's positions). */
et_status et_vocab_tokenize(const et_vocab *v, int32_t default_length, const char *text, size_t text_len,
                            const char *pair, size_t pair_len, int32_t max_length, int32_t *ids, int32_t *type_ids,
                            int32_t *offsets, int32_t capacity, int32_t *n_tokens, et_error *error);
et_status et_vocab_tokenize_windows(const et_vocab *v, int32_t default_length, const char *text, size_t text_len,
                                    int32_t max_length, int32_t stride, int32_t *ids, int32_t *offsets,
                                    int32_t token_capacity, int32_t *lengths, int32_t *first_token,
                                    int32_t window_capacity, int32_t *n_tokens, int32_t *n_windows, et_error *error);

/* A text tokenized a piece at a time, for texts whose tokens are not all wanted at once (long documents run
 * window by window in a context of fixed size). The pieces' tokens, one after another, are exactly the content
 * tokens et_vocab_tokenize gives the whole text (no template, no cut), with offsets into the whole text. */
typedef struct et_token_stream {
    const et_vocab *v;
    const uint8_t *text; /* borrowed for the stream's life */
    size_t len;
    size_t pos;          /* the next byte to tokenize: a point where the tokenizer holds nothing */
    int32_t at;          /* its index in code points */
    int32_t done;        /* 1 once the whole text is tokenized */
} et_token_stream;

/* Checks the vocabulary and the text (UTF-8, as et_vocab_tokenize does) and starts a stream over it. */
et_status et_vocab_stream_begin(et_token_stream *st, const et_vocab *v, const char *text, size_t text_len, et_error *error);

/* Writes the next content tokens (ids; offsets as [start, end) pairs in code points, may be NULL), at most `room`,
 * and returns how many. It may give fewer than room while the text goes on (it ends a piece only where the
 * tokenizer holds no partial word); with room for ET_STREAM_ROOM tokens it always gives at least one until the
 * text ends. 0 once st->done. */
int32_t et_vocab_stream_next(et_token_stream *st, int32_t *ids, int32_t *offsets, int32_t room);

/* Room that always moves a stream on: the pieces of two of the longest words, and the tokens around them. */
#define ET_STREAM_ROOM (2 * ET_MAX_WORD_CHARS + 64)

#endif /* ET_TOKENIZER_H */
