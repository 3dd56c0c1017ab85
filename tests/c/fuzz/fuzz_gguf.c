/*
 * fuzz_gguf.c — libFuzzer target for the GGUF reader and the model loader (make fuzz; seeds in
 * tests/fixtures/fuzz-corpus/gguf: small models of every kind testlib builds).
 *
 * Input: a file's bytes. They are loaded from an aligned copy as a model (borrowed, and borrowed with
 * pack_in_place) and as a vocabulary. Besides the sanitizers' checks it asserts:
 *   - a failure has a status the header declares and a NUL-terminated message, and leaves *out NULL;
 *   - a model that loads answers every query consistently: info within its own bounds, a label for every
 *     index below n_labels (distinct, NUL-free: each a C string of its own), a name for every entity type
 *     and tensor, tensors inside the file;
 *   - it tokenizes a text and, unless it is vocabulary-only, runs it through a context of 8 tokens: the run
 *     succeeds (or refuses the text) and tagging gives finite probabilities or ET_ERR_NUMERIC.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise(et_model *m, const uint8_t *file, size_t size) {
    et_model_info in;
    REQUIRE(et_model_get_info(m, &in) == ET_OK);
    REQUIRE(in.task >= ET_TASK_EMBEDDING && in.task <= ET_TASK_TOKEN_CLASSIFICATION);
    REQUIRE(in.n_vocab > 0 && in.name && in.version);
    for (int32_t i = 0; i < in.n_labels; i++) {
        const char *l = et_model_label(m, i);
        REQUIRE(l != NULL);
        for (int32_t j = 0; j < i && j < 64; j++) REQUIRE(strcmp(l, et_model_label(m, j)) != 0);
    }
    REQUIRE(et_model_label(m, in.n_labels) == NULL && et_model_label(m, -1) == NULL);
    for (int32_t i = 0; i < in.n_entity_types; i++) REQUIRE(et_model_entity_type(m, i) != NULL);
    REQUIRE(in.abstain_label >= -1 && in.abstain_label < (in.n_labels > 0 ? in.n_labels : 1));
    for (int32_t i = 0; i < in.n_tensors; i++) {
        et_tensor_info t;
        REQUIRE(et_model_tensor_info(m, i, &t) == ET_OK && t.name);
        REQUIRE((uint64_t)t.offset + t.n_bytes <= size);
    }
    (void)file;
    static const char text[] = "john lives in new york, caf\xc3\xa9 [SEP] x";
    int32_t ids[64], n;
    et_error err;
    const et_status ts = et_tokenize(m, text, sizeof text - 1, NULL, 0, 8, ids, NULL, NULL, 64, &n, &err);
    if (ts) {
        fuzz_check_error(ts, err.message);
        return;
    }
    REQUIRE(n >= 2 && n <= 8);
    for (int32_t i = 0; i < n; i++) REQUIRE(ids[i] >= 0 && ids[i] < in.n_vocab);
    et_context_params cp = et_context_default_params();
    cp.max_tokens = 8, cp.max_texts = 2, cp.max_seq = in.n_ctx < 8 ? in.n_ctx : 8;
    et_context *ctx = NULL;
    const et_status cs = et_context_create(m, &cp, &ctx);
    if (cs) {
        REQUIRE(ctx == NULL && (cs == ET_ERR_UNSUPPORTED || cs == ET_ERR_OUT_OF_MEMORY || cs == ET_ERR_INVALID_ARGUMENT));
        return;
    }
    if (in.task == ET_TASK_SEQUENCE_CLASSIFICATION) {
        const char *texts[1] = {text};
        const size_t lens[1] = {sizeof text - 1};
        const et_status s = et_context_classify(ctx, texts, lens, 1);
        if (s) fuzz_check_error(s, et_context_last_error(ctx));
        else {
            float score;
            const float *p;
            int32_t label, esc;
            REQUIRE(et_context_classification(ctx, 0, &label, &score, &p, &esc) == ET_OK);
            REQUIRE(label >= 0 && label < in.n_labels && score >= 0 && score <= 1 && p[label] == score);
        }
    } else if (in.task == ET_TASK_TOKEN_CLASSIFICATION) {
        const et_entity *e;
        int32_t ne, esc;
        const et_status s = et_context_extract(ctx, text, sizeof text - 1, ET_AGGREGATION_DEFAULT, -1, &e, &ne, &esc);
        if (s) fuzz_check_error(s, et_context_last_error(ctx));
        else
            for (int32_t i = 0; i < ne; i++) REQUIRE(e[i].start < e[i].end && e[i].score >= 0 && e[i].score <= 1);
    } else {
        const et_status s = et_context_run(ctx, ids, NULL, &n, 1);
        if (s) fuzz_check_error(s, et_context_last_error(ctx));
    }
    et_context_free(ctx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > (1u << 20)) return 0;
    uint8_t *copy = aligned_alloc(64, (size + 63) / 64 * 64 + 64);
    if (!copy) return 0;
    for (int mode = 0; mode < 3; mode++) {
        if (size) memcpy(copy, data, size);
        et_model_params p = et_model_default_params();
        p.pack_in_place = mode == 1;
        et_model *m = (et_model *)1;
        et_error err;
        const et_status s = mode == 2 ? et_model_load_vocab_from_buffer(copy, size, &p, &m, &err)
                                      : et_model_load_from_buffer(copy, size, &p, &m, &err);
        if (s) {
            REQUIRE(m == NULL && err.status == s);
            fuzz_check_error(s, err.message);
            continue;
        }
        exercise(m, copy, size);
        et_model_free(m);
    }
    free(copy);
    return 0;
}
