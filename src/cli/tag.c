/*
 * tag.c — classify (label, score, escalation advice) and extract (entities with their code-point spans) of each
 * TEXT given or, with --jsonl, of each JSON string per line of stdin: a result per input, in order.
 *
 * What a script piping thousands of lines needs: one input that cannot be read or run never costs the others.
 * A line that is not a JSON string, is longer than --max-line-bytes or cannot be held in memory, or whose text
 * the engine refuses (invalid UTF-8, non-finite logits) gets an error in its place — with --json a line
 * {"error": {"code", "message", "line"}} — the next lines go on, and the exit status is 1 at the end. Memory is
 * bounded by the input, not by its length in tokens: classify runs batches of at most BATCH_TOKENS tokens in one
 * context, and extract runs a text of any length window group by window group (et_context_extract_begin/_next).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { BATCH = 32, BATCH_TOKENS = 2048, WINDOWS_PER_RUN = 4 };
#define DEFAULT_MAX_LINE_BYTES ((size_t)64 << 20)

typedef struct tag_args {
    const char *model;
    const char *texts[64];
    int n_texts, json, aggregation, jsonl;
    size_t max_line;
} tag_args;

static int parse_tag_args(int argc, char **argv, tag_args *a) {
    a->aggregation = ET_AGGREGATION_DEFAULT;
    a->max_line = DEFAULT_MAX_LINE_BYTES;
    for (int i = 2; i < argc; i++) {
        const int has_val = i + 1 < argc;
        if (!strcmp(argv[i], "--model") && has_val) a->model = argv[++i];
        else if (!strcmp(argv[i], "--json")) a->json = 1;
        else if (!strcmp(argv[i], "--jsonl")) a->jsonl = a->json = 1;
        else if (!strcmp(argv[i], "--max-line-bytes") && has_val) {
            char *end;
            const unsigned long long v = strtoull(argv[++i], &end, 10);
            if (*end || v < 2 || argv[i][0] == '-') return cli_usage("--max-line-bytes takes a number of bytes (at least 2)");
            a->max_line = (size_t)v;
        } else if (!strcmp(argv[i], "--aggregation") && has_val) {
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

/* ---- inputs ------------------------------------------------------------------------------------------- */

/* One input: its text, or why there is none (code and message). */
typedef struct tag_input {
    char *owned;
    const char *text;
    size_t len;
    int line;            /* its stdin line (--jsonl), or 0 */
    const char *code;    /* NULL, or the error's code: the text is not there */
    char message[200];
} tag_input;

/* The next input, from the arguments or stdin; 0 at the end. */
static int next_input(const tag_args *a, int *count, tag_input *in) {
    memset(in, 0, sizeof *in);
    if (!a->jsonl) {
        if (*count >= a->n_texts) return 0;
        in->text = a->texts[(*count)++], in->len = strlen(in->text);
        return 1;
    }
    char *line;
    size_t n;
    const cli_line_status st = cli_read_line(a->max_line, &line, &n);
    if (st == CLI_LINE_EOF) return 0;
    in->line = ++*count;
    if (st == CLI_LINE_TOO_LONG) {
        in->code = "LINE_TOO_LONG";
        snprintf(in->message, sizeof in->message, "stdin line %d is longer than %zu bytes (--max-line-bytes)", in->line, a->max_line);
    } else if (st == CLI_LINE_NO_MEMORY) {
        in->code = "OUT_OF_MEMORY";
        snprintf(in->message, sizeof in->message, "stdin line %d is too long to hold in memory", in->line);
    } else if (!(in->owned = cli_json_string(line, n, &in->len))) {
        in->code = "BAD_JSON";
        snprintf(in->message, sizeof in->message, "stdin line %d is not a JSON string", in->line);
    }
    in->text = in->owned;
    free(line);
    return 1;
}

/* An input's error: a JSON line {"error": {code, message, line}} with --json, and always the message on stderr. */
static void print_error(const tag_args *a, const tag_input *in, const char *code, const char *message) {
    fprintf(stderr, "edgetag: %s\n", message);
    if (!a->json) return;
    fputs("{\"error\":{\"code\":", stdout);
    cli_print_json_string(code, strlen(code));
    fputs(",\"message\":", stdout);
    cli_print_json_string(message, strlen(message));
    if (in->line) printf(",\"line\":%d", in->line);
    fputs("}}\n", stdout);
}

/* The context's error for an input: "stdin line N: …" when it came from stdin. */
static void print_run_error(const tag_args *a, const tag_input *in, et_status s, const char *detail) {
    char message[400];
    if (in->line) snprintf(message, sizeof message, "stdin line %d: %s", in->line, detail);
    else snprintf(message, sizeof message, "%s", detail);
    print_error(a, in, cli_status_code(s), message);
}

/* classify and extract: their arguments, and the model with its info; 0, or the exit status. */
static int start_tag_command(int argc, char **argv, tag_args *a, et_model **m, et_model_info *in) {
    const int rc = parse_tag_args(argc, argv, a);
    if (rc) return rc;
    if (!(*m = cli_open_model(a->model))) return 1;
    et_model_get_info(*m, in);
    return 0;
}

/* ---- classify ------------------------------------------------------------------------------------------ */

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
    fputs(",\"score\":", stdout);
    cli_print_number(score);
    fputs(",\"scores\":{", stdout);
    for (int j = 0; j < in.n_labels; j++) {
        if (j) putchar(',');
        cli_print_json_string(et_model_label(m, j), strlen(et_model_label(m, j)));
        putchar(':');
        cli_print_number(probs[j]);
    }
    printf("},\"escalate\":%s}\n", escalate ? "true" : "false");
}

/* A batch: its inputs classified together; when that fails, each alone, so one bad text costs only itself. */
static int classify_batch(const tag_args *a, et_context *ctx, const et_model *m, tag_input *batch, int n) {
    const char *texts[BATCH];
    size_t lens[BATCH];
    int k = 0, rc = 0;
    for (int i = 0; i < n; i++)
        if (!batch[i].code) texts[k] = batch[i].text, lens[k++] = batch[i].len;
    const int together = k > 0 && et_context_classify(ctx, texts, lens, k) == ET_OK;
    for (int i = 0, j = 0; i < n; i++) {
        if (batch[i].code) {
            print_error(a, &batch[i], batch[i].code, batch[i].message);
            rc = 1;
            continue;
        }
        if (together) {
            print_classification(ctx, m, j++, a->json);
            continue;
        }
        const et_status s = et_context_classify(ctx, &batch[i].text, &batch[i].len, 1);
        if (s == ET_OK) print_classification(ctx, m, 0, a->json);
        else print_run_error(a, &batch[i], s, et_context_last_error(ctx)), rc = 1;
    }
    return rc;
}

int cli_classify(int argc, char **argv) {
    tag_args a = {0};
    et_model *m;
    et_model_info in;
    int rc = start_tag_command(argc, argv, &a, &m, &in);
    if (rc) return rc;
    et_context *ctx = NULL;
    et_context_params cp = et_context_default_params();
    const int32_t budget = BATCH_TOKENS > in.n_ctx ? BATCH_TOKENS : in.n_ctx;
    cp.max_texts = BATCH, cp.max_tokens = budget;
    if (et_context_create(m, &cp, &ctx)) {
        fprintf(stderr, "edgetag: cannot create a context of %d tokens\n", budget);
        et_model_free(m);
        return 1;
    }
    /* Batches of at most BATCH texts whose tokens (at most their bytes + 2, and n_ctx) fit the context. */
    tag_input batch[BATCH + 1];
    int n = 0, count = 0, more = 1;
    int64_t tokens = 0;
    while (more || n > 0) {
        tag_input next;
        more = more && next_input(&a, &count, &next);
        const int64_t need = more && !next.code ? (next.len + 2 < (size_t)in.n_ctx ? (int64_t)next.len + 2 : in.n_ctx) : 0;
        if (n > 0 && (!more || n == BATCH || tokens + need > budget)) {
            rc |= classify_batch(&a, ctx, m, batch, n);
            for (int i = 0; i < n; i++) free(batch[i].owned);
            n = 0, tokens = 0;
        }
        if (more) batch[n++] = next, tokens += need;
    }
    if (fflush(stdout) != 0) rc = 1;
    et_context_free(ctx);
    et_model_free(m);
    return rc;
}

/* ---- extract ------------------------------------------------------------------------------------------- */

/* Entities of one text, gathered over the steps (the JSON line is printed whole, or an error instead). */
typedef struct entity_list {
    et_entity *v;
    size_t n, cap;
} entity_list;

/* Prints the entities of `text`: one per line, or with json {"entities": [...], "escalate"}. Their spans are
 * code points, in order: one walk over the text finds every entity's bytes (NUL bytes are text like any other). */
static void print_entities(const et_model *m, const char *text, size_t len, const et_entity *ents, size_t n, int32_t escalate,
                           int json) {
    if (json) fputs("{\"entities\":[", stdout);
    size_t at = 0;  /* byte of code point `cp` */
    int32_t cp = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = ents[i].label >= 0 ? et_model_label(m, ents[i].label) : et_model_entity_type(m, ents[i].type);
        for (; cp < ents[i].start && at < len; cp++) do at++; while (at < len && ((unsigned char)text[at] & 0xC0) == 0x80);
        size_t end = at;
        for (int32_t k = cp; k < ents[i].end && end < len; k++) do end++; while (end < len && ((unsigned char)text[end] & 0xC0) == 0x80);
        if (!json) {
            printf("%s\t%.4f\t%d\t%d\t", name, (double)ents[i].score, ents[i].start, ents[i].end);
            fwrite(text + at, 1, end - at, stdout);
            putchar('\n');
            continue;
        }
        if (i) putchar(',');
        fputs("{\"label\":", stdout);
        cli_print_json_string(name, strlen(name));
        fputs(",\"score\":", stdout);
        cli_print_number(ents[i].score);
        printf(",\"start\":%d,\"end\":%d,\"text\":", ents[i].start, ents[i].end);
        cli_print_json_string(text + at, end - at);
        putchar('}');
    }
    if (json) printf("],\"escalate\":%s}\n", escalate ? "true" : "false");
    else if (escalate) puts("escalate"); /* an entity is below the model's threshold */
}

/* One text, step by step; 0, or 1 after its error was printed. */
static int extract_one(const tag_args *a, et_context *ctx, const et_model *m, const tag_input *in, entity_list *list) {
    list->n = 0;
    int32_t done = 0, escalate = 0;
    et_status s = et_context_extract_begin(ctx, in->text, in->len, a->aggregation, -1);
    while (s == ET_OK && !done) {
        const et_entity *e;
        int32_t k;
        if ((s = et_context_extract_next(ctx, &e, &k, &escalate, &done))) break;
        if (list->n + (size_t)k > list->cap) {
            const size_t cap = (list->n + (size_t)k) * 2;
            et_entity *v = realloc(list->v, cap * sizeof *v);
            if (!v) {
                print_error(a, in, "OUT_OF_MEMORY", "no memory for the text's entities");
                return 1;
            }
            list->v = v, list->cap = cap;
        }
        memcpy(list->v + list->n, e, (size_t)k * sizeof *e);
        list->n += (size_t)k;
    }
    if (s) {
        print_run_error(a, in, s, et_context_last_error(ctx));
        return 1;
    }
    print_entities(m, in->text, in->len, list->v, list->n, escalate, a->json);
    return 0;
}

int cli_extract(int argc, char **argv) {
    tag_args a = {0};
    et_model *m;
    et_model_info in;
    int rc = start_tag_command(argc, argv, &a, &m, &in);
    if (rc) return rc;
    /* One context for every text: WINDOWS_PER_RUN windows of the model's length at a time. */
    et_context *ctx = NULL;
    et_context_params cp = et_context_default_params();
    cp.max_texts = WINDOWS_PER_RUN, cp.max_tokens = WINDOWS_PER_RUN * in.n_ctx;
    if (et_context_create(m, &cp, &ctx)) {
        fprintf(stderr, "edgetag: cannot create a context of %d tokens\n", cp.max_tokens);
        et_model_free(m);
        return 1;
    }
    entity_list list = {0};
    tag_input input;
    for (int count = 0; next_input(&a, &count, &input);) {
        if (!a.jsonl && count > 1 && !a.json) putchar('\n');
        if (input.code) print_error(&a, &input, input.code, input.message), rc = 1;
        else rc |= extract_one(&a, ctx, m, &input, &list);
        free(input.owned);
    }
    free(list.v);
    if (fflush(stdout) != 0) rc = 1;
    et_context_free(ctx);
    et_model_free(m);
    return rc;
}
