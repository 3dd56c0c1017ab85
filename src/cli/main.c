/*
 * main.c — `edgetag`, the command-line face of the public API (include/edgetag.h). Nothing in src/cli/
 * computes: it parses arguments, calls the API and prints. This file: the usage, the commands and the
 * options they share; cli.h lists the others.
 *
 *   edgetag logits  --model M.gguf --ids 101,7592,102 [--type-ids 0,0,0] [--ids …] [--reference | --kernels K]
 *   edgetag embed   --model M.gguf --ids … [--pooling mean|cls] [--normalize] [--reference | --kernels K]
 *   edgetag tokenize --model M.gguf [--pair TEXT_B] [--max-length N] [--] TEXT...   (M may be vocabulary-only)
 *   edgetag classify --model M.gguf [--json] [--] TEXT... | --jsonl [--max-line-bytes N] < texts.jsonl
 *   edgetag extract  --model M.gguf [--json] [--aggregation none|simple|first|average|max] [--] TEXT... | --jsonl
 *     (--jsonl: one JSON string per line of stdin, one JSON result — or {"error": …} — per line of stdout)
 *   edgetag inspect M.gguf
 *   edgetag quantize IN.gguf OUT.gguf --type i8|q8_0|q4_0
 *   edgetag bench   --model M.gguf [--seq 128] [--batch 1] [--runs 20] [--reference | --kernels K]
 *   edgetag version
 *
 * logits/embed print one JSON object per --ids, on its own line, in order; all --ids run as one
 * ragged batch. Exit status: 0 success, 1 a model or run error (message on stderr), 2 bad usage.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cli_usage(const char *msg) {
    if (msg) fprintf(stderr, "edgetag: %s\n", msg);
    fprintf(stderr,
            "usage:\n"
            "  edgetag logits  --model M.gguf --ids 101,7592,102 [--type-ids 0,0,0] [--ids ...] [--reference | --kernels K]\n"
            "  edgetag embed   --model M.gguf --ids ... [--pooling mean|cls] [--normalize] [--reference | --kernels K]\n"
            "  edgetag tokenize --model M.gguf [--pair TEXT_B] [--max-length N] [--] TEXT...\n"
            "  edgetag classify --model M.gguf [--json] [--] TEXT... | --jsonl [--max-line-bytes N] < texts.jsonl\n"
            "  edgetag extract  --model M.gguf [--json] [--aggregation none|simple|first|average|max] [--] TEXT... |\n"
            "                   --jsonl [--max-line-bytes N] < texts.jsonl\n"
            "  edgetag inspect M.gguf\n"
            "  edgetag quantize IN.gguf OUT.gguf --type i8|q8_0|q4_0\n"
            "  edgetag bench   --model M.gguf [--seq 128] [--batch 1] [--runs 20] [--reference | --kernels K]\n"
            "  edgetag version\n");
    return 2;
}

et_model *cli_open_model(const char *path) {
    et_model *m = NULL;
    et_error err;
    if (et_model_load_from_file(path, NULL, &m, &err) != ET_OK) {
        fprintf(stderr, "edgetag: %s: %s\n", path, err.message);
        return NULL;
    }
    return m;
}

et_model *cli_open_vocab(const char *path) {
    et_model *m = NULL;
    et_error err;
    if (et_model_load_vocab_from_file(path, NULL, &m, &err) != ET_OK) {
        fprintf(stderr, "edgetag: %s: %s\n", path, err.message);
        return NULL;
    }
    return m;
}

int cli_parse_kernels(const char *name, int *out) {
    static const char *const names[] = {"auto", "reference", "baseline", "relaxed-dot16", "relaxed-dot32", "reference-u7"};
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
        if (!strcmp(name, names[i])) return *out = i, 0;
    return cli_usage("--kernels is auto, reference, baseline, relaxed-dot16, relaxed-dot32 or reference-u7");
}

int main(int argc, char **argv) {
    if (argc < 2) return cli_usage(NULL);
    const char *cmd = argv[1];
    if (!strcmp(cmd, "logits")) return cli_run(argc, argv, 0);
    if (!strcmp(cmd, "embed")) return cli_run(argc, argv, 1);
    if (!strcmp(cmd, "inspect")) return cli_inspect(argc, argv);
    if (!strcmp(cmd, "tokenize")) return cli_tokenize(argc, argv);
    if (!strcmp(cmd, "quantize")) return cli_quantize(argc, argv);
    if (!strcmp(cmd, "classify")) return cli_classify(argc, argv);
    if (!strcmp(cmd, "extract")) return cli_extract(argc, argv);
    if (!strcmp(cmd, "bench")) return cli_bench(argc, argv);
    if (!strcmp(cmd, "version")) {
        printf("edgetag %s\n", et_version());
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help")) {
        cli_usage(NULL);
        return 0;
    }
    fprintf(stderr, "edgetag: unknown command '%s'\n", cmd);
    return cli_usage(NULL);
}
