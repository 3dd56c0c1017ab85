/*
 * fuzz_pipeline.c — libFuzzer target for the whole pipeline: a model file and a text, as a hostile page or
 * worker could hand them to the engine (make fuzz; seeds in tests/fixtures/fuzz-corpus/pipeline).
 *
 * Input: the model's bytes, then the text, then the text's length in two bytes (little-endian; more than what
 * is there means no text). A model that loads runs the text in a context of two 16-token windows (or what the
 * model allows): classified with a copy of it, or extracted both in one call and step by step. Asserts:
 *   - every failure has a declared status and a message; classify and extract fail only with INPUT (bad UTF-8),
 *     CAPACITY or NUMERIC (non-finite logits), never giving a result then;
 *   - a classification's label is in range, its score finite in [0, 1], the probabilities sum to about 1;
 *   - entities are in order, inside the text's code points, with finite scores in [0, 1] and known types, and the
 *     stepped extraction gives exactly the entities of the single call.
 */
#include <math.h>

#include "fuzz_common.h"
#include "unicode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int32_t code_points(const uint8_t *s, size_t n) {
    int32_t k = 0;
    for (size_t pos = 0; pos < n; k++) {
        uint32_t c;
        const size_t step = et_utf8_decode(s + pos, n - pos, &c);
        if (!step) return -1;
        pos += step;
    }
    return k;
}

static void check_entities(const et_model_info *in, const et_entity *e, int32_t n, int32_t cps) {
    for (int32_t i = 0; i < n; i++) {
        REQUIRE(e[i].start >= 0 && e[i].start < e[i].end && e[i].end <= cps);
        REQUIRE(i == 0 || e[i].start >= e[i - 1].end);
        REQUIRE(isfinite(e[i].score) && e[i].score >= 0 && e[i].score <= 1.0001f);
        REQUIRE(e[i].type >= 0 && e[i].type < in->n_entity_types);
        REQUIRE(e[i].label >= -1 && e[i].label < in->n_labels);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2 || size > (1u << 20)) return 0;
    size_t tlen = (size_t)data[size - 2] | (size_t)data[size - 1] << 8;
    if (tlen > size - 2) tlen = 0;
    const size_t msize = size - 2 - tlen;
    const char *text = (const char *)data + msize;
    uint8_t *copy = aligned_alloc(64, (msize + 63) / 64 * 64 + 64);
    if (!copy) return 0;
    if (msize) memcpy(copy, data, msize);
    et_model *m = NULL;
    et_error err;
    et_status s = et_model_load_from_buffer(copy, msize, NULL, &m, &err);
    if (s) {
        fuzz_check_error(s, err.message);
        free(copy);
        return 0;
    }
    et_model_info in;
    et_model_get_info(m, &in);
    et_context_params cp = et_context_default_params();
    const int32_t window = in.n_ctx < 16 ? in.n_ctx : 16;
    cp.max_tokens = 2 * window, cp.max_texts = 2, cp.max_seq = window;
    et_context *ctx = NULL;
    if (et_context_create(m, &cp, &ctx) != ET_OK) {
        et_model_free(m);
        free(copy);
        return 0;
    }
    const int32_t cps = code_points((const uint8_t *)text, tlen);
    if (in.task == ET_TASK_SEQUENCE_CLASSIFICATION) {
        const char *texts[2] = {text, text};
        const size_t lens[2] = {tlen, tlen / 2};
        s = et_context_classify(ctx, texts, lens, cps >= 0 && code_points((const uint8_t *)text, tlen / 2) >= 0 ? 2 : 1);
        if (s) {
            fuzz_check_error(s, et_context_last_error(ctx));
            REQUIRE(s == ET_ERR_INPUT || s == ET_ERR_CAPACITY || s == ET_ERR_NUMERIC);
            REQUIRE(cps >= 0 || s == ET_ERR_INPUT);
            REQUIRE(et_context_classification(ctx, 0, NULL, NULL, NULL, NULL) == ET_ERR_STATE);
        } else {
            int32_t label, esc;
            float score;
            const float *p;
            REQUIRE(et_context_classification(ctx, 0, &label, &score, &p, &esc) == ET_OK);
            REQUIRE(label >= 0 && label < in.n_labels && isfinite(score) && score >= 0 && score <= 1.0001f);
            double sum = 0;
            for (int32_t j = 0; j < in.n_labels; j++) sum += p[j];
            REQUIRE(fabs(sum - 1.0) < 1e-3);
        }
    } else if (in.task == ET_TASK_TOKEN_CLASSIFICATION) {
        static et_entity whole[4096];
        const et_entity *e;
        int32_t n = 0, esc, n_whole = -1;
        s = et_context_extract(ctx, text, tlen, ET_AGGREGATION_DEFAULT, -1, &e, &n, &esc);
        if (s) {
            fuzz_check_error(s, et_context_last_error(ctx));
            REQUIRE(s == ET_ERR_INPUT || s == ET_ERR_CAPACITY || s == ET_ERR_NUMERIC);
            REQUIRE(cps >= 0 || s == ET_ERR_INPUT);
        } else {
            REQUIRE(cps >= 0);
            check_entities(&in, e, n, cps);
            n_whole = n < 4096 ? n : 4096;
            memcpy(whole, e, (size_t)n_whole * sizeof *e);
        }
        if (et_context_extract_begin(ctx, text, tlen, ET_AGGREGATION_DEFAULT, -1) == ET_OK) {
            int32_t done = 0, total = 0;
            while (!done) {
                s = et_context_extract_next(ctx, &e, &n, &esc, &done);
                if (s) {
                    fuzz_check_error(s, et_context_last_error(ctx));
                    REQUIRE(s == ET_ERR_NUMERIC || s == ET_ERR_CAPACITY);
                    total = -1;
                    break;
                }
                check_entities(&in, e, n, cps);
                for (int32_t i = 0; i < n && n_whole >= 0; i++, total++)
                    REQUIRE(total < n_whole && !memcmp(&whole[total], &e[i], sizeof *e));
            }
            REQUIRE(n_whole < 0 || total == n_whole);
        }
    }
    et_context_free(ctx);
    et_model_free(m);
    free(copy);
    return 0;
}
