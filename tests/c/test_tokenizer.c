/*
 * test_tokenizer.c — the tokenizer on hand-checked cases: each expectation below was worked out by hand
 * from Hugging Face's documented behaviour (BertNormalizer, BertPreTokenizer, WordPiece, the template,
 * "longest_first" truncation, overflowing windows with stride; offsets as the Rust `tokenizers` aligns
 * them: a kept character keeps its original position, removed ones vanish, inserted ones take the
 * position of the character they came from). Parity with an independent tokenizer on a large corpus is
 * tests/js/tokenizer.test.mjs.
 *
 * Every case runs twice: on the vocabulary spelled as llama.cpp's converter and our writer spell it
 * ("▁hello", "aff"; format 2) and as vocab.txt and our first layout spell it ("hello", "##aff"; format 1).
 * How the reader tells the spellings apart, and what it refuses, closes the file.
 */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

/* ids 0-4 are [PAD] [CLS] [SEP] [UNK] [MASK]; these follow from id 5. */
static const char *const words[] = {
    "hello", "world", ",", "!", "un", "##aff", "##able", "a", "##a", "b",       /* 5..14 */
    "cafe", "\xe4\xb8\xad", "\xe6\x96\x87", ".", "##s", "the", "dog", "i",      /* 15..22: 中 文 */
    "##\xcc\x87", "\xe1\x84\x92", "##\xe1\x85\xa1", "##\xe1\x86\xab",          /* 23..26: ##◌̇ ᄒ ##ᅡ ##ᆫ */
    "Hello", "x", "##\xf0\x9d\x85\xa5", "##\xf0\x9d\x85\xad",                   /* 27..30: ##U+1D165 ##U+1D16D */
    "\xcf\x83", "[", "]", "sep",                                                /* 31..34: σ */
};
#define N_WORDS (int)(sizeof words / sizeof words[0])

enum { CLS = 1, SEP = 2, UNK = 3, HELLO = 5, WORLD, COMMA, BANG, UN, AFF, ABLE, A, HASH_A, B, CAFE, ZHONG, WEN, DOT,
       HASH_S, THE, DOG, I, HASH_DOT, HIEUH, HASH_A_JAMO, HASH_N_JAMO, HELLO_CASED, X, HASH_1D165, HASH_1D16D, SIGMA,
       LBRACKET, RBRACKET, SEP_WORD };

typedef struct model_buf {
    uint8_t *buf;
    et_model *m;
} model_buf;

/* The file layout every model of the run is built in (tl_model_spec.layout): main runs the cases under
 * both. Test-only state; the engine has none. */
static int layout = 2;

static model_buf make(int lowercase, int strip, int max_chars) {
    tl_model_spec s = tl_small_spec();
    s.n_vocab = 5 + N_WORDS, s.words = words, s.lowercase = lowercase, s.strip_accents = strip, s.max_chars = max_chars;
    s.layout = layout;
    model_buf r;
    const size_t n = tl_build_model(&s, &r.buf, NULL);
    et_error err;
    r.m = NULL;
    CHECK(et_model_load_from_buffer(r.buf, n, NULL, &r.m, &err) == ET_OK, "load: %s", err.message);
    return r;
}

static void unmake(model_buf *r) {
    et_model_free(r->m);
    free(r->buf);
}

/* Tokenizes and compares with the expected ids and offsets (pairs; -1 ends the list). */
static void expect(et_model *m, const char *text, const char *pair, int32_t max_length, const int32_t *want_ids,
                   const int32_t *want_offsets, const char *what) {
    int32_t ids[256], types[256], offs[512], n = -1;
    et_error err;
    const et_status s = et_tokenize(m, text, strlen(text), pair, pair ? strlen(pair) : 0, max_length, ids, types, offs, 256,
                                    &n, &err);
    CHECK(s == ET_OK, "%s: %s", what, err.message);
    if (s) return;
    int want_n = 0;
    while (want_ids[want_n] != -1) want_n++;
    CHECK(n == want_n, "%s: %d tokens, want %d", what, n, want_n);
    for (int i = 0; i < n && i < want_n; i++) {
        CHECK(ids[i] == want_ids[i], "%s: token %d is %d, want %d", what, i, ids[i], want_ids[i]);
        if (want_offsets)
            CHECK(offs[2 * i] == want_offsets[2 * i] && offs[2 * i + 1] == want_offsets[2 * i + 1],
                  "%s: token %d offsets [%d, %d), want [%d, %d)", what, i, offs[2 * i], offs[2 * i + 1],
                  want_offsets[2 * i], want_offsets[2 * i + 1]);
    }
    int32_t count = -1;
    CHECK(et_tokenize(m, text, strlen(text), pair, pair ? strlen(pair) : 0, max_length, NULL, NULL, NULL, 0, &count,
                      &err) == ET_OK && count == n, "%s: size query says %d, tokenizing gave %d", what, count, n);
}

#define IDS(...) ((const int32_t[]){__VA_ARGS__, -1})
#define OFFS(...) ((const int32_t[]){__VA_ARGS__})

static void test_uncased(void) {
    model_buf r = make(-1, -2, 0); /* defaults: lowercase, strip accents (follows lowercase), CJK, 100 */
    et_model *m = r.m;
    expect(m, "Hello, World!", NULL, 0, IDS(CLS, HELLO, COMMA, WORLD, BANG, SEP), OFFS(0, 0, 0, 5, 5, 6, 7, 12, 12, 13, 0, 0),
           "punctuation splits");
    expect(m, "unaffable", NULL, 0, IDS(CLS, UN, AFF, ABLE, SEP), OFFS(0, 0, 0, 2, 2, 5, 5, 9, 0, 0), "wordpiece");
    expect(m, "Caf\xc3\xa9", NULL, 0, IDS(CLS, CAFE, SEP), OFFS(0, 0, 0, 4, 0, 0), "precomposed accent stripped");
    expect(m, "Cafe\xcc\x81", NULL, 0, IDS(CLS, CAFE, SEP), OFFS(0, 0, 0, 4, 0, 0), "decomposed accent removed, not covered");
    expect(m, "\xe4\xb8\xad\xe6\x96\x87", NULL, 0, IDS(CLS, ZHONG, WEN, SEP), OFFS(0, 0, 0, 1, 1, 2, 0, 0), "CJK isolated");
    expect(m, "x\xe4\xb8\xadx", NULL, 0, IDS(CLS, X, ZHONG, X, SEP), OFFS(0, 0, 0, 1, 1, 2, 2, 3, 0, 0), "CJK inside a word");
    expect(m, "hello[SEP]world", NULL, 0, IDS(CLS, HELLO, SEP, WORLD, SEP), OFFS(0, 0, 0, 5, 5, 10, 10, 15, 0, 0),
           "a literal [SEP] is the special token");
    expect(m, "[sep]", NULL, 0, IDS(CLS, LBRACKET, SEP_WORD, RBRACKET, SEP), OFFS(0, 0, 0, 1, 1, 4, 4, 5, 0, 0),
           "[sep] is not [SEP]: added tokens match before normalization, exactly");
    expect(m, "[SEP", NULL, 0, IDS(CLS, LBRACKET, SEP_WORD, SEP), NULL, "a near miss");
    expect(m, "hel\xe2\x80\x8blo", NULL, 0, IDS(CLS, HELLO, SEP), OFFS(0, 0, 0, 6, 0, 0), "ZWSP (Cf) removed inside a word");
    expect(m, "\x01hello\x7f\xc2\x85", NULL, 0, IDS(CLS, HELLO, SEP), OFFS(0, 0, 1, 6, 0, 0), "C0, DEL and NEL removed");
    expect(m, "hello\xef\xbf\xbdworld", NULL, 0, IDS(CLS, UNK, SEP), OFFS(0, 0, 0, 11, 0, 0),
           "U+FFFD removed: one word, not in the vocabulary");
    expect(m, "hello\xc2\xa0world\xe3\x80\x80\t\n\r\xe2\x80\xa8the", NULL, 0, IDS(CLS, HELLO, WORLD, THE, SEP),
           OFFS(0, 0, 0, 5, 6, 11, 16, 19, 0, 0), "NBSP, ideographic space, tab, newlines, line separator");
    expect(m, "", NULL, 0, IDS(CLS, SEP), OFFS(0, 0, 0, 0), "empty");
    expect(m, " \t \xe3\x80\x80 ", NULL, 0, IDS(CLS, SEP), NULL, "whitespace only");
    expect(m, "dogs.", NULL, 0, IDS(CLS, DOG, HASH_S, DOT, SEP), OFFS(0, 0, 0, 3, 3, 4, 4, 5, 0, 0), "suffix piece");
    expect(m, "dogz", NULL, 0, IDS(CLS, UNK, SEP), OFFS(0, 0, 0, 4, 0, 0), "[UNK] covers the whole word");
    /* U+2581, llama.cpp's word-start mark, is an ordinary character of the text: "a▁a" is no "a" + "▁a". */
    expect(m, "a\xe2\x96\x81" "a", NULL, 0, IDS(CLS, UNK, SEP), NULL, "U+2581 inside a word");
    expect(m, "\xe2\x96\x81" "a a\xe2\x96\x81", NULL, 0, IDS(CLS, UNK, UNK, SEP), NULL, "U+2581 at a word's ends");
    expect(m, "HELLO W\xc3\x96RLD", NULL, 0, IDS(CLS, HELLO, WORLD, SEP), NULL, "uppercase and accents");
    expect(m, "\xce\xa3", NULL, 0, IDS(CLS, SIGMA, SEP), NULL, "capital sigma lowercases to sigma");
    expect(m, "x\xce\xa3", NULL, 0, IDS(CLS, UNK, SEP), NULL, "word-final capital sigma is still sigma (per code point)");
    expect(m, "\xc4\xb0", NULL, 0, IDS(CLS, I, SEP), OFFS(0, 0, 0, 1, 0, 0), "I with dot: NFD, dot stripped, lowercased");
    expect(m, "\xed\x95\x9c", NULL, 0, IDS(CLS, HIEUH, HASH_A_JAMO, HASH_N_JAMO, SEP), OFFS(0, 0, 0, 1, 0, 1, 0, 1, 0, 0),
           "Hangul syllable decomposed into jamo, each at the syllable");
    expect(m, "x\xf0\x9d\x85\xad\xf0\x9d\x85\xa5", NULL, 0, IDS(CLS, X, HASH_1D165, HASH_1D16D, SEP),
           OFFS(0, 0, 0, 1, 2, 3, 1, 2, 0, 0), "canonical reordering of marks of classes 226 then 216");
    /* Pairs and truncation. */
    expect(m, "hello", "world", 0, IDS(CLS, HELLO, SEP, WORLD, SEP), OFFS(0, 0, 0, 5, 0, 0, 0, 5, 0, 0), "pair offsets");
    expect(m, "hello world the dog", NULL, 4, IDS(CLS, HELLO, WORLD, SEP), NULL, "a single text keeps its head");
    expect(m, "a a a a a", "b b", 7, IDS(CLS, A, A, SEP, B, B, SEP), NULL, "longest first: the long text is cut");
    expect(m, "a a a", "b b b", 6, IDS(CLS, A, SEP, B, B, SEP), NULL, "both cut: the second gets the odd token");
    expect(m, "a a a a", "b b b", 6, IDS(CLS, A, A, SEP, B, SEP), NULL, "both cut, the first longer: it gets the odd token");
    expect(m, "a a a", "", 5, IDS(CLS, A, A, SEP, SEP), NULL, "empty pair");
    int32_t types[16], ids[16], n;
    et_tokenize(m, "hello", 5, "world the", 9, 0, ids, types, NULL, 16, &n, NULL);
    CHECK(n == 6 && types[0] == 0 && types[2] == 0 && types[3] == 1 && types[4] == 1 && types[5] == 1, "type ids");
    unmake(&r);
}

static void test_long_words(void) {
    model_buf r = make(-1, -2, 0);
    char text[600];
    memset(text, 'a', 100);
    text[100] = '\0';
    int32_t ids[256], n;
    et_tokenize(r.m, text, 100, NULL, 0, 1000, ids, NULL, NULL, 256, &n, NULL);
    CHECK(n == 102 && ids[1] == A && ids[2] == HASH_A && ids[100] == HASH_A, "100 characters: a ##a … (%d tokens)", n);
    memset(text, 'a', 101);
    text[101] = '\0';
    expect(r.m, text, NULL, 0, IDS(CLS, UNK, SEP), OFFS(0, 0, 0, 101, 0, 0), "101 characters: one [UNK]");
    /* Accents count after normalization: 100 × "a\u0301" is 200 code points but 100 characters. */
    char acc[400];
    for (int i = 0; i < 100; i++) memcpy(acc + 3 * i, "a\xcc\x81", 3);
    et_tokenize(r.m, acc, 300, NULL, 0, 1000, ids, NULL, NULL, 256, &n, NULL);
    CHECK(n == 102, "100 accented characters are not too long after stripping: %d tokens", n);
    /* A 5,000-character word far beyond the word buffer. */
    char *huge = malloc(5001);
    memset(huge, 'b', 5000);
    expect(r.m, (huge[5000] = '\0', huge), NULL, 0, IDS(CLS, UNK, SEP), OFFS(0, 0, 0, 5000, 0, 0), "5,000 characters");
    free(huge);
    unmake(&r);
    r = make(-1, -2, 3);
    expect(r.m, "aaa aaaa", NULL, 0, IDS(CLS, A, HASH_A, HASH_A, UNK, SEP), NULL, "max_input_chars_per_word 3");
    unmake(&r);
}

static void test_cased_and_flags(void) {
    model_buf r = make(0, -2, 0); /* cased: no lowercase, no accent stripping */
    expect(r.m, "Hello hello", NULL, 0, IDS(CLS, HELLO_CASED, HELLO, SEP), NULL, "cased");
    expect(r.m, "Caf\xc3\xa9", NULL, 0, IDS(CLS, UNK, SEP), NULL, "cased keeps accents");
    unmake(&r);
    r = make(1, 0, 0); /* lowercase, keep accents */
    expect(r.m, "\xc4\xb0", NULL, 0, IDS(CLS, I, HASH_DOT, SEP), OFFS(0, 0, 0, 1, 0, 1, 0, 0),
           "I with dot lowercases to i + combining dot, both at the original character");
    expect(r.m, "cafe\xcc\x81", NULL, 0, IDS(CLS, UNK, SEP), NULL, "the mark stays without stripping");
    unmake(&r);
    r = make(0, 1, 0); /* cased but strip accents */
    expect(r.m, "Caf\xc3\xa9", NULL, 0, IDS(CLS, UNK, SEP), NULL, "Cafe (capital) is not in the vocabulary");
    expect(r.m, "caf\xc3\xa9", NULL, 0, IDS(CLS, CAFE, SEP), NULL, "stripped without lowercasing");
    unmake(&r);
}

static void test_invalid_utf8(void) {
    model_buf r = make(-1, -2, 0);
    static const struct {
        const char *bytes;
        size_t at;
    } bad[] = {
        {"ok \xff", 3}, {"\x80", 0}, {"ab\xc0\xaf", 2}, {"\xe0\x80\xaf", 0}, {"\xed\xa0\x80", 0} /* surrogate */,
        {"\xf4\x90\x80\x80", 0} /* > U+10FFFF */, {"x\xe4\xb8", 1} /* cut */, {"\xc3", 0}, {"\xf0\x9f\x98", 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int32_t ids[8], n = -1;
        et_error err;
        const et_status s = et_tokenize(r.m, bad[i].bytes, strlen(bad[i].bytes), NULL, 0, 0, ids, NULL, NULL, 8, &n, &err);
        char want[32];
        snprintf(want, sizeof want, "at byte %zu", bad[i].at);
        CHECK(s == ET_ERR_INPUT && strstr(err.message, want), "case %zu: status %d, %s", i, s, err.message);
        /* The pair is checked too, and the size query does not skip the check. */
        CHECK(et_tokenize(r.m, "ok", 2, bad[i].bytes, strlen(bad[i].bytes), 0, NULL, NULL, NULL, 0, &n, &err) == ET_ERR_INPUT &&
                  strstr(err.message, "pair"), "case %zu as the pair: %s", i, err.message);
    }
    /* Truncation does not hide bad bytes far past the limit. */
    char text[64];
    snprintf(text, sizeof text, "hello world the dog \xff");
    int32_t n;
    et_error err;
    CHECK(et_tokenize(r.m, text, strlen(text), NULL, 0, 3, NULL, NULL, NULL, 0, &n, &err) == ET_ERR_INPUT, "checked before cutting");
    /* An embedded NUL is a character (removed by clean_text), not the end. */
    expect(r.m, "", NULL, 0, IDS(CLS, SEP), NULL, "empty");
    int32_t ids[8];
    CHECK(et_tokenize(r.m, "hello\0world", 11, NULL, 0, 0, ids, NULL, NULL, 8, &n, &err) == ET_OK && n == 3 && ids[1] == UNK,
          "NUL removed inside the word: one unknown word 'helloworld'");
    unmake(&r);
}

static void test_capacity_and_arguments(void) {
    model_buf r = make(-1, -2, 0);
    int32_t ids[4], n;
    et_error err;
    CHECK(et_tokenize(r.m, "hello world", 11, NULL, 0, 0, ids, NULL, NULL, 3, &n, &err) == ET_ERR_CAPACITY && n == 4,
          "capacity: status and count");
    CHECK(et_tokenize(r.m, "hello world", 11, NULL, 0, 0, ids, NULL, NULL, 4, &n, &err) == ET_OK && n == 4, "exact capacity");
    CHECK(et_tokenize(NULL, "x", 1, NULL, 0, 0, ids, NULL, NULL, 4, &n, &err) == ET_ERR_INVALID_ARGUMENT, "NULL model");
    CHECK(et_tokenize(r.m, NULL, 1, NULL, 0, 0, ids, NULL, NULL, 4, &n, &err) == ET_ERR_INVALID_ARGUMENT, "NULL text");
    CHECK(et_tokenize(r.m, "x", 1, NULL, 0, 0, ids, NULL, NULL, 4, NULL, &err) == ET_ERR_INVALID_ARGUMENT, "NULL count");
    CHECK(et_tokenize(r.m, "x", 1, NULL, 0, 1, ids, NULL, NULL, 4, &n, &err) == ET_ERR_INVALID_ARGUMENT, "max_length 1");
    CHECK(et_tokenize(r.m, "x", 1, "y", 1, 2, ids, NULL, NULL, 4, &n, &err) == ET_ERR_INVALID_ARGUMENT, "pair in 2");
    CHECK(et_tokenize(r.m, NULL, 0, NULL, 0, 0, ids, NULL, NULL, 4, &n, NULL) == ET_OK && n == 2, "NULL, 0 is empty");
    /* The vocabulary accessors. */
    const char *t;
    int32_t len;
    const char *aff = layout == 1 ? "##aff" : "aff", *hello = layout == 1 ? "hello" : "\xe2\x96\x81hello";
    CHECK(et_model_token(r.m, AFF, &t, &len) == ET_OK && len == (int32_t)strlen(aff) && !memcmp(t, aff, (size_t)len),
          "token text");
    CHECK(et_model_token(r.m, 5 + N_WORDS, &t, &len) == ET_ERR_INVALID_ARGUMENT, "token out of range");
    CHECK(et_model_token_id(r.m, aff, strlen(aff)) == AFF && et_model_token_id(r.m, hello, strlen(hello)) == HELLO &&
              et_model_token_id(r.m, "[CLS]", 5) == CLS, "token ids");
    const char *other_aff = layout == 1 ? "aff" : "##aff"; /* the other spelling is no token */
    CHECK(et_model_token_id(r.m, other_aff, strlen(other_aff)) == -1, "'%s' is no token in layout %d", other_aff, layout);
    CHECK(!strcmp(et_tokenizer_unicode_version(), "14.0.0"), "Unicode version %s", et_tokenizer_unicode_version());
    unmake(&r);
}

static void test_windows(void) {
    model_buf r = make(-1, -2, 0);
    const char *text = "a b a b a b a b a b"; /* 10 tokens */
    int32_t ids[64], offs[128], lengths[8], first[8], nt, nw;
    et_error err;
    CHECK(et_tokenize_windows(r.m, text, strlen(text), 6, 2, NULL, NULL, 0, NULL, NULL, 0, &nt, &nw, &err) == ET_OK &&
              nw == 4 && nt == 24, "size query: %d tokens in %d windows", nt, nw);
    CHECK(et_tokenize_windows(r.m, text, strlen(text), 6, 2, ids, offs, 64, lengths, first, 8, &nt, &nw, &err) == ET_OK,
          "%s", err.message);
    for (int w = 0; w < 4; w++) {
        CHECK(lengths[w] == 6 && first[w] == 2 * w, "window %d: length %d first %d", w, lengths[w], first[w]);
        const int32_t *wi = ids + 6 * w, *wo = offs + 12 * w;
        CHECK(wi[0] == CLS && wi[5] == SEP, "window %d frame", w);
        for (int k = 1; k <= 4; k++) {
            const int tok = 2 * w + k - 1; /* the whole text's token index */
            CHECK(wi[k] == (tok % 2 ? B : A) && wo[2 * k] == 2 * tok && wo[2 * k + 1] == 2 * tok + 1,
                  "window %d token %d: id %d offsets [%d, %d)", w, k, wi[k], wo[2 * k], wo[2 * k + 1]);
        }
    }
    /* A last window shorter than the others; a text that fits in one. */
    CHECK(et_tokenize_windows(r.m, "a b a b a", 9, 6, 1, ids, offs, 64, lengths, first, 8, &nt, &nw, &err) == ET_OK &&
              nw == 2 && lengths[0] == 6 && lengths[1] == 4 && first[1] == 3 && nt == 10 && ids[6] == CLS && ids[9] == SEP &&
              ids[7] == B && ids[8] == A, "uneven windows: %d windows, lengths %d %d", nw, lengths[0], lengths[1]);
    CHECK(et_tokenize_windows(r.m, "hello", 5, 0, 0, ids, offs, 64, lengths, NULL, 8, &nt, &nw, &err) == ET_OK && nw == 1 &&
              nt == 3 && lengths[0] == 3, "one window");
    CHECK(et_tokenize_windows(r.m, "", 0, 6, 0, ids, offs, 64, lengths, NULL, 8, &nt, &nw, &err) == ET_OK && nw == 1 &&
              nt == 2, "empty text: [CLS] [SEP]");
    CHECK(et_tokenize_windows(r.m, text, strlen(text), 6, 4, ids, offs, 64, lengths, first, 8, &nt, &nw, &err) ==
              ET_ERR_INVALID_ARGUMENT, "stride must leave a step");
    CHECK(et_tokenize_windows(r.m, text, strlen(text), 6, 2, ids, offs, 23, lengths, first, 8, &nt, &nw, &err) ==
              ET_ERR_CAPACITY && nt == 24, "token capacity");
    CHECK(et_tokenize_windows(r.m, text, strlen(text), 6, 2, ids, offs, 64, lengths, first, 3, &nt, &nw, &err) ==
              ET_ERR_CAPACITY && nw == 4, "window capacity");
    /* The windows run as a batch. */
    et_context *ctx = NULL;
    et_context_params cp = et_context_default_params();
    cp.max_tokens = 64;
    et_context_create(r.m, &cp, &ctx);
    et_tokenize_windows(r.m, text, strlen(text), 6, 2, ids, offs, 64, lengths, first, 8, &nt, &nw, &err);
    CHECK(et_context_run(ctx, ids, NULL, lengths, nw) == ET_OK, "windows run: %s", et_context_last_error(ctx));
    et_context_free(ctx);
    unmake(&r);
}

/* Merging: rows are numbered by (window, position) so the test sees which window each token came from. */
static void test_merge_windows(void) {
    /* 10 content tokens, windows of 4 with step 2: [0,4) [2,6) [4,8) [6,10). */
    const int32_t lengths[4] = {6, 6, 6, 6}, first[4] = {0, 2, 4, 6};
    float rows[24], out[10];
    for (int i = 0; i < 24; i++) rows[i] = (float)(100 * (i / 6) + i % 6); /* window*100 + position */
    CHECK(et_merge_windows(rows, 1, lengths, first, 4, out, 10) == ET_OK, "merge");
    /* Token t: windows containing it and its context min(left, right) in each:
     * t0: w0 (0,3) → w0.  t1: w0 (1,2) → w0 pos 2.  t2: w0 (2,1) w1 (0,3) → w0 (score 1) pos 3.
     * t3: w0 (3,0) w1 (1,2) → w1 pos 2.  t4: w1 (2,1) w2 (0,3) → w1 pos 3.  t5: w1 (3,0) w2 (1,2) → w2 pos 2.
     * t6: w2 pos 3.  t7: w3 pos 2.  t8: w3 (2,1) → pos 3.  t9: w3 (3,0) → pos 4. */
    const float want[10] = {1, 2, 3, 102, 103, 202, 203, 302, 303, 304};
    for (int t = 0; t < 10; t++) CHECK(out[t] == want[t], "token %d from %g, want %g", t, out[t], want[t]);
    /* One window: rows 1..n. Several columns. */
    const int32_t l1[1] = {5}, f1[1] = {0};
    float r1[10], o1[6];
    for (int i = 0; i < 10; i++) r1[i] = (float)i;
    CHECK(et_merge_windows(r1, 2, l1, f1, 1, o1, 3) == ET_OK && o1[0] == 2 && o1[1] == 3 && o1[4] == 6 && o1[5] == 7, "one window");
    /* Inconsistent windows are refused. */
    const int32_t gap[2] = {0, 5};
    CHECK(et_merge_windows(rows, 1, lengths, gap, 2, out, 8) == ET_ERR_INVALID_ARGUMENT, "a gap between windows");
    CHECK(et_merge_windows(rows, 1, lengths, first, 4, out, 11) == ET_ERR_INVALID_ARGUMENT, "wrong n_content");
    CHECK(et_merge_windows(NULL, 1, lengths, first, 4, out, 10) == ET_ERR_INVALID_ARGUMENT, "NULL rows");
}

static void test_no_allocation(void) {
    model_buf r = make(-1, -2, 0);
    const char *text = "Hello, World! unaffable Caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 [SEP] dogs.";
    int32_t ids[64], types[64], offs[128], lengths[8], n, nw;
    const long before = tl_alloc_calls();
    for (int i = 0; i < 10; i++) {
        et_tokenize(r.m, text, strlen(text), "world", 5, 0, ids, types, offs, 64, &n, NULL);
        et_tokenize_windows(r.m, text, strlen(text), 8, 2, ids, offs, 64, lengths, NULL, 8, &n, &nw, NULL);
    }
    CHECK(tl_alloc_calls() == before, "tokenizing allocated %ld times", tl_alloc_calls() - before);
    unmake(&r);
}

static void test_specials_from_ids(void) {
    /* Without tokenizer.ggml.token_type, the special ids are the added tokens. */
    tl_model_spec s = tl_small_spec();
    s.n_vocab = 5 + N_WORDS, s.words = words, s.no_token_types = 1, s.layout = layout;
    uint8_t *buf;
    const size_t n = tl_build_model(&s, &buf, NULL);
    et_model *m = NULL;
    et_model_load_from_buffer(buf, n, NULL, &m, NULL);
    expect(m, "hello [MASK] [UNK]", NULL, 0, IDS(CLS, HELLO, 4, UNK, SEP), OFFS(0, 0, 0, 5, 6, 12, 13, 18, 0, 0),
           "specials by id");
    et_model_free(m);
    free(buf);
}

/* ---- spellings and llama.cpp's keys ------------------------------------------------------------- */

/* Loads a spec; returns the status (the model is freed) and the message in err. */
static et_status try_load(const tl_model_spec *s, et_error *err) {
    uint8_t *buf;
    const size_t n = tl_build_model(s, &buf, NULL);
    et_model *m = NULL;
    const et_status st = et_model_load_from_buffer(buf, n, NULL, &m, err);
    if (!st) expect(m, "unaffable hello", NULL, 0, IDS(CLS, UN, AFF, ABLE, HELLO, SEP), NULL, "after load");
    et_model_free(m);
    free(buf);
    return st;
}

/* Our files say their spelling with edgetag.format_version; other files are told by their tokens; a
 * vocabulary that mixes both spellings without a version, or contradicts its version, is refused. */
static void test_spellings(void) {
    static const char *mixed[N_WORDS];
    for (int i = 0; i < N_WORDS; i++) mixed[i] = words[i];
    mixed[N_WORDS - 1] = "####zz"; /* llama.cpp's spelling of vocab.txt's "####zz" is "##zz" */
    const struct {
        int layout, format_version, mixed;
        et_status want;
        const char *mention;
    } cases[] = {
        {2, -1, 0, ET_OK, ""},                 /* llama.cpp's files carry no edgetag.format_version */
        {1, -1, 0, ET_OK, ""},                 /* nor do other writers' vocab.txt-spelled files */
        {2, 2, 1, ET_OK, ""},                  /* format 2 says which: a "##…" token is a continuation "##…" */
        {2, -1, 1, ET_ERR_UNSUPPORTED, "cannot tell the vocabulary's spelling: 1 tokens are spelled like '##zz'"},
        {1, 2, 0, ET_ERR_CORRUPT, "edgetag.format_version 2 promises llama.cpp's spelling"},
        {2, 1, 0, ET_ERR_CORRUPT, "edgetag.format_version 1 promises vocab.txt's spelling"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tl_model_spec s = tl_small_spec();
        s.n_vocab = 5 + N_WORDS, s.words = cases[i].mixed ? mixed : words;
        s.layout = cases[i].layout, s.format_version = cases[i].format_version;
        et_error err;
        const et_status st = try_load(&s, &err);
        CHECK(st == cases[i].want, "spelling case %zu: status %d, want %d: %s", i, st, cases[i].want, st ? err.message : "");
        if (st) CHECK(strstr(err.message, cases[i].mention), "spelling case %zu: %s", i, err.message);
    }
}

/* Where the value of `key` starts in a built file (after the key and its value type). */
static uint8_t *value_at(uint8_t *buf, size_t n, const char *key) {
    for (size_t i = 0; i + strlen(key) + 4 < n; i++)
        if (!memcmp(buf + i, key, strlen(key))) return buf + i + strlen(key) + 4;
    return NULL;
}

/* Patches the u32 value of `key` (or element `element` of its i32 array) in a built file and loads it. */
static et_status load_with_u32(const tl_model_spec *s, const char *key, uint32_t value, size_t element, et_error *err) {
    uint8_t *buf;
    const size_t n = tl_build_model(s, &buf, NULL);
    uint8_t *at = value_at(buf, n, key);
    if (element != (size_t)-1) at += 12 + 4 * element; /* after the array's element type and count */
    memcpy(at, &value, 4);
    et_model *m = NULL;
    const et_status st = et_model_load_from_buffer(buf, n, NULL, &m, err);
    et_model_free(m);
    free(buf);
    return st;
}

/* What the reader does with llama.cpp's tokenizer keys, and what it refuses. */
static void test_llamacpp_keys(void) {
    tl_model_spec s = tl_small_spec();
    s.n_vocab = 5 + N_WORDS, s.words = words;
    et_error err;
    /* [CLS] is bos_token_id; an older cls_token_id must agree with it. */
    CHECK(load_with_u32(&s, "tokenizer.ggml.bos_token_id", 2, (size_t)-1, &err) == ET_ERR_CORRUPT &&
              strstr(err.message, "tokenizer.ggml.bos_token_id 2 and cls_token_id 1 disagree"), "bos vs cls: %s", err.message);
    tl_model_spec t = s;
    t.skip_key = "tokenizer.ggml.cls_token_id";
    CHECK(try_load(&t, &err) == ET_OK, "bos_token_id alone: %s", err.message);
    t = s, t.skip_key = "tokenizer.ggml.bos_token_id";
    CHECK(try_load(&t, &err) == ET_OK, "cls_token_id alone (llama.cpp's files of 2024): %s", err.message);
    /* Token types: 6 (byte fallback) is not WordPiece's; beyond it, corrupt. */
    CHECK(load_with_u32(&s, "tokenizer.ggml.token_type", 6, 7, &err) == ET_ERR_UNSUPPORTED && strstr(err.message, "token 7 has type 6"),
          "byte token: %s", err.message);
    CHECK(load_with_u32(&s, "tokenizer.ggml.token_type", 9, 7, &err) == ET_ERR_CORRUPT, "type 9: %s", err.message);
    /* The normalizer: llama.cpp's keys and ours (format 1) may both be present only when they agree. */
    t = s, t.lowercase = 1, t.bool_key = "edgetag.tokenizer.do_lower_case", t.bool_value = 0;
    CHECK(try_load(&t, &err) == ET_ERR_CORRUPT && strstr(err.message, "tokenizer.ggml.normalizer.lowercase is true but "
          "edgetag.tokenizer.do_lower_case says false"), "lowercase conflict: %s", err.message);
    t.bool_value = 1;
    CHECK(try_load(&t, &err) == ET_OK, "lowercase twice, agreeing: %s", err.message);
    t = s, t.layout = 1, t.strip_accents = -1, t.bool_key = "tokenizer.ggml.normalizer.strip_accents", t.bool_value = 0;
    CHECK(try_load(&t, &err) == ET_ERR_CORRUPT && strstr(err.message, "strip_accents"), "strip conflict: %s", err.message);
    t = s, t.str_key = "tokenizer.ggml.normalizer.lowercase";
    CHECK(try_load(&t, &err) == ET_ERR_CORRUPT && strstr(err.message, "expected a bool"), "mistyped: %s", err.message);
    t = s, t.str_key = "tokenizer.ggml.precompiled_charsmap";
    CHECK(try_load(&t, &err) == ET_ERR_UNSUPPORTED && strstr(err.message, "precompiled_charsmap"), "charsmap: %s", err.message);
    /* A tokenizer other than WordPiece. */
    uint8_t *buf;
    size_t n = tl_build_model(&s, &buf, NULL);
    memcpy(value_at(buf, n, "tokenizer.ggml.model") + 8, "gpt2", 4); /* after the string's length */
    et_model *m = NULL;
    CHECK(et_model_load_from_buffer(buf, n, NULL, &m, &err) == ET_ERR_UNSUPPORTED && strstr(err.message, "'gpt2'"),
          "tokenizer gpt2: %s", err.message);
    free(buf);
    /* A vocabulary-only file (no tensors) loads only as a tokenizer, which cannot run. */
    t = s, t.no_tensors = 1;
    n = tl_build_model(&t, &buf, NULL);
    CHECK(et_model_load_from_buffer(buf, n, NULL, &m, &err) == ET_ERR_MISSING && !m && strstr(err.message, "no tensors"),
          "no tensors: %s", err.message);
    CHECK(et_model_load_vocab_from_buffer(buf, n, NULL, &m, &err) == ET_OK && m, "vocabulary only: %s", err.message);
    expect(m, "Hello, unaffable", NULL, 0, IDS(CLS, HELLO, COMMA, UN, AFF, ABLE, SEP), NULL, "a vocabulary-only model tokenizes");
    et_model_info in;
    et_model_get_info(m, &in);
    CHECK(in.n_vocab == 5 + N_WORDS && in.n_tensors == 0 && in.weights_bytes == 0 && in.n_token_types == 2 && in.n_ctx == 32,
          "vocabulary-only info");
    et_context *ctx = NULL;
    CHECK(et_context_create(m, NULL, &ctx) == ET_ERR_UNSUPPORTED && !ctx, "a vocabulary-only model cannot run");
    et_model_free(m);
    free(buf);
    n = tl_build_model(&s, &buf, NULL); /* a full file loads as a tokenizer too, its tensors untouched */
    CHECK(et_model_load_vocab_from_buffer(buf, n, NULL, &m, &err) == ET_OK && et_context_create(m, NULL, &ctx) == ET_ERR_UNSUPPORTED,
          "a full file as vocabulary only: %s", err.message);
    et_model_get_info(m, &in);
    CHECK(in.n_tensors == 5 + 2 * 16 + 2 && in.weights_bytes == 0, "tensors listed, none bound");
    et_model_free(m);
    free(buf);
}

int main(void) {
    for (layout = 1; layout <= 2; layout++) {
        test_uncased();
        test_long_words();
        test_cased_and_flags();
        test_invalid_utf8();
        test_capacity_and_arguments();
        test_windows();
        test_merge_windows();
        test_no_allocation();
        test_specials_from_ids();
    }
    test_spellings();
    test_llamacpp_keys();
    return tl_finish("test_tokenizer");
}
