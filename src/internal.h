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

/* Carves `count` elements of `size` bytes from a block being planned: returns their offset and moves
 * *total past them, rounded up to 64 bytes (each buffer starts on a cache line). The caller keeps the
 * products below 2^63 and checks the total before allocating. */
static inline uint64_t et__plan(uint64_t *total, uint64_t count, uint64_t size) {
    const uint64_t at = *total;
    *total += (count * size + 63) / 64 * 64;
    return at;
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

/* Single to IEEE half, rounded to nearest even: overflow gives infinity, NaN stays a (quiet) NaN,
 * small values become subnormal halves or zero. et__f16_to_f32(et__f32_to_f16(x)) is x rounded to half. */
static inline uint16_t et__f32_to_f16(float f) {
    union { float f; uint32_t u; } v = {f};
    const uint32_t x = v.u;
    const uint32_t sign = (x >> 16) & 0x8000u, mant = x & 0x7fffffu;
    const int32_t exp = (int32_t)((x >> 23) & 0xffu) - 127 + 15;
    if (((x >> 23) & 0xffu) == 0xffu) return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0));
    if (exp >= 31) return (uint16_t)(sign | 0x7c00u);
    if (exp <= 0) { /* subnormal half: round the shifted mantissa to nearest even */
        if (exp < -10) return (uint16_t)sign;
        const uint32_t m = mant | 0x800000u, shift = (uint32_t)(14 - exp);
        uint32_t h = m >> shift;
        const uint32_t rem = m & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (h & 1u))) h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = sign | ((uint32_t)exp << 10) | (mant >> 13);
    const uint32_t rem = mant & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++; /* a carry rounds into the exponent */
    return (uint16_t)h;
}

#endif /* ET_INTERNAL_H */
