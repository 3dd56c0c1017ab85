/*
 * simd.h — one spelling of WebAssembly SIMD128 for both builds.
 *
 * The kernels are written once with the wasm intrinsics. The wasm build compiles them as they are;
 * the native build (tests, sanitizers, fuzzers, the CLI) maps the same names onto SSE through SIMDe,
 * whose results are bit-identical to the wasm ones for every operation used here.
 * Native builds must use -ffp-contract=off so that a mul followed by an add stays two roundings.
 */
#ifndef ET_SIMD_H
#define ET_SIMD_H

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#else
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/wasm/simd128.h>
#endif

/* a * b + c. The relaxed build may fuse it (one rounding, engine-dependent); the baseline build
 * always rounds twice. Callers tolerate either. */
static inline v128_t et_f32x4_madd(v128_t a, v128_t b, v128_t c) {
#if defined(__wasm_relaxed_simd__)
    return wasm_f32x4_relaxed_madd(a, b, c);
#else
    return wasm_f32x4_add(wasm_f32x4_mul(a, b), c);
#endif
}

/* Relaxed SIMD's integer dot products exist in the relaxed wasm build and, emulated exactly for the
 * operand ranges we use (first operand int8, second 0..127), in native builds so that the relaxed
 * kernels are tested natively too. Not in the baseline wasm build. */
#if defined(__wasm_relaxed_simd__) || !defined(__wasm__)
#define ET_HAVE_RELAXED 1

/* lanes i of the result: w[2i]·a[2i] + w[2i+1]·a[2i+1] (w int8, a 0..127: no saturation). */
static inline v128_t et_i16x8_dot_i8_i7(v128_t w, v128_t a) {
#if defined(__wasm_relaxed_simd__)
    return wasm_i16x8_relaxed_dot_i8x16_i7x16(w, a);
#else
    const v128_t lo = wasm_i32x4_extadd_pairwise_i16x8(wasm_i16x8_extmul_low_i8x16(w, a));
    const v128_t hi = wasm_i32x4_extadd_pairwise_i16x8(wasm_i16x8_extmul_high_i8x16(w, a));
    return wasm_i16x8_narrow_i32x4(lo, hi);
#endif
}

/* acc + the sums of four adjacent products of w (int8) and a (0..127), per i32 lane. */
static inline v128_t et_i32x4_dot_i8_i7_add(v128_t w, v128_t a, v128_t acc) {
#if defined(__wasm_relaxed_simd__)
    return wasm_i32x4_relaxed_dot_i8x16_i7x16_add(w, a, acc);
#else
    return wasm_i32x4_add(wasm_i32x4_extadd_pairwise_i16x8(et_i16x8_dot_i8_i7(w, a)), acc);
#endif
}
#endif

/* A vector constant as a value the compiler cannot re-materialize: V8 builds every v128.const anew where
 * it is used (a 64-bit immediate, a move and an unpack: three instructions), and clang puts constants at
 * their uses rather than in locals, so an elementwise loop paid three instructions per constant per 4
 * values (GELU: 16 constants). Read once through a volatile pointer before the loop, a constant stays in a
 * register (or a stack slot, read by the instruction that uses it). */
static inline v128_t et_f32x4_const(const volatile float *c) { return wasm_f32x4_splat(*c); }

/* The sum of the four lanes. */
static inline float et_f32x4_hsum(v128_t v) {
    v128_t t = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    t = wasm_f32x4_add(t, wasm_i32x4_shuffle(t, t, 1, 0, 3, 2));
    return wasm_f32x4_extract_lane(t, 0);
}

/* The same for i32 lanes. */
static inline v128_t et_i32x4_hsum4(v128_t a, v128_t b, v128_t c, v128_t d) {
    v128_t ab = wasm_i32x4_add(wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), wasm_i32x4_shuffle(a, b, 2, 6, 3, 7));
    v128_t cd = wasm_i32x4_add(wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), wasm_i32x4_shuffle(c, d, 2, 6, 3, 7));
    return wasm_i32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 1, 4, 5), wasm_i32x4_shuffle(ab, cd, 2, 3, 6, 7));
}

/* The lane sums of four vectors as one vector: { hsum(a), hsum(b), hsum(c), hsum(d) }. */
static inline v128_t et_f32x4_hsum4(v128_t a, v128_t b, v128_t c, v128_t d) {
    v128_t ab = wasm_f32x4_add(wasm_i32x4_shuffle(a, b, 0, 4, 1, 5), wasm_i32x4_shuffle(a, b, 2, 6, 3, 7));
    v128_t cd = wasm_f32x4_add(wasm_i32x4_shuffle(c, d, 0, 4, 1, 5), wasm_i32x4_shuffle(c, d, 2, 6, 3, 7));
    return wasm_f32x4_add(wasm_i32x4_shuffle(ab, cd, 0, 1, 4, 5), wasm_i32x4_shuffle(ab, cd, 2, 3, 6, 7));
}

/* min(max(x, lo), hi) lane by lane, NaN kept. With pmin/pmax (one minps/maxps on x86) rather than
 * f32x4.min/max, whose NaN and ±0 rules cost V8 about eight instructions each: a clamp to finite bounds
 * gives the same result for every input (pmax(x, lo) = x < lo ? lo : x, so NaN passes through). */
static inline v128_t et_f32x4_clamp(v128_t x, float lo, float hi) {
    return wasm_f32x4_pmin(wasm_f32x4_pmax(x, wasm_f32x4_splat(lo)), wasm_f32x4_splat(hi));
}

/* The largest of the four lanes (NaN lanes are ignored unless all four are NaN). */
static inline float et_f32x4_hmax(v128_t v) {
    v128_t t = wasm_f32x4_pmax(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    t = wasm_f32x4_pmax(t, wasm_i32x4_shuffle(t, t, 1, 0, 3, 2));
    return wasm_f32x4_extract_lane(t, 0);
}

#endif /* ET_SIMD_H */
