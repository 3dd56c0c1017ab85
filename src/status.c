/*
 * status.c — versions, status texts and error formatting.
 */
#include <math.h>
#include <string.h>

#include "internal.h"

const char *et_version(void) { return ET_VERSION_STRING; }

int32_t et_version_number(void) { return ET_VERSION_NUMBER; }

const char *et_status_string(et_status status) {
    switch (status) {
    case ET_OK: return "ok";
    case ET_ERR_INVALID_ARGUMENT: return "invalid argument";
    case ET_ERR_OUT_OF_MEMORY: return "out of memory";
    case ET_ERR_BAD_MAGIC: return "not a GGUF file (bad magic)";
    case ET_ERR_BAD_VERSION: return "unsupported file version";
    case ET_ERR_TRUNCATED: return "truncated file";
    case ET_ERR_CORRUPT: return "corrupt file";
    case ET_ERR_UNSUPPORTED: return "unsupported model";
    case ET_ERR_MISSING: return "missing key or tensor";
    case ET_ERR_SHAPE: return "tensor shape or type mismatch";
    case ET_ERR_ALIGNMENT: return "model buffer not 16-byte aligned";
    case ET_ERR_INPUT: return "invalid input";
    case ET_ERR_CAPACITY: return "batch exceeds the context's limits";
    case ET_ERR_IO: return "file read error";
    case ET_ERR_STATE: return "no such result";
    case ET_ERR_NUMERIC: return "non-finite result";
    }
    return "unknown status";
}

/* ---- a small printf ---------------------------------------------------------------------------
 * Error messages need only a few conversions, and the C library's printf would add ~40 KB and three
 * WASI imports to the wasm build. Supported: %% %c %s %.*s %d %i %u %x with l/ll/z and a width with
 * '0' or '-' flags, %p, and %g (6 significant digits, or the given precision). */

typedef struct outbuf {
    char *p;
    size_t n, size;
} outbuf;

static void put(outbuf *o, char c) {
    if (o->n + 1 < o->size) o->p[o->n] = c;
    o->n++;
}

static void put_padded(outbuf *o, const char *s, size_t len, int width, int left, char pad) {
    int fill = width > (int)len ? width - (int)len : 0;
    if (!left) {
        /* Zero padding goes after a sign. */
        if (pad == '0' && len && (s[0] == '-')) put(o, *s++), len--;
        while (fill-- > 0) put(o, pad);
    }
    for (size_t i = 0; i < len; i++) put(o, s[i]);
    while (left && fill-- > 0) put(o, ' ');
}

static size_t fmt_uint(char *dst, unsigned long long v, unsigned base) {
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    for (size_t i = 0; i < n; i++) dst[i] = tmp[n - 1 - i];
    return n;
}

/* %g: `prec` significant digits, fixed notation for exponents in [-5, prec), else d.ddde±XX. */
static size_t fmt_g(char *dst, double v, int prec) {
    size_t n = 0;
    if (isnan(v)) return memcpy(dst, "nan", 3), 3;
    if (signbit(v)) dst[n++] = '-', v = -v;
    if (isinf(v)) return memcpy(dst + n, "inf", 3), n + 3;
    if (v == 0) return dst[n++] = '0', n;
    if (prec < 1) prec = 1;
    if (prec > 17) prec = 17;
    int e = (int)floor(log10(v));
    double scaled = v / pow(10.0, e - (prec - 1));
    unsigned long long digits = (unsigned long long)llround(scaled);
    if (digits >= (unsigned long long)pow(10.0, prec)) digits /= 10, e++;
    char d[20];
    size_t nd = fmt_uint(d, digits, 10);
    while (nd > 1 && d[nd - 1] == '0') nd--; /* %g drops trailing zeros */
    if (e < -5 || e >= prec) {
        dst[n++] = d[0];
        if (nd > 1) {
            dst[n++] = '.';
            for (size_t i = 1; i < nd; i++) dst[n++] = d[i];
        }
        dst[n++] = 'e';
        dst[n++] = e < 0 ? '-' : '+';
        const unsigned ae = (unsigned)(e < 0 ? -e : e);
        if (ae < 10) dst[n++] = '0';
        n += fmt_uint(dst + n, ae, 10);
    } else if (e < 0) {
        dst[n++] = '0', dst[n++] = '.';
        for (int i = -1; i > e; i--) dst[n++] = '0';
        for (size_t i = 0; i < nd; i++) dst[n++] = d[i];
    } else {
        for (int i = 0; i <= e; i++) dst[n++] = (size_t)i < nd ? d[i] : '0';
        if (nd > (size_t)e + 1) {
            dst[n++] = '.';
            for (size_t i = (size_t)e + 1; i < nd; i++) dst[n++] = d[i];
        }
    }
    return n;
}

void et__vformat(char *buf, size_t size, const char *fmt, va_list ap) {
    if (!buf || size == 0) return;
    outbuf o = {buf, 0, size};
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            put(&o, *f);
            continue;
        }
        f++;
        int left = 0, width = 0, prec = -1, lng = 0;
        char pad = ' ';
        for (;; f++) {
            if (*f == '-') left = 1;
            else if (*f == '0') pad = '0';
            else break;
        }
        while (*f >= '0' && *f <= '9') width = width * 10 + (*f++ - '0');
        if (*f == '.') {
            f++;
            if (*f == '*') prec = va_arg(ap, int), f++;
            else for (prec = 0; *f >= '0' && *f <= '9'; f++) prec = prec * 10 + (*f - '0');
        }
        for (;; f++) {
            if (*f == 'l') lng++;
            else if (*f == 'z') lng = 3;
            else break;
        }
        char tmp[48];
        size_t n = 0;
        switch (*f) {
        case '%': put(&o, '%'); continue;
        case 'c': tmp[0] = (char)va_arg(ap, int); n = 1; break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) s = "(null)";
            size_t len = 0;
            while (s[len] && (prec < 0 || len < (size_t)prec)) len++;
            put_padded(&o, s, len, width, left, ' ');
            continue;
        }
        case 'd': case 'i': {
            long long v = lng == 0 ? va_arg(ap, int) : lng == 1 ? va_arg(ap, long)
                        : lng == 2 ? va_arg(ap, long long) : (long long)va_arg(ap, ptrdiff_t);
            if (v < 0) tmp[n++] = '-';
            n += fmt_uint(tmp + n, v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v, 10);
            break;
        }
        case 'u': case 'x': {
            unsigned long long v = lng == 0 ? va_arg(ap, unsigned) : lng == 1 ? va_arg(ap, unsigned long)
                                 : lng == 2 ? va_arg(ap, unsigned long long) : (unsigned long long)va_arg(ap, size_t);
            n = fmt_uint(tmp, v, *f == 'x' ? 16 : 10);
            break;
        }
        case 'p':
            tmp[0] = '0', tmp[1] = 'x';
            n = 2 + fmt_uint(tmp + 2, (unsigned long long)(uintptr_t)va_arg(ap, void *), 16);
            break;
        case 'g': n = fmt_g(tmp, va_arg(ap, double), prec < 0 ? 6 : prec); break;
        case '\0': f--; continue;
        default: put(&o, '%'); put(&o, *f); continue;
        }
        put_padded(&o, tmp, n, width, left, pad);
    }
    o.p[o.n < o.size ? o.n : o.size - 1] = '\0';
}

void et__format(char *buf, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    et__vformat(buf, size, fmt, ap);
    va_end(ap);
}

et_status et__fail(et_error *err, et_status status, const char *fmt, ...) {
    if (err) {
        err->status = status;
        va_list ap;
        va_start(ap, fmt);
        et__vformat(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return status;
}
