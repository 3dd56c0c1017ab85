/*
 * test_llamacpp.c — llama.cpp's own tokenizer test suite for BERT through the engine: its vocabulary-only
 * file made by llama.cpp's converter (tests/fixtures/llamacpp/ggml-vocab-bert-bge.gguf: bge-small-en-v1.5,
 * llama.cpp's "▁" spelling, cls_token_id, no normalizer keys) and its 46 texts with the ids llama.cpp
 * expects (.inp / .out, read as llama.cpp's test-tokenizer-0 reads them). Every case must give exactly
 * those ids between [CLS] and [SEP]. The same texts against @huggingface/tokenizers and llama.cpp itself
 * are tests/js/llamacpp-vocab.test.mjs.
 */
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#define FIXTURE "tests/fixtures/llamacpp/ggml-vocab-bert-bge.gguf"
#define SEPARATOR "\n__ggml_vocab_test__\n"
#define MAX_CASES 64

/* The .inp split on the separator (in place: each text is NUL-terminated, its length kept). As llama.cpp
 * reads it, the file's final separator ends the last text: no empty text follows it (46 texts; a plain
 * split would count a 47th, empty one). */
static int split_texts(char *inp, size_t n, char **texts, size_t *lens) {
    int k = 0;
    for (char *p = inp, *end = inp + n; p < end && k < MAX_CASES;) {
        char *next = NULL;
        for (char *q = p; q + strlen(SEPARATOR) <= end; q++)
            if (!memcmp(q, SEPARATOR, strlen(SEPARATOR))) {
                next = q;
                break;
            }
        texts[k] = p, lens[k] = (size_t)((next ? next : end) - p);
        k++;
        if (!next) break;
        *next = '\0';
        p = next + strlen(SEPARATOR);
    }
    return k;
}

int main(void) {
    size_t n_model, n_inp, n_out;
    uint8_t *model_bytes = tl_read_file(FIXTURE, &n_model);
    char *inp = (char *)tl_read_file(FIXTURE ".inp", &n_inp), *out = (char *)tl_read_file(FIXTURE ".out", &n_out);
    CHECK(model_bytes && inp && out, "the fixture is missing (run from the repository root): %s", FIXTURE);
    if (!model_bytes || !inp || !out) return tl_finish("test_llamacpp");

    /* A vocabulary-only file: refused as a model, read as a tokenizer. */
    et_model *m = NULL;
    et_error err;
    CHECK(et_model_load_from_buffer(model_bytes, n_model, NULL, &m, &err) == ET_ERR_MISSING && strstr(err.message, "no tensors"),
          "as a model: %s", err.message);
    CHECK(et_model_load_vocab_from_buffer(model_bytes, n_model, NULL, &m, &err) == ET_OK, "as a tokenizer: %s", err.message);
    if (!m) return tl_finish("test_llamacpp");
    et_model_info in;
    et_model_get_info(m, &in);
    CHECK(in.n_vocab == 30522 && in.cls_id == 101 && in.sep_id == 102 && in.unk_id == 100 && in.pad_id == 0 && in.mask_id == 103,
          "vocabulary %d, specials %d %d %d %d %d", in.n_vocab, in.cls_id, in.sep_id, in.unk_id, in.pad_id, in.mask_id);
    const char *t;
    int32_t len;
    CHECK(et_model_token(m, 1996, &t, &len) == ET_OK && len == 6 && !memcmp(t, "\xe2\x96\x81the", 6), "token 1996 is '▁the'");
    CHECK(et_model_token_id(m, "s", 1) == 2015, "'s' (vocab.txt's '##s') is 2015");
    et_model *again = NULL;
    CHECK(et_model_load_vocab_from_file(FIXTURE, NULL, &again, &err) == ET_OK, "from the file: %s", err.message);
    et_model_free(again);

    char *texts[MAX_CASES];
    size_t lens[MAX_CASES];
    const int n_cases = split_texts(inp, n_inp, texts, lens);
    int matched = 0, line = 0;
    char *o = out;
    for (int c = 0; c < n_cases; c++, line++) {
        char *eol = memchr(o, '\n', (size_t)(out + n_out - o));
        CHECK(eol != NULL, "the .out has fewer lines than the .inp's %d texts", n_cases);
        if (!eol) break;
        *eol = '\0';
        int32_t want[512], n_want = 0;
        for (char *p = o; *p && n_want < 512;) {
            char *end;
            const long v = strtol(p, &end, 10);
            if (end == p) break;
            want[n_want++] = (int32_t)v;
            p = end;
        }
        o = eol + 1;
        int32_t ids[600], n = 0;
        const et_status s = et_tokenize(m, texts[c], lens[c], NULL, 0, 600, ids, NULL, NULL, 600, &n, &err);
        int same = s == ET_OK && n == n_want + 2 && ids[0] == 101 && ids[n - 1] == 102;
        for (int i = 0; same && i < n_want; i++) same = ids[i + 1] == want[i];
        matched += same;
        CHECK(same, "case %d (%zu bytes, '%.40s'): %d tokens (status %d), llama.cpp expects %d", c, lens[c], texts[c], n - 2, s,
              n_want);
    }
    CHECK(n_cases == 46 && o == out + n_out, "%d texts in the .inp; the .out has more lines", n_cases);
    printf("llama.cpp's BERT (bge) tokenizer cases: %d of %d give llama.cpp's ids\n", matched, n_cases);
    et_model_free(m);
    free(model_bytes);
    free(inp);
    free(out);
    return tl_finish("test_llamacpp");
}
