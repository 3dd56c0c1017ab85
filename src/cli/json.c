/*
 * json.c — the JSON of the commands: numbers and strings written to stdout, and the JSON strings that
 * classify and extract read, one per line of stdin (--jsonl).
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
        if (isfinite(v[j])) printf("%.9g", (double)v[j]);
        else fputs("null", stdout);
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

char *cli_json_string(const char *s, size_t *out_len) {
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
        unsigned cp, lo;
        if (!hex4(s + 1, &cp)) goto bad;
        s += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && s[1] == '\\' && s[2] == 'u') { /* a surrogate pair */
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
    if (*s != '"') goto bad;
    *out_len = (size_t)(o - out);
    *o = '\0';
    return out;
bad:
    free(out);
    return NULL;
}

char *cli_read_line(void) {
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
