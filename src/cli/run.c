/*
 * run.c — the commands that take token ids: logits and embed (one ragged batch, a JSON line per text)
 * and bench (a quick native timing of one batch shape; the comparative benchmarks live in bench/).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

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

typedef struct run_args {
    const char *model;
    ivec ids, type_ids;
    int32_t lengths[MAX_TEXTS];
    int n_texts, n_type_lists, kernels, normalize, pooling;
} run_args;

static int parse_run_args(int argc, char **argv, run_args *a) {
    a->pooling = ET_POOLING_MEAN;
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i];
        const int has_val = i + 1 < argc;
        if (!strcmp(o, "--model") && has_val) {
            a->model = argv[++i];
        } else if (!strcmp(o, "--ids") && has_val) {
            if (a->n_texts == MAX_TEXTS) return cli_usage("too many --ids");
            const long n = parse_ids(argv[++i], &a->ids);
            if (n <= 0) return cli_usage("--ids takes a non-empty comma-separated list of integers");
            a->lengths[a->n_texts++] = (int32_t)n;
        } else if (!strcmp(o, "--type-ids") && has_val) {
            const long n = parse_ids(argv[++i], &a->type_ids);
            if (n <= 0) return cli_usage("--type-ids takes a non-empty comma-separated list of integers");
            if (a->n_type_lists >= a->n_texts || n != a->lengths[a->n_type_lists])
                return cli_usage("each --type-ids must follow its --ids and have the same length");
            a->n_type_lists++;
        } else if (!strcmp(o, "--pooling") && has_val) {
            const char *p = argv[++i];
            if (!strcmp(p, "mean")) a->pooling = ET_POOLING_MEAN;
            else if (!strcmp(p, "cls")) a->pooling = ET_POOLING_CLS;
            else return cli_usage("--pooling is mean or cls");
        } else if (!strcmp(o, "--normalize")) {
            a->normalize = 1;
        } else if (!strcmp(o, "--reference")) {
            a->kernels = ET_KERNELS_REFERENCE;
        } else if (!strcmp(o, "--kernels") && has_val) {
            const int rc = cli_parse_kernels(argv[++i], &a->kernels);
            if (rc) return rc;
        } else {
            fprintf(stderr, "edgetag: unknown or incomplete option '%s'\n", o);
            return cli_usage(NULL);
        }
    }
    if (!a->model) return cli_usage("--model is required");
    if (!a->n_texts) return cli_usage("at least one --ids is required");
    if (a->n_type_lists && a->n_type_lists != a->n_texts) return cli_usage("give --type-ids for every --ids or for none");
    return 0;
}

/* logits and embed: load, run all texts as one batch, print one line per text. */
int cli_run(int argc, char **argv, int embed) {
    run_args *a = calloc(1, sizeof *a);
    if (!a) return 1;
    int rc = parse_run_args(argc, argv, a);
    et_model *m = NULL;
    et_context *ctx = NULL;
    if (rc) goto done;
    rc = 1;
    if (!(m = cli_open_model(a->model))) goto done;
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
            cli_print_floats(out + (size_t)row * cols, cols);
        } else {
            fputs("{\"logits\":[", stdout);
            for (int r = 0; r < n; r++) {
                if (r) putchar(',');
                cli_print_floats(out + (size_t)(row + r) * cols, cols);
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
int cli_bench(int argc, char **argv) {
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
            const int rc = cli_parse_kernels(argv[++i], &kernels);
            if (rc) return rc;
        } else return cli_usage("unknown bench option");
    }
    if (!path || seq < 1 || batch < 1 || batch > MAX_TEXTS || runs < 1 || runs > 100000) return cli_usage("bad bench options");
    et_model *m = cli_open_model(path);
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
