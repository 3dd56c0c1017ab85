/*
 * text.c — the commands that take text: tokenize (ids, type ids and offsets), classify (label, score,
 * escalation advice) and extract (entities with their code-point spans), each TEXT given or, for classify
 * and extract with --jsonl, one JSON string per line of stdin.
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

/* The bytes of code points [start, end) of UTF-8 text (valid: the tokenizer checked it). */
static void cp_slice(const char *text, int32_t start, int32_t end, const char **p, size_t *n) {
    const char *s = text;
    for (int32_t i = 0; i < start && *s; i++) do s++; while ((*s & 0xC0) == 0x80);
    const char *e = s;
    for (int32_t i = start; i < end && *e; i++) do e++; while ((*e & 0xC0) == 0x80);
    *p = s, *n = (size_t)(e - s);
}

typedef struct tag_args {
    const char *model;
    const char *texts[64];
    int n_texts, json, aggregation, jsonl;
} tag_args;

static int parse_tag_args(int argc, char **argv, tag_args *a) {
    a->aggregation = ET_AGGREGATION_DEFAULT;
    for (int i = 2; i < argc; i++) {
        const int has_val = i + 1 < argc;
        if (!strcmp(argv[i], "--model") && has_val) a->model = argv[++i];
        else if (!strcmp(argv[i], "--json")) a->json = 1;
        else if (!strcmp(argv[i], "--jsonl")) a->jsonl = a->json = 1;
        else if (!strcmp(argv[i], "--aggregation") && has_val) {
            static const char *const names[] = {"none", "simple", "first", "average", "max"};
            const char *v = argv[++i];
            a->aggregation = -2;
            for (int k = 0; k < 5; k++)
                if (!strcmp(v, names[k])) a->aggregation = k;
            if (a->aggregation < 0) return cli_usage("--aggregation is none, simple, first, average or max");
        } else if (!strcmp(argv[i], "--")) { /* every later argument is a text, even one that starts with '-' */
            for (i++; i < argc; i++) {
                if (a->n_texts == 64) return cli_usage("at most 64 texts");
                a->texts[a->n_texts++] = argv[i];
            }
        } else if (argv[i][0] != '-' || !argv[i][1]) {
            if (a->n_texts == 64) return cli_usage("at most 64 texts");
            a->texts[a->n_texts++] = argv[i];
        } else {
            fprintf(stderr, "edgetag: unknown or incomplete option '%s'\n", argv[i]);
            return cli_usage(NULL);
        }
    }
    if (!a->model || (!a->n_texts && !a->jsonl)) return cli_usage("--model and a TEXT (or --jsonl) are required");
    if (a->n_texts && a->jsonl) return cli_usage("--jsonl reads the texts from stdin: no TEXT");
    return 0;
}

/* classify and extract: their arguments, and the model with its info; 0, or the exit status. */
static int start_tag_command(int argc, char **argv, tag_args *a, et_model **m, et_model_info *in) {
    const int rc = parse_tag_args(argc, argv, a);
    if (rc) return rc;
    if (!(*m = cli_open_model(a->model))) return 1;
    et_model_get_info(*m, in);
    return 0;
}

/* Prints text i of the last classification: "label score" or, with json, {label, score, scores, escalate}. */
static void print_classification(et_context *ctx, const et_model *m, int i, int json) {
    int32_t label, escalate;
    float score;
    const float *probs;
    et_context_classification(ctx, i, &label, &score, &probs, &escalate);
    const char *name = et_model_label(m, label);
    if (!json) {
        printf("%s\t%.4f%s\n", name, (double)score, escalate ? "\tescalate" : "");
        return;
    }
    et_model_info in;
    et_model_get_info(m, &in);
    fputs("{\"label\":", stdout);
    cli_print_json_string(name, strlen(name));
    printf(",\"score\":%.9g,\"scores\":{", (double)score);
    for (int j = 0; j < in.n_labels; j++) {
        if (j) putchar(',');
        cli_print_json_string(et_model_label(m, j), strlen(et_model_label(m, j)));
        printf(":%.9g", (double)probs[j]);
    }
    printf("},\"escalate\":%s}\n", escalate ? "true" : "false");
}

/* Prints the entities of `text`: one per line, or with json {"entities": [...], "escalate"}. */
static void print_entities(const et_model *m, const char *text, const et_entity *ents, int32_t n, int32_t escalate, int json) {
    if (json) fputs("{\"entities\":[", stdout);
    for (int32_t i = 0; i < n; i++) {
        const char *name = ents[i].label >= 0 ? et_model_label(m, ents[i].label) : et_model_entity_type(m, ents[i].type);
        const char *p;
        size_t pn;
        cp_slice(text, ents[i].start, ents[i].end, &p, &pn);
        if (!json) {
            printf("%s\t%.4f\t%d\t%d\t%.*s\n", name, (double)ents[i].score, ents[i].start, ents[i].end, (int)pn, p);
            continue;
        }
        if (i) putchar(',');
        fputs("{\"label\":", stdout);
        cli_print_json_string(name, strlen(name));
        printf(",\"score\":%.9g,\"start\":%d,\"end\":%d,\"text\":", (double)ents[i].score, ents[i].start, ents[i].end);
        cli_print_json_string(p, pn);
        putchar('}');
    }
    if (json) printf("],\"escalate\":%s}\n", escalate ? "true" : "false");
    else if (escalate) puts("escalate"); /* an entity is below the model's threshold */
}

/* classify: the texts given, or with --jsonl one JSON string per line of stdin (a result per line). */
int cli_classify(int argc, char **argv) {
    tag_args a = {0};
    et_model *m;
    et_model_info in;
    int rc = start_tag_command(argc, argv, &a, &m, &in);
    if (rc) return rc;
    enum { BATCH = 32 };
    et_context *ctx = NULL;
    et_context_params cp = et_context_default_params();
    cp.max_texts = BATCH, cp.max_tokens = in.n_ctx * BATCH;
    if (et_context_create(m, &cp, &ctx)) {
        fprintf(stderr, "edgetag: cannot create a context\n");
        et_model_free(m);
        return 1;
    }
    rc = 0;
    for (int done = 0, line_no = 0; !rc;) {
        const char *texts[BATCH];
        char *owned[BATCH];
        size_t lengths[BATCH];
        int n = 0;
        if (a.jsonl) {
            char *line;
            while (n < BATCH && (line = cli_read_line())) {
                line_no++;
                owned[n] = cli_json_string(line, &lengths[n]);
                free(line);
                if (!owned[n]) {
                    fprintf(stderr, "edgetag: stdin line %d is not a JSON string\n", line_no);
                    rc = 1;
                    break;
                }
                texts[n] = owned[n], n++;
            }
        } else {
            for (; n < BATCH && done + n < a.n_texts; n++) texts[n] = a.texts[done + n], lengths[n] = strlen(texts[n]), owned[n] = NULL;
        }
        if (!rc && n > 0) {
            if (et_context_classify(ctx, texts, lengths, n)) {
                fprintf(stderr, "edgetag: %s\n", et_context_last_error(ctx));
                rc = 1;
            } else {
                for (int i = 0; i < n; i++) print_classification(ctx, m, i, a.json);
            }
        }
        for (int i = 0; i < n; i++) free(owned[i]);
        done += n;
        if (n < BATCH) break;
    }
    if (fflush(stdout) != 0) rc = 1;
    et_context_free(ctx);
    et_model_free(m);
    return rc;
}

/* extract: the entities of each TEXT (in text form, a blank line between texts), or with --jsonl of each
 * JSON string per line of stdin (a result per line). */
int cli_extract(int argc, char **argv) {
    tag_args a = {0};
    et_model *m;
    et_model_info in;
    int rc = start_tag_command(argc, argv, &a, &m, &in);
    if (rc) return rc;
    et_context *ctx = NULL;
    size_t cap = 0; /* the text length the context is sized for */
    for (int line_no = 1; !rc; line_no++) {
        char *owned = NULL;
        const char *text;
        size_t len;
        if (a.jsonl) {
            char *line = cli_read_line();
            if (!line) break;
            owned = cli_json_string(line, &len);
            free(line);
            if (!owned) {
                fprintf(stderr, "edgetag: stdin line %d is not a JSON string\n", line_no);
                rc = 1;
                break;
            }
            text = owned;
        } else {
            if (line_no > a.n_texts) break;
            text = a.texts[line_no - 1], len = strlen(text);
            if (line_no > 1 && !a.json) putchar('\n');
        }
        if (!ctx || len > cap) { /* room for every window: at most one token per byte, overlapping */
            et_context_free(ctx);
            cap = len > 4096 ? len : 4096;
            et_context_params cp = et_context_default_params();
            cp.max_tokens = (int32_t)(2 * cap + 2 * (size_t)in.n_ctx);
            cp.max_texts = (int32_t)(2 * cap / (in.n_ctx > 8 ? (size_t)in.n_ctx / 2 : 1) + 4);
            if (et_context_create(m, &cp, &ctx)) {
                fprintf(stderr, "edgetag: cannot create a context for %zu bytes of text\n", len);
                ctx = NULL, rc = 1;
            }
        }
        const et_entity *ents;
        int32_t n, escalate;
        if (!rc && et_context_extract(ctx, text, len, a.aggregation, -1, &ents, &n, &escalate)) {
            fprintf(stderr, "edgetag: %s\n", et_context_last_error(ctx));
            rc = 1;
        } else if (!rc) {
            print_entities(m, text, ents, n, escalate, a.json);
        }
        free(owned);
    }
    if (fflush(stdout) != 0) rc = 1;
    et_context_free(ctx);
    et_model_free(m);
    return rc;
}
