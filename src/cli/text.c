/*
 * text.c — tokenize: the ids, type ids and code-point offsets of each TEXT (classify and extract, which also take
 * text, are tag.c's).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* One text's ids, type ids and code-point offsets (and --pair's) as a JSON line; 0, or 1 after a message. */
static int tokenize_one(const et_model *m, const char *text, const char *pair, int32_t max_length) {
    const size_t tl = strlen(text), pl = pair ? strlen(pair) : 0;
    et_error err;
    int32_t n = 0, *buf = NULL;
    int oom = 0;
    if (et_tokenize(m, text, tl, pair, pl, max_length, NULL, NULL, NULL, 0, &n, &err) ||
        (oom = !(buf = malloc(((size_t)n * 4 + 1) * sizeof *buf))) ||
        et_tokenize(m, text, tl, pair, pl, max_length, buf, buf + n, buf + 2 * n, n, &n, &err)) {
        fprintf(stderr, "edgetag: %s\n", oom ? "out of memory" : err.message);
        free(buf);
        return 1;
    }
    fputs("{\"ids\":", stdout);
    cli_print_ints(buf, n, 1, 0);
    fputs(",\"type_ids\":", stdout);
    cli_print_ints(buf + n, n, 1, 0);
    fputs(",\"offsets\":", stdout);
    cli_print_ints(buf + 2 * n, n, 2, 1);
    fputs("}\n", stdout);
    free(buf);
    return 0;
}

/* tokenize: ids, type ids and code-point offsets of each TEXT (and --pair), a JSON line each. Only the
 * model's tokenizer is loaded: llama.cpp's vocabulary-only files work too. */
int cli_tokenize(int argc, char **argv) {
    const char *model_path = NULL, *pair = NULL;
    /* The texts, gathered at the front of argv + 2: the n-th text is never before argument n + 2. */
    char **texts = argv + 2;
    int n_texts = 0;
    long max_length = 0;
    for (int i = 2; i < argc; i++) {
        const int has_val = i + 1 < argc;
        if (!strcmp(argv[i], "--model") && has_val) model_path = argv[++i];
        else if (!strcmp(argv[i], "--pair") && has_val) pair = argv[++i];
        else if (!strcmp(argv[i], "--max-length") && has_val) {
            char *end;
            max_length = strtol(argv[++i], &end, 10);
            if (*end || max_length < 0 || max_length > INT32_MAX) return cli_usage("--max-length takes a non-negative integer");
        } else if (!strcmp(argv[i], "--")) { /* the rest are texts, even those starting with '-' */
            while (++i < argc) texts[n_texts++] = argv[i];
        } else if (argv[i][0] != '-' || argv[i][1] == '\0') texts[n_texts++] = argv[i];
        else {
            fprintf(stderr, "edgetag: unknown or incomplete option '%s'\n", argv[i]);
            return cli_usage(NULL);
        }
    }
    if (!model_path || !n_texts) return cli_usage("tokenize needs --model and a TEXT");
    et_model *m = cli_open_vocab(model_path); /* the tokenizer is all it needs */
    if (!m) return 1;
    int rc = 0;
    for (int t = 0; t < n_texts && !rc; t++) rc = tokenize_one(m, texts[t], pair, (int32_t)max_length);
    if (fflush(stdout) != 0) rc = 1;
    et_model_free(m);
    return rc;
}
