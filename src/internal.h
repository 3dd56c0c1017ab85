/*
 * internal.h — helpers shared by the engine's sources; not part of the public API.
 */
#ifndef ET_INTERNAL_H
#define ET_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "edgetag.h"

/* Programmer errors only (broken internal invariants). Traps without pulling abort()/stdio into the
 * wasm build, whose import list must stay empty. */
#define ET_ASSERT(cond)                 \
    do {                                \
        if (!(cond)) __builtin_trap();  \
    } while (0)

/* Formats a message into `err` (when not NULL) and returns `status`, so error paths read
 * `return et__fail(err, ET_ERR_CORRUPT, "%s: tensor '%.*s' …", __func__, …);`. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
et_status et__fail(et_error *err, et_status status, const char *fmt, ...);

/* The engine's own small snprintf (see status.c for the conversions it knows); always terminates. */
void et__vformat(char *buf, size_t size, const char *fmt, va_list ap);
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void et__format(char *buf, size_t size, const char *fmt, ...);

/* a * b into *out; 0 on overflow. */
static inline int et__mul_u64(uint64_t a, uint64_t b, uint64_t *out) {
    if (a != 0 && b > UINT64_MAX / a) return 0;
    *out = a * b;
    return 1;
}

/* a + b into *out; 0 on overflow. */
static inline int et__add_u64(uint64_t a, uint64_t b, uint64_t *out) {
    if (b > UINT64_MAX - a) return 0;
    *out = a + b;
    return 1;
}

/* IEEE half to single, exact for every half including subnormals, infinities and NaN. */
static inline float et__f16_to_f32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else if (exp != 0) {
        bits = sign | ((exp + 112u) << 23) | (mant << 13);
    } else if (mant == 0) {
        bits = sign;
    } else { /* subnormal: normalise */
        exp = 113;
        while ((mant & 0x400u) == 0) {
            mant <<= 1;
            exp--;
        }
        bits = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
    }
    union { uint32_t u; float f; } v = {bits};
    return v.f;
}

#endif /* ET_INTERNAL_H */
