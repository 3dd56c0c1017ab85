/*
 * unicode.c — lookups over the generated tables (src/unicode_data.c) and the short fixed lists.
 * Every lookup is a binary search over sorted ranges, after an ASCII fast path.
 */
#include "unicode.h"

size_t et_utf8_decode(const uint8_t *s, size_t n, uint32_t *cp) {
    const uint8_t b0 = s[0];
    if (b0 < 0x80) {
        *cp = b0;
        return 1;
    }
    size_t len;
    uint32_t c, min;
    if (b0 >= 0xC2 && b0 <= 0xDF) len = 2, c = b0 & 0x1Fu, min = 0x80;
    else if (b0 >= 0xE0 && b0 <= 0xEF) len = 3, c = b0 & 0x0Fu, min = 0x800;
    else if (b0 >= 0xF0 && b0 <= 0xF4) len = 4, c = b0 & 0x07u, min = 0x10000;
    else return 0; /* a continuation byte, C0/C1 (overlong) or F5..FF */
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0u) != 0x80u) return 0;
        c = (c << 6) | (s[i] & 0x3Fu);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    *cp = c;
    return len;
}

size_t et_utf8_encode(uint32_t cp, uint8_t *out) {
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | (cp >> 6));
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | (cp >> 12));
        out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (uint8_t)(0xF0 | (cp >> 18));
    out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* Index of the entry of a sorted table of ranges holding cp, or -1. Every range table's entries start
 * with { uint32_t first, last; }; `stride` is the entry size. */
static int32_t find_range(const void *table, size_t stride, uint32_t count, uint32_t cp) {
    uint32_t lo = 0, hi = count;
    while (lo < hi) {
        const uint32_t mid = lo + (hi - lo) / 2;
        const et_cp_range *r = (const et_cp_range *)(const void *)((const char *)table + (size_t)mid * stride);
        if (cp < r->first) hi = mid;
        else if (cp > r->last) lo = mid + 1;
        else return (int32_t)mid;
    }
    return -1;
}

static int in_ranges(const et_cp_range *r, uint32_t n, uint32_t cp) { return find_range(r, sizeof *r, n, cp) >= 0; }

int et_unicode_is_control(uint32_t cp) {
    if (cp < 0x80) return cp < 0x20 || cp == 0x7F;
    return in_ranges(et_ucd_control, et_ucd_control_count, cp);
}

int et_unicode_is_whitespace(uint32_t cp) {
    switch (cp) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20: case 0x85: case 0xA0: case 0x1680:
    case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
        return 1;
    default:
        return cp >= 0x2000 && cp <= 0x200A;
    }
}

int et_unicode_is_bert_punct(uint32_t cp) {
    if (cp < 0x80) return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) || (cp >= 0x5B && cp <= 0x60) ||
                          (cp >= 0x7B && cp <= 0x7E);
    return in_ranges(et_ucd_punct, et_ucd_punct_count, cp);
}

int et_unicode_is_mn(uint32_t cp) {
    if (cp < 0x300) return 0;
    return in_ranges(et_ucd_mn, et_ucd_mn_count, cp);
}

int et_unicode_is_cjk(uint32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
           (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

uint8_t et_unicode_ccc(uint32_t cp) {
    if (cp < 0x300) return 0;
    const int32_t i = find_range(et_ucd_ccc, sizeof et_ucd_ccc[0], et_ucd_ccc_count, cp);
    return i < 0 ? 0 : et_ucd_ccc[i].ccc;
}

uint32_t et_unicode_lower(uint32_t cp) {
    if (cp < 0x80) return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
    const int32_t i = find_range(et_ucd_lower, sizeof et_ucd_lower[0], et_ucd_lower_count, cp);
    if (i < 0) return cp;
    const et_case_run *r = &et_ucd_lower[i];
    return (cp - r->first) % r->stride == 0 ? (uint32_t)((int32_t)cp + r->delta) : cp;
}

int et_unicode_nfd(uint32_t cp, uint32_t out[4]) {
    if (cp < 0xC0) {
        out[0] = cp;
        return 1;
    }
    if (cp >= 0xAC00 && cp <= 0xD7A3) { /* Hangul syllables: L V (T), by the Unicode algorithm */
        const uint32_t s = cp - 0xAC00, t = s % 28;
        out[0] = 0x1100 + s / 588;
        out[1] = 0x1161 + (s % 588) / 28;
        if (!t) return 2;
        out[2] = 0x11A7 + t;
        return 3;
    }
    uint32_t lo = 0, hi = et_ucd_decomp_count;
    while (lo < hi) {
        const uint32_t mid = lo + (hi - lo) / 2;
        const et_decomp *d = &et_ucd_decomp[mid];
        if (cp < d->cp) hi = mid;
        else if (cp > d->cp) lo = mid + 1;
        else {
            for (int i = 0; i < d->length; i++) out[i] = et_ucd_decomp_pool[d->offset + i];
            return d->length;
        }
    }
    out[0] = cp;
    return 1;
}
