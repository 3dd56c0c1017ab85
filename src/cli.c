/*
 * cli.c — `edgetag`, the command-line face of the public API (include/edgetag.h). Nothing here
 * computes: it parses arguments, calls the API and prints.
 *
 *   edgetag logits  --model M.gguf --ids 101,7592,102 [--type-ids 0,0,0] [--ids …] [--reference | --kernels K]
 *   edgetag embed   --model M.gguf --ids … [--pooling mean|cls] [--normalize] [--reference | --kernels K]
 *   edgetag tokenize --model M.gguf [--pair TEXT_B] [--max-length N] [--] TEXT...
 *   edgetag classify --model M.gguf [--json] [--] TEXT... | --jsonl < texts.jsonl
 *   edgetag extract  --model M.gguf [--json] [--aggregation none|simple|first|average|max] [--] TEXT... | --jsonl
 *     (--jsonl: one JSON string per line of stdin, one JSON result per line of stdout)
 *   edgetag inspect M.gguf
 *   edgetag quantize IN.gguf OUT.gguf --type i8|q8_0
 *   edgetag bench   --model M.gguf [--seq 128] [--batch 1] [--runs 20] [--reference | --kernels K]
 *   edgetag version
 *
 * logits/embed print one JSON object per --ids, on its own line, in order; all --ids run as one
 * ragged batch. Exit status: 0 success, 1 a model or run error (message on stderr), 2 bad usage.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgetag.h"

#define MAX_TEXTS 4096

static int usage(const char *msg) {
    if (msg) fprintf(stderr, "edgetag: %s\n", msg);
    fprintf(stderr,
            "usage:\n"
            "  edgetag logits  --model M.gguf --ids 101,7592,102 [--type-ids 0,0,0] [--ids ...] [--reference | --kernels K]\n"
            "  edgetag embed   --model M.gguf --ids ... [--pooling mean|cls] [--normalize] [--reference | --kernels K]\n"
            "  edgetag tokenize --model M.gguf [--pair TEXT_B] [--max-length N] [--] TEXT...\n"
            "  edgetag classify --model M.gguf [--json] [--] TEXT... | --jsonl < texts.jsonl\n"
            "  edgetag extract  --model M.gguf [--json] [--aggregation none|simple|first|average|max] [--] TEXT... | --jsonl\n"
            "  edgetag inspect M.gguf\n"
            "  edgetag quantize IN.gguf OUT.gguf --type i8|q8_0\n"
            "  edgetag bench   --model M.gguf [--seq 128] [--batch 1] [--runs 20] [--reference | --kernels K]\n"
            "  edgetag version\n");
    return 2;
}

/* A growable list of int32. */
typedef struct ivec {
    int32_t *v;
    size_t n, cap;
} ivec;

static int ivec_push(ivec *a, int32_t x) {
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 256;
        int32_t *v = realloc(a->v, cap * sizeof *v);
        if (!v) return 0;
        a->v = v, a->cap = cap;
    }
    a->v[a->n++] = x;
    return 1;
}

/* Appends the comma-separated integers of `s` to `out`; returns how many, or -1 on a bad list. */
static long parse_ids(const char *s, ivec *out) {
    long n = 0;
    while (*s) {
        char *end;
        errno = 0;
        const long v = strtol(s, &end, 10);
        if (end == s || errno || v < INT32_MIN || v > INT32_MAX || (*end != ',' && *end != '\0')) return -1;
        if (!ivec_push(out, (int32_t)v)) return -1;
        n++;
        s = *end == ',' ? end + 1 : end;
        if (*end == ',' && *s == '\0') return -1;
    }
    return n;
}

static void print_floats(const float *v, int n) {
    putchar('[');
    for (int j = 0; j < n; j++) {
        if (j) putchar(',');
        if (isfinite(v[j])) printf("%.9g", (double)v[j]);
        else fputs("null", stdout);
    }
    putchar(']');
}

static et_model *open_model(const char *path) {
    et_model *m = NULL;
    et_error err;
    if (et_model_load_from_file(path, NULL, &m, &err) != ET_OK) {
        fprintf(stderr, "edgetag: %s: %s\n", path, err.message);
        return NULL;
    }
    return m;
}

typedef struct run_args {
    const char *model;
    ivec ids, type_ids;
    int32_t lengths[MAX_TEXTS];
    int n_texts, n_type_lists, kernels, normalize, pooling;
} run_args;

/* --kernels NAME: *out = the kernel set of that name (et_kernels_choice order); 0, or usage's status. */
static int parse_kernels(const char *name, int *out) {
    static const char *const names[] = {"auto", "reference", "baseline", "relaxed-dot16", "relaxed-dot32", "reference-u7"};
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
        if (!strcmp(name, names[i])) return *out = i, 0;
    return usage("--kernels is auto, reference, baseline, relaxed-dot16, relaxed-dot32 or reference-u7");
}

static int parse_run_args(int argc, char **argv, run_args *a) {
    a->pooling = ET_POOLING_MEAN;
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i];
        const int has_val = i + 1 < argc;
        if (!strcmp(o, "--model") && has_val) {
            a->model = argv[++i];
        } else if (!strcmp(o, "--ids") && has_val) {
            if (a->n_texts == MAX_TEXTS) return usage("too many --ids");
            const long n = parse_ids(argv[++i], &a->ids);
            if (n <= 0) return usage("--ids takes a non-empty comma-separated list of integers");
            a->lengths[a->n_texts++] = (int32_t)n;
        } else if (!strcmp(o, "--type-ids") && has_val) {
            const long n = parse_ids(argv[++i], &a->type_ids);
            if (n <= 0) return usage("--type-ids takes a non-empty comma-separated list of integers");
            if (a->n_type_lists >= a->n_texts || n != a->lengths[a->n_type_lists])
                return usage("each --type-ids must follow its --ids and have the same length");
            a->n_type_lists++;
        } else if (!strcmp(o, "--pooling") && has_val) {
            const char *p = argv[++i];
            if (!strcmp(p, "mean")) a->pooling = ET_POOLING_MEAN;
            else if (!strcmp(p, "cls")) a->pooling = ET_POOLING_CLS;
            else return usage("--pooling is mean or cls");
        } else if (!strcmp(o, "--normalize")) {
            a->normalize = 1;
        } else if (!strcmp(o, "--reference")) {
            a->kernels = ET_KERNELS_REFERENCE;
        } else if (!strcmp(o, "--kernels") && has_val) {
            const int rc = parse_kernels(argv[++i], &a->kernels);
            if (rc) return rc;
        } else {
            fprintf(stderr, "edgetag: unknown or incomplete option '%s'\n", o);
            return usage(NULL);
        }
    }
    if (!a->model) return usage("--model is required");
    if (!a->n_texts) return usage("at least one --ids is required");
    if (a->n_type_lists && a->n_type_lists != a->n_texts) return usage("give --type-ids for every --ids or for none");
    return 0;
}

/* logits and embed: load, run all texts as one batch, print one line per text. */
static int cmd_run(int argc, char **argv, int embed) {
    run_args *a = calloc(1, sizeof *a);
    if (!a) return 1;
    int rc = parse_run_args(argc, argv, a);
    et_model *m = NULL;
    et_context *ctx = NULL;
    if (rc) goto done;
    rc = 1;
    if (!(m = open_model(a->model))) goto done;
    et_model_info info;
    et_model_get_info(m, &info);
    int32_t longest = 0;
    for (int b = 0; b < a->n_texts; b++) longest = a->lengths[b] > longest ? a->lengths[b] : longest;
    et_context_params cp = et_context_default_params();
    cp.max_tokens = (int32_t)a->ids.n;
    cp.max_texts = a->n_texts;
    cp.max_seq = longest < info.n_ctx ? longest : info.n_ctx;
    cp.kernels = a->kernels;
    et_status s = et_context_create(m, &cp, &ctx);
    if (s) {
        fprintf(stderr, "edgetag: cannot create a context: %s\n", et_status_string(s));
        goto done;
    }
    if ((s = et_context_run(ctx, a->ids.v, a->n_type_lists ? a->type_ids.v : NULL, a->lengths, a->n_texts))) {
        fprintf(stderr, "edgetag: %s\n", et_context_last_error(ctx));
        goto done;
    }
    const float *out;
    int32_t rows, cols;
    s = embed ? et_context_embeddings(ctx, a->pooling, a->normalize, &out, &rows, &cols)
              : et_context_logits(ctx, &out, &rows, &cols);
    if (s) {
        fprintf(stderr, "edgetag: %s\n", et_context_last_error(ctx));
        goto done;
    }
    /* Token classification gives a row per token; the others a row per text. */
    const int per_token = !embed && info.task == ET_TASK_TOKEN_CLASSIFICATION;
    for (int b = 0, row = 0; b < a->n_texts; b++) {
        const int n = per_token ? a->lengths[b] : 1;
        if (embed) {
            fputs("{\"embedding\":", stdout);
            print_floats(out + (size_t)row * cols, cols);
        } else {
            fputs("{\"logits\":[", stdout);
            for (int r = 0; r < n; r++) {
                if (r) putchar(',');
                print_floats(out + (size_t)(row + r) * cols, cols);
            }
            putchar(']');
        }
        fputs("}\n", stdout);
        row += n;
    }
    rc = fflush(stdout) == 0 ? 0 : 1;
done:
    et_context_free(ctx);
    et_model_free(m);
    free(a->ids.v);
    free(a->type_ids.v);
    free(a);
    return rc;
}

static void print_ints(const int32_t *v, int n, int stride, int pairs) {
    putchar('[');
    for (int i = 0; i < n; i++) {
        if (i) putchar(',');
        if (pairs) printf("[%d,%d]", v[stride * i], v[stride * i + 1]);
        else printf("%d", v[stride * i]);
    }
    putchar(']');
}

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
    print_ints(buf, n, 1, 0);
    fputs(",\"type_ids\":", stdout);
    print_ints(buf + n, n, 1, 0);
    fputs(",\"offsets\":", stdout);
    print_ints(buf + 2 * n, n, 2, 1);
    fputs("}\n", stdout);
    free(buf);
    return 0;
}

/* tokenize: ids, type ids and code-point offsets of each TEXT (and --pair), a JSON line each. */
static int cmd_tokenize(int argc, char **argv) {
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
            if (*end || max_length < 0 || max_length > INT32_MAX) return usage("--max-length takes a non-negative integer");
        } else if (!strcmp(argv[i], "--")) { /* the rest are texts, even those starting with '-' */
            while (++i < argc) texts[n_texts++] = argv[i];
        } else if (argv[i][0] != '-' || argv[i][1] == '\0') texts[n_texts++] = argv[i];
        else {
            fprintf(stderr, "edgetag: unknown or incomplete option '%s'\n", argv[i]);
            return usage(NULL);
        }
    }
    if (!model_path || !n_texts) return usage("tokenize needs --model and a TEXT");
    et_model *m = open_model(model_path);
    if (!m) return 1;
    int rc = 0;
    for (int t = 0; t < n_texts && !rc; t++) rc = tokenize_one(m, texts[t], pair, (int32_t)max_length);
    if (fflush(stdout) != 0) rc = 1;
    et_model_free(m);
    return rc;
}

/* Writes s as a JSON string. */
static void print_json_string(const char *s, size_t n) {
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        const unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
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

/* Decodes one JSON string (the whole line, quotes included) into malloc'd UTF-8; NULL when malformed. */
static char *json_string(const char *s, size_t *out_len) {
    while (*s == ' ' || *s == '\t') s++;
    if (*s++ != '"') return NULL;
    char *out = malloc(strlen(s) * 3 + 4), *o = out;
    if (!out) return NULL;
    for (; *s && *s != '"'; s++) {
        if (*s != '\\') {
            *o++ = *s;
            continue;
        }
        s++;
        const char *esc = "\"\\/bfnrt", *val = "\"\\/\b\f\n\r\t";
        const char *hit = *s ? strchr(esc, *s) : NULL;
        if (hit) {
            *o++ = val[hit - esc];
            continue;
        }
        if (*s != 'u') break;
        unsigned cp = 0;
        for (int i = 1; i <= 4; i++) {
            const char c = s[i];
            const int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (v < 0) goto bad;
            cp = cp * 16 + (unsigned)v;
        }
        s += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && s[1] == '\\' && s[2] == 'u') { /* a surrogate pair */
            unsigned lo = 0;
            for (int i = 3; i <= 6; i++) {
                const char c = s[i];
                const int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
                if (v < 0) goto bad;
                lo = lo * 16 + (unsigned)v;
            }
            if (lo >= 0xDC00 && lo < 0xE000) cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00), s += 6;
        }
        if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD; /* a lone surrogate, as TextEncoder encodes it */
        if (cp < 0x80) *o++ = (char)cp;
        else if (cp < 0x800) *o++ = (char)(0xC0 | cp >> 6), *o++ = (char)(0x80 | (cp & 0x3F));
        else if (cp < 0x10000)
            *o++ = (char)(0xE0 | cp >> 12), *o++ = (char)(0x80 | ((cp >> 6) & 0x3F)), *o++ = (char)(0x80 | (cp & 0x3F));
        else
            *o++ = (char)(0xF0 | cp >> 18), *o++ = (char)(0x80 | ((cp >> 12) & 0x3F)), *o++ = (char)(0x80 | ((cp >> 6) & 0x3F)),
            *o++ = (char)(0x80 | (cp & 0x3F));
    }
    if (*s != '"') goto bad;
    *out_len = (size_t)(o - out);
    *o = '\0';
    return out;
bad:
    free(out);
    return NULL;
}

/* The next line of stdin (malloc'd, without its newline), or NULL at the end. */
static char *read_line(void) {
    size_t cap = 256, n = 0;
    char *line = malloc(cap);
    int c;
    while (line && (c = getchar()) != EOF && c != '\n') {
        if (n + 1 == cap) {
            char *bigger = realloc(line, cap *= 2);
            if (!bigger) free(line);
            line = bigger;
            if (!line) break;
        }
        line[n++] = (char)c;
    }
    if (!line || (n == 0 && c == EOF)) {
        free(line);
        return NULL;
    }
    line[n] = '\0';
    return line;
}

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
            if (a->aggregation < 0) return usage("--aggregation is none, simple, first, average or max");
        } else if (!strcmp(argv[i], "--")) { /* every later argument is a text, even one that starts with '-' */
            for (i++; i < argc; i++) {
                if (a->n_texts == 64) return usage("at most 64 texts");
                a->texts[a->n_texts++] = argv[i];
            }
        } else if (argv[i][0] != '-' || !argv[i][1]) {
            if (a->n_texts == 64) return usage("at most 64 texts");
            a->texts[a->n_texts++] = argv[i];
        } else {
            fprintf(stderr, "edgetag: unknown or incomplete option '%s'\n", argv[i]);
            return usage(NULL);
        }
    }
    if (!a->model || (!a->n_texts && !a->jsonl)) return usage("--model and a TEXT (or --jsonl) are required");
    if (a->n_texts && a->jsonl) return usage("--jsonl reads the texts from stdin: no TEXT");
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
    print_json_string(name, strlen(name));
    printf(",\"score\":%.9g,\"scores\":{", (double)score);
    for (int j = 0; j < in.n_labels; j++) {
        if (j) putchar(',');
        print_json_string(et_model_label(m, j), strlen(et_model_label(m, j)));
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
        print_json_string(name, strlen(name));
        printf(",\"score\":%.9g,\"start\":%d,\"end\":%d,\"text\":", (double)ents[i].score, ents[i].start, ents[i].end);
        print_json_string(p, pn);
        putchar('}');
    }
    if (json) printf("],\"escalate\":%s}\n", escalate ? "true" : "false");
    else if (escalate) puts("escalate"); /* an entity is below the model's threshold */
}

/* classify: the texts given, or with --jsonl one JSON string per line of stdin (a result per line). */
static int cmd_classify(int argc, char **argv) {
    tag_args a = {0};
    int rc = parse_tag_args(argc, argv, &a);
    if (rc) return rc;
    et_model *m = open_model(a.model);
    if (!m) return 1;
    et_model_info in;
    et_model_get_info(m, &in);
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
            while (n < BATCH && (line = read_line())) {
                line_no++;
                owned[n] = json_string(line, &lengths[n]);
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
static int cmd_extract(int argc, char **argv) {
    tag_args a = {0};
    int rc = parse_tag_args(argc, argv, &a);
    if (rc) return rc;
    et_model *m = open_model(a.model);
    if (!m) return 1;
    et_model_info in;
    et_model_get_info(m, &in);
    et_context *ctx = NULL;
    size_t cap = 0; /* the text length the context is sized for */
    for (int line_no = 1; !rc; line_no++) {
        char *owned = NULL;
        const char *text;
        size_t len;
        if (a.jsonl) {
            char *line = read_line();
            if (!line) break;
            owned = json_string(line, &len);
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

static const char *task_name(int32_t task) {
    switch (task) {
    case ET_TASK_SEQUENCE_CLASSIFICATION: return "sequence_classification";
    case ET_TASK_TOKEN_CLASSIFICATION: return "token_classification";
    default: return "embedding";
    }
}

static int cmd_inspect(int argc, char **argv) {
    if (argc != 3) return usage("inspect takes one model file");
    et_model *m = open_model(argv[2]);
    if (!m) return 1;
    et_model_info in;
    et_model_get_info(m, &in);
    printf("model:        %s (version %s)\n", in.name[0] ? in.name : "(unnamed)", in.version);
    printf("architecture: bert\ntask:         %s\n", task_name(in.task));
    printf("hyper-parameters: layers %d, hidden %d, heads %d (head size %d), ffn %d, positions %d, vocab %d, "
           "token types %d, layer_norm_eps %g\n",
           in.n_layer, in.n_embd, in.n_head, in.n_embd / in.n_head, in.n_ff, in.n_ctx, in.n_vocab, in.n_token_types,
           (double)in.layer_norm_eps);
    printf("pooler:       %s\n", in.has_pooler ? "yes" : "no");
    printf("labels (%d):", in.n_labels);
    for (int i = 0; i < in.n_labels; i++) printf("%s %s", i ? "," : "", et_model_label(m, i));
    if (in.task == ET_TASK_TOKEN_CLASSIFICATION) {
        static const char *const modes[] = {"none", "simple", "first", "average", "max"};
        printf("\nentity types (%d):", in.n_entity_types);
        for (int i = 0; i < in.n_entity_types; i++) printf("%s %s", i ? "," : "", et_model_entity_type(m, i));
        printf("\naggregation:  %s (the default of extract)", modes[in.aggregation]);
    }
    printf("\ncalibration:  temperature %g, escalation threshold ", (double)in.temperature);
    if (isnan(in.threshold)) printf("none\n");
    else printf("%g\n", (double)in.threshold);
    printf("special ids:  [CLS] %d, [SEP] %d, [PAD] %d, [UNK] %d, [MASK] %d\n", in.cls_id, in.sep_id, in.pad_id,
           in.unk_id, in.mask_id);
    printf("memory:       %.2f MB of weights (%d matrices int8), %.2f MB owned by the model\n",
           in.weights_bytes / 1e6, in.int8_matrices, in.owned_bytes / 1e6);
    printf("tensors (%d):\n  %-34s %-5s %-18s %12s %12s\n", in.n_tensors, "name", "type", "ne", "offset", "bytes");
    for (int i = 0; i < in.n_tensors; i++) {
        et_tensor_info t;
        et_model_tensor_info(m, i, &t);
        char shape[64];
        int k = snprintf(shape, sizeof shape, "[%d", t.ne[0]);
        for (int d = 1; d < t.n_dims && k > 0 && k < (int)sizeof shape; d++)
            k += snprintf(shape + k, sizeof shape - (size_t)k, ", %d", t.ne[d]);
        snprintf(shape + k, sizeof shape - (size_t)k, "]");
        printf("  %-34s %-5s %-18s %12u %12u\n", t.name, et_type_name(t.type), shape, t.offset, t.n_bytes);
    }
    et_model_free(m);
    return 0;
}

/* quantize: IN → OUT with int8 weights (et_quantize). */
static int cmd_quantize(int argc, char **argv) {
    if (argc != 6 || strcmp(argv[4], "--type")) return usage("quantize takes IN.gguf OUT.gguf --type i8|q8_0");
    const int32_t type = !strcmp(argv[5], "i8") ? ET_QUANT_I8 : !strcmp(argv[5], "q8_0") ? ET_QUANT_Q8_0 : 0;
    if (!type) return usage("--type is i8 or q8_0");
    FILE *fp = fopen(argv[2], "rb");
    if (!fp) {
        fprintf(stderr, "edgetag: cannot open '%s'\n", argv[2]);
        return 1;
    }
    size_t cap = 1 << 20, n = 0, got;
    char *in = malloc(cap);
    while (in && (got = fread(in + n, 1, cap - n, fp)) > 0) {
        n += got;
        if (n == cap) {
            char *bigger = realloc(in, cap *= 2);
            if (!bigger) free(in);
            in = bigger;
        }
    }
    fclose(fp);
    if (!in) {
        fprintf(stderr, "edgetag: no memory to read '%s'\n", argv[2]);
        return 1;
    }
    void *out = NULL;
    size_t out_n = 0;
    et_error err;
    int rc = 1;
    if (et_quantize(in, n, type, &out, &out_n, &err)) {
        fprintf(stderr, "edgetag: %s: %s\n", argv[2], err.message);
    } else if (!(fp = fopen(argv[3], "wb")) || fwrite(out, 1, out_n, fp) != out_n || fclose(fp) != 0) {
        fprintf(stderr, "edgetag: cannot write '%s'\n", argv[3]);
    } else {
        fprintf(stderr, "edgetag: wrote %s (%s): %.1f MB from %.1f MB\n", argv[3], argv[5], out_n / 1e6, n / 1e6);
        rc = 0;
    }
    free(in);
    free(out);
    return rc;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A quick native timing of one batch shape. The comparative benchmarks live in bench/. */
static int cmd_bench(int argc, char **argv) {
    const char *path = NULL;
    int seq = 128, batch = 1, runs = 20, kernels = ET_KERNELS_AUTO;
    for (int i = 2; i < argc; i++) {
        const int has_val = i + 1 < argc;
        if (!strcmp(argv[i], "--model") && has_val) path = argv[++i];
        else if (!strcmp(argv[i], "--seq") && has_val) seq = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--batch") && has_val) batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--runs") && has_val) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reference")) kernels = ET_KERNELS_REFERENCE;
        else if (!strcmp(argv[i], "--kernels") && has_val) {
            const int rc = parse_kernels(argv[++i], &kernels);
            if (rc) return rc;
        } else return usage("unknown bench option");
    }
    if (!path || seq < 1 || batch < 1 || batch > MAX_TEXTS || runs < 1 || runs > 100000) return usage("bad bench options");
    et_model *m = open_model(path);
    if (!m) return 1;
    et_model_info in;
    et_model_get_info(m, &in);
    if (seq > in.n_ctx) seq = in.n_ctx;
    int32_t *ids = malloc((size_t)seq * batch * sizeof *ids);
    int32_t *lengths = malloc((size_t)batch * sizeof *lengths);
    double *ms = malloc((size_t)runs * sizeof *ms);
    et_context *ctx = NULL;
    et_context_params cp = et_context_default_params();
    cp.max_tokens = seq * batch, cp.max_texts = batch, cp.max_seq = seq;
    cp.kernels = kernels;
    int rc = 1;
    if (!ids || !lengths || !ms || et_context_create(m, &cp, &ctx) != ET_OK) goto done;
    uint32_t r = 12345;
    for (int i = 0; i < seq * batch; i++) {
        r = r * 1664525u + 1013904223u;
        ids[i] = (int32_t)(r % (uint32_t)in.n_vocab);
    }
    for (int b = 0; b < batch; b++) lengths[b] = seq;
    for (int i = 0; i < 3; i++)
        if (et_context_run(ctx, ids, NULL, lengths, batch)) goto done;
    for (int i = 0; i < runs; i++) {
        const double t0 = now_ms();
        et_context_run(ctx, ids, NULL, lengths, batch);
        ms[i] = now_ms() - t0;
    }
    qsort(ms, (size_t)runs, sizeof *ms, cmp_double);
    printf("{\"seq\":%d,\"batch\":%d,\"runs\":%d,\"median_ms\":%.3f,\"min_ms\":%.3f,\"arena_bytes\":%zu}\n", seq, batch,
           runs, ms[runs / 2], ms[0], et_context_memory(ctx));
    rc = 0;
done:
    if (rc) fprintf(stderr, "edgetag: bench failed: %s\n", ctx ? et_context_last_error(ctx) : "no memory");
    et_context_free(ctx);
    et_model_free(m);
    free(ids);
    free(lengths);
    free(ms);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2) return usage(NULL);
    const char *cmd = argv[1];
    if (!strcmp(cmd, "logits")) return cmd_run(argc, argv, 0);
    if (!strcmp(cmd, "embed")) return cmd_run(argc, argv, 1);
    if (!strcmp(cmd, "inspect")) return cmd_inspect(argc, argv);
    if (!strcmp(cmd, "tokenize")) return cmd_tokenize(argc, argv);
    if (!strcmp(cmd, "quantize")) return cmd_quantize(argc, argv);
    if (!strcmp(cmd, "classify")) return cmd_classify(argc, argv);
    if (!strcmp(cmd, "extract")) return cmd_extract(argc, argv);
    if (!strcmp(cmd, "bench")) return cmd_bench(argc, argv);
    if (!strcmp(cmd, "version")) {
        printf("edgetag %s\n", et_version());
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help")) {
        usage(NULL);
        return 0;
    }
    fprintf(stderr, "edgetag: unknown command '%s'\n", cmd);
    return usage(NULL);
}
