/*
 * test_tagging.c — text in, labels out: the entity decoder against hand-worked cases of Hugging Face's
 * token-classification pipeline (aggregation none, simple, first, average, max), and classify/extract
 * end to end on small models (calibration, escalation, windows, errors, no allocation).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tagging.h"
#include "testlib.h"

static const char *const labels[] = {"O", "B-PER", "I-PER", "B-LOC", "I-LOC"};
static const char *const words[] = {"john", "##ny", "lives", "in", "new", "york", "##er", "x", "hello", "world"};
enum { JOHN = 5, NY, LIVES, IN, NEW, YORK, ER, X, HELLO, WORLD };

static et_model *tagger(uint8_t **buf, float temperature, float threshold) {
    tl_model_spec s = tl_small_spec();
    s.task = ET_TASK_TOKEN_CLASSIFICATION, s.n_labels = 5, s.label_names = labels;
    s.n_vocab = 5 + (int)(sizeof words / sizeof words[0]), s.words = words;
    s.temperature = temperature, s.threshold = threshold;
    const size_t n = tl_build_model(&s, buf, NULL);
    et_model *m = NULL;
    et_error err;
    CHECK(et_model_load_from_buffer(*buf, n, NULL, &m, &err) == ET_OK, "load: %s", err.message);
    return m;
}

typedef struct want {
    const char *type;
    const char *label; /* NONE only */
    float score;
    int32_t start, end;
} want;

static void expect(et_model *m, int32_t aggregation, const want *w, int nw, const char *what) {
    /* "Johnny lives in New Yorker [SEP] x" */
    static const int32_t ids[] = {JOHN, NY, LIVES, IN, NEW, YORK, ER, 2 /* [SEP] typed */, X};
    static const int32_t offs[] = {0, 4, 4, 6, 7, 12, 13, 15, 16, 19, 20, 24, 24, 26, 27, 32, 33, 34};
    static const float probs[][5] = {
        {.025f, .9f, .025f, .025f, .025f},         {.0333333f, .0333333f, .4f, .5f, .0333334f},
        {.95f, .0125f, .0125f, .0125f, .0125f},    {.9f, .025f, .025f, .025f, .025f},
        {.05f, .05f, .05f, .8f, .05f},             {.075f, .075f, .075f, .075f, .7f},
        {.0625f, .75f, .0625f, .0625f, .0625f},    {.2f, .2f, .2f, .2f, .2f},
        {.1125f, .1125f, .1125f, .1125f, .55f},
    };
    float scratch[9 * 4];
    et_entity out[9];
    const int32_t n = et__decode_entities(m, &probs[0][0], ids, offs, 9, aggregation, scratch, out);
    CHECK(n == nw, "%s: %d entities, want %d", what, n, nw);
    for (int i = 0; i < n && i < nw; i++) {
        const char *type = et_model_entity_type(m, out[i].type);
        CHECK(type && !strcmp(type, w[i].type), "%s #%d: type %s, want %s", what, i, type ? type : "?", w[i].type);
        CHECK(out[i].start == w[i].start && out[i].end == w[i].end, "%s #%d: [%d, %d), want [%d, %d)", what, i, out[i].start,
              out[i].end, w[i].start, w[i].end);
        CHECK(fabsf(out[i].score - w[i].score) < 1e-5f, "%s #%d: score %.6f, want %.6f", what, i, out[i].score, w[i].score);
        if (w[i].label) CHECK(out[i].label >= 0 && !strcmp(et_model_label(m, out[i].label), w[i].label), "%s #%d label", what, i);
        else CHECK(out[i].label == -1, "%s #%d: grouped entities carry no token label", what, i);
    }
}

/* Worked by hand from the pipeline's code: words are a token and its "##" pieces; the typed [SEP] is
 * skipped (no entity, and it does not break a group); O groups are dropped. */
static void test_aggregations(void) {
    uint8_t *buf;
    et_model *m = tagger(&buf, 0, -1);
    et_model_info in;
    et_model_get_info(m, &in);
    CHECK(in.n_entity_types == 2 && !strcmp(et_model_entity_type(m, 0), "PER") && !strcmp(et_model_entity_type(m, 1), "LOC") &&
              et_model_entity_type(m, 2) == NULL, "entity types");
    const want none[] = {{"PER", "B-PER", .9f, 0, 4},  {"LOC", "B-LOC", .5f, 4, 6},   {"LOC", "B-LOC", .8f, 16, 19},
                         {"LOC", "I-LOC", .7f, 20, 24}, {"PER", "B-PER", .75f, 24, 26}, {"LOC", "I-LOC", .55f, 33, 34}};
    expect(m, ET_AGGREGATION_NONE, none, 6, "none");
    const want simple[] = {{"PER", 0, .9f, 0, 4}, {"LOC", 0, .5f, 4, 6}, {"LOC", 0, .75f, 16, 24}, {"PER", 0, .75f, 24, 26},
                           {"LOC", 0, .55f, 33, 34}};
    expect(m, ET_AGGREGATION_SIMPLE, simple, 5, "simple");
    /* first: "johnny" takes john's B-PER; "yorker" takes york's I-LOC and continues "new"; x's stray
     * I-LOC continues it too, across the typed [SEP]. */
    const want first[] = {{"PER", 0, .9f, 0, 6}, {"LOC", 0, (.8f + .7f + .55f) / 3, 16, 34}};
    expect(m, ET_AGGREGATION_FIRST, first, 2, "first");
    /* max: "yorker" takes ##er's B-PER (0.75 > 0.7). */
    const want max[] = {{"PER", 0, .9f, 0, 6}, {"LOC", 0, .8f, 16, 19}, {"PER", 0, .75f, 20, 26}, {"LOC", 0, .55f, 33, 34}};
    expect(m, ET_AGGREGATION_MAX, max, 4, "max");
    /* average: johnny = mean(john, ##ny) → B-PER 0.466667; yorker = mean(york, ##er) → B-PER 0.4125. */
    const want avg[] = {{"PER", 0, (.9f + .0333333f) / 2, 0, 6}, {"LOC", 0, .8f, 16, 19}, {"PER", 0, (.075f + .75f) / 2, 20, 26},
                        {"LOC", 0, .55f, 33, 34}};
    expect(m, ET_AGGREGATION_AVERAGE, avg, 4, "average");
    et_model_free(m);
    free(buf);
}

/* End to end on a random-weight tagger: the invariants, the calibration, long texts in windows. */
static void test_extract(void) {
    uint8_t *buf;
    et_model *m = tagger(&buf, 1.0f, 0.99f);
    et_context *ctx = NULL;
    et_context_params cp = et_context_default_params();
    cp.max_tokens = 256, cp.max_texts = 16;
    CHECK(et_context_create(m, &cp, &ctx) == ET_OK, "context");
    const char *text = "hello world john lives in new york hello";
    const et_entity *e;
    int32_t n, esc;
    for (int agg = ET_AGGREGATION_NONE; agg <= ET_AGGREGATION_MAX; agg++) {
        CHECK(et_context_extract(ctx, text, strlen(text), agg, -1, &e, &n, &esc) == ET_OK, "extract: %s", et_context_last_error(ctx));
        for (int32_t i = 0; i < n; i++) {
            CHECK(e[i].start >= 0 && e[i].start < e[i].end && e[i].end <= (int32_t)strlen(text), "entity %d span", i);
            CHECK(i == 0 || e[i].start >= e[i - 1].end, "entities in order, not overlapping");
            CHECK(e[i].score > 0 && e[i].score <= 1, "score %g", e[i].score);
        }
        CHECK(esc == (n > 0), "threshold 0.99: any entity escalates (n=%d esc=%d)", n, esc);
    }
    /* A text 10× longer than the model's 32 positions runs in windows; its start is tagged as alone. */
    char longer[1024] = "";
    for (int i = 0; i < 20; i++) strcat(longer, "hello world john lives ");
    const et_entity *e2;
    int32_t n2;
    CHECK(et_context_extract(ctx, longer, strlen(longer), ET_AGGREGATION_NONE, 8, &e2, &n2, &esc) == ET_OK, "windows: %s",
          et_context_last_error(ctx));
    CHECK(n2 > 0 && e2[n2 - 1].end > 400, "entities through the whole text (last ends at %d)", n2 ? e2[n2 - 1].end : -1);
    /* 10,000 tokens in a context of 256: the windows run a few at a time; the answer is all there, or, when the
     * entities outnumber max_tokens, a capacity error that names the steps that hand them out in parts. */
    char *huge = malloc(20001);
    memset(huge, 'x', 20000);
    for (int i = 1; i < 20000; i += 2) huge[i] = ' ';
    huge[20000] = '\0';
    const et_status st = et_context_extract(ctx, huge, 20000, ET_AGGREGATION_SIMPLE, -1, &e2, &n2, &esc);
    CHECK((st == ET_OK && n2 > 0 && e2[n2 - 1].end > 19000) ||
              (st == ET_ERR_CAPACITY && strstr(et_context_last_error(ctx), "et_context_extract_begin")),
          "a long text: %s", et_context_last_error(ctx));
    free(huge);
    const char *texts[1] = {"x"};
    const size_t lens[1] = {1};
    CHECK(et_context_classify(ctx, texts, lens, 1) == ET_ERR_STATE, "classify with a tagger");
    CHECK(et_context_extract(ctx, text, strlen(text), 9, -1, &e, &n, &esc) == ET_ERR_INVALID_ARGUMENT, "aggregation 9");
    CHECK(et_context_extract(ctx, "\xff", 1, 1, -1, &e, &n, &esc) == ET_ERR_INPUT, "invalid UTF-8");
    /* No allocation in extraction. */
    const long before = tl_alloc_calls();
    et_context_extract(ctx, longer, strlen(longer), ET_AGGREGATION_AVERAGE, 8, &e2, &n2, &esc);
    CHECK(tl_alloc_calls() == before, "extract allocated");
    et_context_free(ctx);
    et_model_free(m);
    free(buf);
}

static void test_classify(void) {
    static const char *const intents[] = {"greet", "oos", "bye"};
    for (int with_threshold = 0; with_threshold < 2; with_threshold++) {
        tl_model_spec s = tl_small_spec();
        s.task = ET_TASK_SEQUENCE_CLASSIFICATION, s.n_labels = 3, s.label_names = intents;
        s.n_vocab = 5 + (int)(sizeof words / sizeof words[0]), s.words = words;
        s.temperature = 2.0f, s.threshold = with_threshold ? 0.99f : -1, s.abstain_label = "oos";
        uint8_t *buf;
        const size_t size = tl_build_model(&s, &buf, NULL);
        et_model *m = NULL;
        et_model_load_from_buffer(buf, size, NULL, &m, NULL);
        et_context *ctx = NULL;
        et_context_create(m, NULL, &ctx);
        const char *texts[3] = {"hello world", "john lives in new york", ""};
        const size_t lens[3] = {11, 22, 0};
        CHECK(et_context_classify(ctx, texts, lens, 3) == ET_OK, "classify: %s", et_context_last_error(ctx));
        const float *logits;
        int32_t rows, cols;
        CHECK(et_context_logits(ctx, &logits, &rows, &cols) == ET_OK && rows == 3 && cols == 3, "logits of the batch");
        for (int i = 0; i < 3; i++) {
            int32_t label, esc;
            float score;
            const float *p;
            CHECK(et_context_classification(ctx, i, &label, &score, &p, &esc) == ET_OK, "result %d", i);
            /* softmax(logits / 2) by hand */
            double z = 0, q[3];
            for (int j = 0; j < 3; j++) z += q[j] = exp(logits[i * 3 + j] / 2.0);
            for (int j = 0; j < 3; j++) CHECK(fabs(p[j] - q[j] / z) < 1e-6, "text %d probability %d", i, j);
            CHECK(score == p[label] && score >= p[0] && score >= p[1] && score >= p[2], "best label");
            const int expected = (with_threshold && score < 0.99f) || label == 1;
            CHECK(esc == expected, "text %d: escalate %d, label %s score %g", i, esc, intents[label], score);
        }
        CHECK(et_context_classification(ctx, 3, NULL, NULL, NULL, NULL) == ET_ERR_INVALID_ARGUMENT, "index past the batch");
        const et_entity *e;
        int32_t n, esc;
        CHECK(et_context_extract(ctx, "x", 1, 1, -1, &e, &n, &esc) == ET_ERR_STATE, "extract with a classifier");
        CHECK(et_context_classification(ctx, 0, NULL, NULL, NULL, NULL) == ET_ERR_STATE, "results gone after a failed call");
        et_context_free(ctx);
        et_model_free(m);
        free(buf);
    }
}

/* edgetag.escalation.abstain_label: predicting that label escalates, whatever its name; without the key no
 * label does (not even one named "oos"). Bad values: test_gguf.c. */
static void test_abstain_label(void) {
    static const char *const intents[] = {"greet", "oos", "bye"};
    static const char *const texts[6] = {"hello world", "john lives in new york", "", "x", "new york", "johnny"};
    const size_t lens[6] = {11, 22, 0, 1, 8, 6};
    for (int abstain = -1; abstain < 3; abstain++) {
        tl_model_spec s = tl_small_spec();
        s.task = ET_TASK_SEQUENCE_CLASSIFICATION, s.n_labels = 3, s.label_names = intents;
        s.n_vocab = 5 + (int)(sizeof words / sizeof words[0]), s.words = words;
        s.abstain_label = abstain < 0 ? NULL : intents[abstain];
        uint8_t *buf;
        const size_t size = tl_build_model(&s, &buf, NULL);
        et_model *m = NULL;
        et_error err;
        CHECK(et_model_load_from_buffer(buf, size, NULL, &m, &err) == ET_OK, "load: %s", err.message);
        et_context *ctx = NULL;
        et_context_create(m, NULL, &ctx);
        CHECK(et_context_classify(ctx, texts, lens, 6) == ET_OK, "classify: %s", et_context_last_error(ctx));
        for (int i = 0; i < 6; i++) {
            int32_t label, esc;
            et_context_classification(ctx, i, &label, NULL, NULL, &esc);
            CHECK(esc == (label == abstain), "abstain label %s, text %d: label %s, escalate %d",
                  abstain < 0 ? "(absent)" : intents[abstain], i, intents[label], esc);
        }
        et_context_free(ctx);
        et_model_free(m);
        free(buf);
    }
}

/* edgetag.tagging.aggregation: the default of et_context_extract; a bad value is a corrupt file. */
static void test_default_aggregation(void) {
    const char *text = "johnny lives in new yorker";
    static const char *const modes[] = {"none", "simple", "first", "average", "max"};
    for (int k = -1; k < 5; k++) {
        tl_model_spec s = tl_small_spec();
        s.task = ET_TASK_TOKEN_CLASSIFICATION, s.n_labels = 5, s.label_names = labels;
        s.n_vocab = 5 + (int)(sizeof words / sizeof words[0]), s.words = words;
        s.aggregation = k < 0 ? NULL : modes[k];
        uint8_t *buf;
        const size_t size = tl_build_model(&s, &buf, NULL);
        et_model *m = NULL;
        et_error err;
        CHECK(et_model_load_from_buffer(buf, size, NULL, &m, &err) == ET_OK, "load: %s", err.message);
        et_model_info in;
        et_model_get_info(m, &in);
        const int32_t own = k < 0 ? ET_AGGREGATION_SIMPLE : k;
        CHECK(in.aggregation == own, "aggregation %s: info says %d", s.aggregation ? s.aggregation : "(absent)", in.aggregation);
        et_context *ctx = NULL;
        CHECK(et_context_create(m, NULL, &ctx) == ET_OK, "context");
        /* DEFAULT gives exactly what the model's own mode gives. */
        const et_entity *e;
        int32_t n, esc;
        CHECK(et_context_extract(ctx, text, strlen(text), own, -1, &e, &n, &esc) == ET_OK, "extract");
        et_entity expect_e[64];
        const int32_t expect_n = n < 64 ? n : 64;
        memcpy(expect_e, e, (size_t)expect_n * sizeof *e);
        CHECK(et_context_extract(ctx, text, strlen(text), ET_AGGREGATION_DEFAULT, -1, &e, &n, &esc) == ET_OK, "extract default");
        CHECK(n == expect_n && !memcmp(e, expect_e, (size_t)n * sizeof *e), "default = %d: %d vs %d entities", own, n, expect_n);
        et_context_free(ctx);
        et_model_free(m);
        free(buf);
    }
    tl_model_spec s = tl_small_spec();
    s.task = ET_TASK_TOKEN_CLASSIFICATION, s.n_labels = 5, s.label_names = labels;
    s.aggregation = "maximum";
    uint8_t *buf;
    const size_t size = tl_build_model(&s, &buf, NULL);
    et_model *m = NULL;
    et_error err;
    CHECK(et_model_load_from_buffer(buf, size, NULL, &m, &err) == ET_ERR_CORRUPT && strstr(err.message, "'maximum'"),
          "bad aggregation: %s", err.message);
    free(buf);
}

int main(void) {
    test_aggregations();
    test_extract();
    test_classify();
    test_abstain_label();
    test_default_aggregation();
    return tl_finish("test_tagging");
}
