/*
 * json.c — the JSON of the commands: numbers (non-finite ones as null: every line printed is JSON) and
 * strings written to stdout, the status codes errors carry, and the JSON strings that classify and extract read,
 * one per line of stdin (--jsonl), each line read within a limit.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_print_floats(const float *v, int n) {
    putchar('[');
    for (int j = 0; j < n; j++) {
        if (j) putchar(',');
        cli_print_number(v[j]);
    }
    putchar(']');
}

void cli_print_ints(const int32_t *v, int n, int stride, int pairs) {
    putchar('[');
    for (int i = 0; i < n; i++) {
        if (i) putchar(',');
        if (pairs) printf("[%d,%d]", v[stride * i], v[stride * i + 1]);
        else printf("%d", v[stride * i]);
    }
    putchar(']');
}

void cli_print_json_string(const char *s, size_t n) {
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        const unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

/* The four hex digits at s as a number into *out; 0 when one is not a hex digit (NUL included). */
static int hex4(const char *s, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        const char c = s[i];
        const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return 0;
        v = v * 16 + (unsigned)d;
    }
    *out = v;
    return 1;
}

char *cli_json_string(const char *s, size_t n, size_t *out_len) {
    const char *end = s + n;
    while (s < end && (*s == ' ' || *s == '\t' || *s == '\r')) s++;
    if (s == end || *s++ != '"') return NULL;
    char *out = malloc((size_t)(end - s) * 3 + 4), *o = out;
    if (!out) return NULL;
    for (; s < end && *s != '"'; s++) {
        if ((unsigned char)*s < 0x20) goto bad; /* a raw control character: JSON has it escaped */
        if (*s != '\\') {
            *o++ = *s;
            continue;
        }
        if (++s == end) goto bad;
        const char *esc = "\"\\/bfnrt", *val = "\"\\/\b\f\n\r\t";
        const char *hit = *s ? strchr(esc, *s) : NULL;
        if (hit) {
            *o++ = val[hit - esc];
            continue;
        }
        unsigned cp, lo;
        if (*s != 'u' || end - s < 5 || !hex4(s + 1, &cp)) goto bad;
        s += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && end - s >= 7 && s[1] == '\\' && s[2] == 'u') { /* a surrogate pair */
            if (!hex4(s + 3, &lo)) goto bad;
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
    if (s == end) goto bad;
    for (s++; s < end; s++) /* nothing but whitespace after the closing quote */
        if (*s != ' ' && *s != '\t' && *s != '\r') goto bad;
    *out_len = (size_t)(o - out);
    *o = '\0';
    return out;
bad:
    free(out);
    return NULL;
}

cli_line_status cli_read_line(size_t max_bytes, char **out, size_t *out_len) {
    size_t cap = 256, n = 0;
    char *line = malloc(cap);
    cli_line_status st = line ? CLI_LINE_OK : CLI_LINE_NO_MEMORY;
    int c = 0, any = 0;
    while ((c = getchar()) != EOF && c != '\n') {
        any = 1;
        if (st != CLI_LINE_OK) continue; /* the rest of a line that cannot be held: skipped */
        if (n + 1 >= max_bytes) {
            st = CLI_LINE_TOO_LONG;
            continue;
        }
        if (n + 1 == cap) {
            const size_t want = cap > max_bytes / 2 ? max_bytes : cap * 2;
            char *bigger = realloc(line, want);
            if (!bigger) {
                st = CLI_LINE_NO_MEMORY;
                continue;
            }
            line = bigger, cap = want;
        }
        line[n++] = (char)c;
    }
    if (c == EOF && !any && n == 0) {
        free(line);
        return CLI_LINE_EOF;
    }
    if (st != CLI_LINE_OK) {
        free(line);
        *out = NULL, *out_len = 0;
        return st;
    }
    line[n] = '\0';
    *out = line, *out_len = n;
    return CLI_LINE_OK;
}

void cli_print_number(double v) {
    if (isfinite(v)) printf("%.9g", v);
    else fputs("null", stdout);
}

const char *cli_status_code(et_status s) {
    static const char *const codes[] = {"OK", "INVALID_ARGUMENT", "OUT_OF_MEMORY", "BAD_MAGIC", "BAD_VERSION", "TRUNCATED",
                                        "CORRUPT", "UNSUPPORTED", "MISSING", "SHAPE", "ALIGNMENT", "INPUT", "CAPACITY", "IO",
                                        "STATE", "NUMERIC"};
    return (unsigned)s < sizeof codes / sizeof codes[0] ? codes[s] : "UNKNOWN";
}
