/*
 * fuzz_windows.c — libFuzzer target for window merging: a text extracted step by step in a context of a few
 * windows against the same text's windows all run at once (make fuzz; seeds in tests/fixtures/fuzz-corpus/windows).
 *
 * Input: byte 0 picks the window (4 … 35 tokens), byte 1 the stride, byte 2 the windows per run (1 … 4), byte 3
 * the aggregation; the rest is the text. The reference tokenizes every window (et_tokenize_windows), runs them
 * in one batch, merges the rows (et_merge_windows), takes softmax(logits / T) and decodes them all at once
 * (et__decode_entities). Asserts that et_context_extract and the steps of et_context_extract_begin/_next give
 * exactly its entities (batches are bit-identical row by row, so exactly), and the same escalation.
 */
#include <math.h>

#include "fuzz_common.h"
#include "tagging.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static et_model *model;
static uint8_t *model_buf;

enum { MAX_TEXT = 1500, MAX_TOKENS = 4 * MAX_TEXT + 64 };

static int32_t reference(const char *text, size_t len, int32_t window, int32_t stride, int32_t agg, et_entity *out, int32_t *esc) {
    static int32_t ids[MAX_TOKENS * 2], offs[MAX_TOKENS * 4], lengths[MAX_TOKENS], first[MAX_TOKENS], tid[MAX_TOKENS], toff[2 * MAX_TOKENS];
    static float probs[MAX_TOKENS * 5];
    static double scratch[MAX_TOKENS * 2 + 8];
    int32_t nt, nw;
    et_error err;
    if (et_tokenize_windows(model, text, len, window, stride, ids, offs, MAX_TOKENS * 2, lengths, first, MAX_TOKENS, &nt, &nw, &err))
        return -1;
    et_context_params cp = et_context_default_params();
    cp.max_tokens = nt, cp.max_texts = nw, cp.max_seq = window;
    et_context *ctx = NULL;
    REQUIRE(et_context_create(model, &cp, &ctx) == ET_OK);
    REQUIRE(et_context_run(ctx, ids, NULL, lengths, nw) == ET_OK);
    const float *logits;
    int32_t rows, C;
    et_context_logits(ctx, &logits, &rows, &C);
    const int32_t n = first[nw - 1] + lengths[nw - 1] - 2;
    REQUIRE(et_merge_windows(logits, C, lengths, first, nw, probs, n) == ET_OK);
    et_model_info in;
    et_model_get_info(model, &in);
    for (int32_t t = 0; t < n; t++) REQUIRE(et__softmax_row(probs + (size_t)t * C, C, in.temperature, probs + (size_t)t * C));
    for (int32_t w = 0, row = 0; w < nw; row += lengths[w], w++)
        for (int32_t j = 0; j < lengths[w] - 2; j++) {
            const int32_t t = first[w] + j;
            tid[t] = ids[row + 1 + j], toff[2 * t] = offs[2 * (row + 1 + j)], toff[2 * t + 1] = offs[2 * (row + 1 + j) + 1];
        }
    const int32_t ne = et__decode_entities(model, probs, tid, toff, n, agg, scratch, out);
    *esc = 0;
    for (int32_t i = 0; i < ne; i++) *esc |= out[i].score < in.threshold;
    et_context_free(ctx);
    return ne;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 4 || size - 4 > MAX_TEXT) return 0;
    if (!model) {
        tl_model_spec s = fuzz_tagger_spec(40);
        const size_t n = tl_build_model(&s, &model_buf, NULL);
        REQUIRE(et_model_load_from_buffer(model_buf, n, NULL, &model, NULL) == ET_OK);
    }
    const int32_t window = 4 + data[0] % 32, stride = data[1] % (window - 2), per_run = 1 + data[2] % 4;
    const int32_t agg = data[3] % 5;
    const char *text = (const char *)data + 4;
    const size_t len = size - 4;
    static et_entity want[MAX_TOKENS], got[MAX_TOKENS];
    int32_t want_esc;
    const int32_t nref = reference(text, len, window, stride, agg, want, &want_esc);
    if (nref < 0) return 0; /* not UTF-8: test_tokenizer and fuzz_tokenizer cover the refusal */
    et_context_params cp = et_context_default_params();
    cp.max_tokens = window * per_run, cp.max_texts = per_run, cp.max_seq = window;
    et_context *ctx = NULL;
    REQUIRE(et_context_create(model, &cp, &ctx) == ET_OK);
    const et_entity *e;
    int32_t n, esc, done = 0, total = 0;
    const et_status s = et_context_extract(ctx, text, len, agg, stride, &e, &n, &esc);
    if (nref <= cp.max_tokens) {
        REQUIRE(s == ET_OK && n == nref && !memcmp(e, want, (size_t)n * sizeof *e) && esc == want_esc);
    } else {
        REQUIRE(s == ET_ERR_CAPACITY);
    }
    REQUIRE(et_context_extract_begin(ctx, text, len, agg, stride) == ET_OK);
    while (!done) {
        REQUIRE(et_context_extract_next(ctx, &e, &n, &esc, &done) == ET_OK);
        REQUIRE(n <= cp.max_tokens + 2 && total + n <= nref);
        memcpy(got + total, e, (size_t)n * sizeof *e);
        total += n;
    }
    REQUIRE(total == nref && !memcmp(got, want, (size_t)total * sizeof *got) && esc == want_esc);
    et_context_free(ctx);
    return 0;
}
