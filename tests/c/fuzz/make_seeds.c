/*
 * make_seeds.c — writes the seed corpora of the libFuzzer targets (make fuzz-seeds; the output is committed in
 * tests/fixtures/fuzz-corpus/): small models of every kind testlib builds, for the GGUF reader and the whole
 * pipeline (a model, then a text and its length as the pipeline target reads them), and a few inputs of bytes
 * for the decoder and the windows.
 *   build/fuzz/make_seeds DIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

static void write_file(const char *dir, const char *sub, const char *name, const void *a, size_t na, const void *b, size_t nb) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(a, 1, na, f) != na || (nb && fwrite(b, 1, nb, f) != nb) || fclose(f)) {
        fprintf(stderr, "make_seeds: cannot write %s\n", path);
        exit(1);
    }
}

/* The smallest shapes testlib builds: the seeds stay a few KB each. */
static tl_model_spec tiny(int task) {
    tl_model_spec s = tl_small_spec();
    s.n_layer = 1, s.n_embd = 8, s.n_head = 2, s.n_ff = 12, s.n_ctx = 16, s.n_vocab = 5 + FUZZ_N_WORDS, s.words = fuzz_words;
    s.task = task;
    if (task != ET_TASK_EMBEDDING) s.n_labels = 5, s.label_names = fuzz_labels;
    return s;
}

typedef struct seed_model {
    const char *name;
    tl_model_spec s;
} seed_model;

int main(int argc, char **argv) {
    if (argc != 2) return fprintf(stderr, "usage: make_seeds DIR\n"), 2;
    const char *dir = argv[1];
    seed_model models[10];
    int n = 0;
    models[n++] = (seed_model){"embedding", tiny(ET_TASK_EMBEDDING)};
    models[n] = (seed_model){"classifier", tiny(ET_TASK_SEQUENCE_CLASSIFICATION)};
    models[n].s.threshold = 0.7f, models[n].s.temperature = 1.5f, models[n++].s.abstain_label = "O";
    models[n] = (seed_model){"tagger", tiny(ET_TASK_TOKEN_CLASSIFICATION)};
    models[n++].s.aggregation = "first";
    models[n] = (seed_model){"tagger-f16", tiny(ET_TASK_TOKEN_CLASSIFICATION)};
    models[n++].s.weight_type = 1;
    models[n] = (seed_model){"classifier-q8_0", tiny(ET_TASK_SEQUENCE_CLASSIFICATION)};
    models[n].s.weight_type = 8, models[n].s.n_embd = 32, models[n].s.n_head = 2, models[n++].s.n_ff = 32;
    models[n] = (seed_model){"tagger-layout1", tiny(ET_TASK_TOKEN_CLASSIFICATION)};
    models[n++].s.layout = 1;
    models[n] = (seed_model){"vocab-only", tiny(ET_TASK_EMBEDDING)};
    models[n++].s.no_tensors = 1;
    static const char *const texts[] = {"john lives in new york", "hello world.", "caf\xc3\xa9 [SEP] x", ""};
    for (int i = 0; i < n; i++) {
        uint8_t *buf;
        const size_t size = tl_build_model(&models[i].s, &buf, NULL);
        write_file(dir, "gguf", models[i].name, buf, size, NULL, 0);
        if (i < 6) { /* the pipeline's: the model, the text, the text's length in two bytes */
            const char *t = texts[i % 4];
            uint8_t tail[600];
            const size_t tn = strlen(t);
            memcpy(tail, t, tn);
            tail[tn] = (uint8_t)(tn & 0xff), tail[tn + 1] = (uint8_t)(tn >> 8);
            write_file(dir, "pipeline", models[i].name, buf, size, tail, tn + 2);
        }
        /* An int8 copy, as edgetag quantize writes it. */
        if (i == 1 || i == 2) {
            void *q;
            size_t qn;
            if (et_quantize(buf, size, ET_QUANT_I8, &q, &qn, NULL) == ET_OK) {
                char name[64];
                snprintf(name, sizeof name, "%s-i8", models[i].name);
                write_file(dir, "gguf", name, q, qn, NULL, 0);
                free(q);
            }
        }
        free(buf);
    }
    /* Decoder and windows: control bytes, then probabilities or text. */
    static const char *const windows[] = {"\x08\x02\x01\x01john lives in new york hello world john lives in new york",
                                          "\x1f\x00\x03\x04hello [SEP] caf\xc3\xa9 x x x x x x x x x x x x x x x x x x x x x",
                                          "\x05\x02\x02\x02johnny yorker the a a a ##s . . ."};
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "seed-%d", i);
        write_file(dir, "windows", name, windows[i], strlen(windows[i]), NULL, 0);
        uint8_t bytes[300];
        for (int k = 0; k < 300; k++) bytes[k] = (uint8_t)(k * (37 + 16 * i) + i);
        write_file(dir, "decode", name, bytes, 64 + 100 * (size_t)i, NULL, 0);
    }
    return 0;
}
