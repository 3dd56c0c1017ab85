/*
 * fuzz_tokenizer.c — libFuzzer target for the tokenizer (build: make fuzz; run: make fuzz-run).
 *
 * Input: byte 0 picks the vocabulary's normalizer flags and the limits, the rest is the text; a 0xFF
 * byte, when present, splits it into text and pair (0xFF never occurs in UTF-8). Besides the sanitizers'
 * checks it asserts what must hold for every input:
 *   - the status is ET_OK, or ET_ERR_INPUT exactly when the bytes are not UTF-8;
 *   - the size query gives the count the filling call gives, and tokenizing twice gives the same;
 *   - ids are in the vocabulary, the template is [CLS] … [SEP] (… [SEP]), type ids 0 then 1;
 *   - every content token covers a non-empty range of its own text's code points;
 *   - windows: each framed, at most max_length long, and their content tokens are exactly the whole
 *     text's tokens at first_token[w] onwards;
 *   - the same vocabulary in vocab.txt's spelling ("##aff") and in llama.cpp's ("aff", "▁hello") gives
 *     the same ids and offsets;
 *   - the tokenizer's stream (tokenizer.h), given room for a few tokens at a time, gives the whole text's
 *     tokens piece by piece, stopping short only where the next point between words is further than its room.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "testlib.h"
#include "tokenizer.h"
#include "unicode.h"

/* Pieces covering ASCII, accents, CJK, jamo, Greek, punctuation and marks, plain and as "##". */
static const char *const words[] = {
    "a", "b", "c", "e", "i", "x", "the", "hello", "world", "un", "##aff", "##able", "##a", "##b", "##e", "##s",
    "##i", "##x", "cafe", "caf\xc3\xa9", "\xe4\xb8\xad", "\xe6\x96\x87", "\xe1\x84\x92", "##\xe1\x85\xa1",
    "##\xe1\x86\xab", "\xcf\x83", "##\xcf\x83", "\xce\xb1", "##\xcc\x87", "##\xcc\x81", ".", ",", "!", "[", "]",
    "'", "-", "\xe3\x80\x82", "\xf0\x9f\x98\x80", "##\xf0\x9f\x8f\xbd", "Hello", "The", "A", "##A", "sep",
};
#define N_WORDS (int)(sizeof words / sizeof words[0])

static et_model *models[4][2]; /* [flags][layout 2, layout 1] */
static uint8_t *buffers[4][2];

static void build(int k) {
    for (int l = 0; l < 2; l++) {
        tl_model_spec s = tl_small_spec();
        s.n_vocab = 5 + N_WORDS, s.words = words, s.n_ctx = 64, s.layout = 2 - l;
        s.lowercase = k & 1, s.strip_accents = k & 2 ? -1 : 0, s.max_chars = k == 3 ? 8 : 0;
        const size_t n = tl_build_model(&s, &buffers[k][l], NULL);
        if (et_model_load_from_buffer(buffers[k][l], n, NULL, &models[k][l], NULL) != ET_OK) abort();
    }
}

#define REQUIRE(cond)                                                         \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "fuzz_tokenizer: %s failed at line %d\n", #cond, __LINE__); \
            abort();                                                          \
        }                                                                     \
    } while (0)

static int valid_utf8(const uint8_t *s, size_t n, int32_t *cps) {
    *cps = 0;
    for (size_t pos = 0; pos < n; (*cps)++) {
        uint32_t c;
        const size_t k = et_utf8_decode(s + pos, n - pos, &c);
        if (!k) return 0;
        pos += k;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 4096) return 0;
    const int k = data[0] & 3;
    if (!models[k][0]) build(k);
    et_model *m = models[k][0];
    const int32_t max_length = 3 + (data[0] >> 2) % 40; /* 3 … 42 */
    const char *text = (const char *)data + 1;
    size_t tlen = size - 1;
    const char *pair = memchr(text, 0xFF, tlen);
    size_t plen = 0;
    if (pair) {
        plen = tlen - (size_t)(pair - text) - 1;
        tlen = (size_t)(pair - text);
        pair++;
    }
    int32_t cps_a, cps_b = 0;
    const int ok = valid_utf8((const uint8_t *)text, tlen, &cps_a) && (!pair || valid_utf8((const uint8_t *)pair, plen, &cps_b));

    enum { CAP = 9000 };
    static int32_t ids[CAP], types[CAP], offs[2 * CAP], ids2[CAP], full[CAP], full_offs[2 * CAP], lengths[CAP], first[CAP];
    int32_t n = -1, n2 = -1, count = -1;
    et_error err;
    et_status s = et_tokenize(m, text, tlen, pair, plen, max_length, NULL, NULL, NULL, 0, &count, &err);
    REQUIRE(s == (ok ? ET_OK : ET_ERR_INPUT));
    if (!ok) return 0;
    s = et_tokenize(m, text, tlen, pair, plen, max_length, ids, types, offs, CAP, &n, &err);
    REQUIRE(s == ET_OK && n == count && n >= (pair ? 3 : 2) && n <= max_length);
    REQUIRE(et_tokenize(m, text, tlen, pair, plen, max_length, ids2, NULL, NULL, CAP, &n2, &err) == ET_OK && n2 == n);
    REQUIRE(memcmp(ids, ids2, (size_t)n * sizeof *ids) == 0);
    REQUIRE(et_tokenize(models[k][1], text, tlen, pair, plen, max_length, ids2, NULL, full_offs, CAP, &n2, &err) == ET_OK);
    REQUIRE(n2 == n && memcmp(ids, ids2, (size_t)n * sizeof *ids) == 0 && memcmp(offs, full_offs, (size_t)n * 2 * sizeof *offs) == 0);
    REQUIRE(ids[0] == 1 && ids[n - 1] == 2 && types[0] == 0 && types[n - 1] == (pair ? 1 : 0));
    for (int32_t i = 0; i < n; i++) {
        REQUIRE(ids[i] >= 0 && ids[i] < 5 + N_WORDS);
        REQUIRE(i == 0 || types[i] >= types[i - 1]);
        const int32_t st = offs[2 * i], en = offs[2 * i + 1], limit = types[i] ? cps_b : cps_a;
        const int templ = i == 0 || i == n - 1 || (ids[i] == 2 && types[i] == 0 && (i + 1 == n || types[i + 1] == 1));
        if (templ) REQUIRE(st == 0 && en == 0);
        else REQUIRE(st >= 0 && st < en && en <= limit);
    }

    /* Windows over the text against its whole token sequence. */
    int32_t nfull;
    s = et_tokenize(m, text, tlen, NULL, 0, CAP, full, NULL, full_offs, CAP, &nfull, &err);
    if (s == ET_ERR_CAPACITY) return 0;
    REQUIRE(s == ET_OK);
    const int32_t stride = data[0] % (max_length - 2), step = max_length - 2 - stride;
    int32_t nt, nw;
    s = et_tokenize_windows(m, text, tlen, max_length, stride, ids, offs, CAP, lengths, first, CAP, &nt, &nw, &err);
    if (s == ET_ERR_CAPACITY) return 0;
    REQUIRE(s == ET_OK);
    int32_t at = 0;
    for (int32_t w = 0; w < nw; w++) {
        REQUIRE(lengths[w] >= 2 && lengths[w] <= max_length && first[w] == w * step);
        REQUIRE(ids[at] == 1 && ids[at + lengths[w] - 1] == 2);
        for (int32_t j = 1; j < lengths[w] - 1; j++) {
            const int32_t t = first[w] + j; /* index in `full`, whose [CLS] is at 0 */
            REQUIRE(t < nfull - 1 && ids[at + j] == full[t]);
            REQUIRE(offs[2 * (at + j)] == full_offs[2 * t] && offs[2 * (at + j) + 1] == full_offs[2 * t + 1]);
        }
        at += lengths[w];
    }
    REQUIRE(at == nt && first[nw - 1] + lengths[nw - 1] - 2 == nfull - 2);

    /* The stream, in pieces of at most `room` tokens (more when it cannot move on). */
    et_token_stream st;
    REQUIRE(et_vocab_stream_begin(&st, &m->vocab, text, tlen, &err) == ET_OK);
    int32_t got = 0, room = 1 + data[0] % 7;
    while (!st.done) {
        const int32_t piece = et_vocab_stream_next(&st, ids + got, offs + 2 * got, room);
        REQUIRE(piece <= room && got + piece <= nfull - 2);
        if (piece == 0 && !st.done) {
            REQUIRE(room < ET_STREAM_ROOM);
            room *= 2;
            continue;
        }
        got += piece;
    }
    REQUIRE(got == nfull - 2 && et_vocab_stream_next(&st, ids, offs, 100) == 0);
    REQUIRE(!memcmp(ids, full + 1, (size_t)got * sizeof *ids) && !memcmp(offs, full_offs + 2, (size_t)got * 2 * sizeof *offs));
    return 0;
}
