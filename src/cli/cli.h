/*
 * cli.h — what the files of the `edgetag` command (src/cli/, native only) share:
 *
 *   main.c   the usage, the command table, and the options several commands take (--model, --kernels)
 *   run.c    logits, embed, bench: token ids through the encoder
 *   text.c   tokenize: text in, tokens out
 *   tag.c    classify, extract: text in, labels out (arguments or --jsonl)
 *   file.c   inspect, quantize: model files
 *   json.c   the JSON the commands write, and read (one string per line of stdin)
 *
 * A command takes the whole argv (argv[1] is its name) and returns the exit status: 0 success, 1 a model
 * or run error (message on stderr), 2 bad usage.
 */
#ifndef ET_CLI_H
#define ET_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "edgetag.h"

#define MAX_TEXTS 4096

/* Prints msg (when not NULL) and the usage to stderr; returns 2, bad usage's exit status. */
int cli_usage(const char *msg);

/* Loads a model file (or only its tokenizer: cli_open_vocab, which also reads vocabulary-only files);
 * NULL after a message on stderr. */
et_model *cli_open_model(const char *path);
et_model *cli_open_vocab(const char *path);

/* --kernels NAME: *out = the kernel set of that name (et_kernels_choice order); 0, or usage's status. */
int cli_parse_kernels(const char *name, int *out);

/* The commands. */
int cli_run(int argc, char **argv, int embed); /* logits (embed = 0) and embed */
int cli_bench(int argc, char **argv);
int cli_tokenize(int argc, char **argv);
int cli_classify(int argc, char **argv);
int cli_extract(int argc, char **argv);
int cli_inspect(int argc, char **argv);
int cli_quantize(int argc, char **argv);

/* JSON out (stdout): a number (non-finite as null); an array of floats (the same); an array of ints, every
 * `stride`-th, or of [a, b] pairs; a string of n bytes, escaped (NUL and control bytes as \u00XX). */
void cli_print_number(double v);
void cli_print_floats(const float *v, int n);
void cli_print_ints(const int32_t *v, int n, int stride, int pairs);
void cli_print_json_string(const char *s, size_t n);

/* JSON in: one JSON string (the whole of s[0 … n), quotes included, blanks around) decoded into malloc'd UTF-8
 * (NUL-terminated, *out_len bytes, which may include NUL bytes), NULL when it is anything else. */
char *cli_json_string(const char *s, size_t n, size_t *out_len);

/* The next line of stdin, without its newline, into *line (malloc'd; *len bytes, NUL bytes included). A line of
 * max_bytes or more is skipped to its end (CLI_LINE_TOO_LONG), so is one that memory cannot hold
 * (CLI_LINE_NO_MEMORY): either way *line is NULL and the next call reads the next line. */
typedef enum cli_line_status { CLI_LINE_OK, CLI_LINE_EOF, CLI_LINE_TOO_LONG, CLI_LINE_NO_MEMORY } cli_line_status;
cli_line_status cli_read_line(size_t max_bytes, char **line, size_t *len);

/* The stable code of a status ("CORRUPT", "INPUT", "NUMERIC", …), as the JavaScript library names it. */
const char *cli_status_code(et_status s);

#endif /* ET_CLI_H */
