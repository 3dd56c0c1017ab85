/*
 * act.c — elementwise math: the vector exp and erf, and the exact (erf) GELU of BERT.
 *
 * exp: x = n·ln2 + r with |r| ≤ ln2/2; e^r by its degree-7 Taylor polynomial (truncation < 6e-9),
 *      2^n built in the exponent bits. Inputs are clamped to [-87.33, 88.3] so 2^n stays a normal
 *      float: below, the result is FLT_MIN instead of a subnormal or 0 (harmless for softmax and erf).
 *      Measured relative error < 3e-7 (tests/c/test_kernels.c).
 * erf: a rational function, x·P(x²)/Q(x²) with P and Q of degree 5 on |x| <= 3.9 and ±1 beyond,
 *      fitted by tools/codegen/fit_erf.py; absolute error 3.4e-7 in f32 (bound 4e-7), one division and no exp.
 */
#include <math.h>

#include "kernels.h"
#include "simd.h"

/* The constants of vexp, read once per kernel call (et_f32x4_const): kept in registers across its loops. */
typedef struct vexp_k {
    v128_t lo, hi, log2e, magic, ln2_hi, ln2_lo, c[8];
} vexp_k;

static const volatile float exp_consts[14] = {
    -87.33654f, 88.3f, 1.44269504f,
    /* 1.5·2^23 + 127: adding it rounds x·log2e to an integer n (nearest even) held in the low mantissa bits
     * as n + 127, ready to shift into an exponent; no float→int conversion needed. */
    12583039.0f, 0.693359375f, -2.12194440e-4f,
    /* e^r's Taylor coefficients, 1/7! first */
    1.0f / 5040.0f, 1.0f / 720.0f, 1.0f / 120.0f, 1.0f / 24.0f, 1.0f / 6.0f, 0.5f, 1.0f, 1.0f};

static inline vexp_k vexp_consts(void) {
    vexp_k k;
    k.lo = et_f32x4_const(&exp_consts[0]), k.hi = et_f32x4_const(&exp_consts[1]);
    k.log2e = et_f32x4_const(&exp_consts[2]), k.magic = et_f32x4_const(&exp_consts[3]);
    k.ln2_hi = et_f32x4_const(&exp_consts[4]), k.ln2_lo = et_f32x4_const(&exp_consts[5]);
    for (int i = 0; i < 8; i++) k.c[i] = et_f32x4_const(&exp_consts[6 + i]);
    return k;
}

static inline v128_t vexp(v128_t x, const vexp_k *k) {
    x = wasm_f32x4_pmin(wasm_f32x4_pmax(x, k->lo), k->hi); /* et_f32x4_clamp's NaN rule */
    const v128_t v = et_f32x4_madd(x, k->log2e, k->magic);
    const v128_t n = wasm_f32x4_sub(v, k->magic);
    v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, k->ln2_hi));
    r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, k->ln2_lo));
    v128_t p = k->c[0];
    for (int i = 1; i < 8; i++) p = et_f32x4_madd(p, r, k->c[i]);
    return wasm_f32x4_mul(p, wasm_i32x4_shl(v, 23));
}

/* erf(x) = x·P(x²)/Q(x²) for |x| <= 3.9, ±1 beyond (erfc(3.9) < 4e-8): tools/codegen/fit_erf.py.
 * erf_consts: the clamp bounds, P's coefficients from x¹⁰'s down, Q's, then ±1. */
static const volatile float erf_consts[16] = {-3.9f, 3.9f,
    2.050348257e-06f, 2.874573984e-04f, 3.836966353e-03f, 5.296720192e-02f, 1.919434071e-01f, 1.128378987e+00f,
    3.823033330e-05f, 1.181752537e-03f, 1.510939002e-02f, 1.147591621e-01f, 5.034372211e-01f, 1.000000000e+00f,
    -1.0f, 1.0f};

typedef struct verf_k {
    v128_t lo, hi, p[6], q[6], m1, one;
} verf_k;

static inline verf_k verf_consts(void) {
    verf_k k;
    k.lo = et_f32x4_const(&erf_consts[0]), k.hi = et_f32x4_const(&erf_consts[1]);
    for (int i = 0; i < 6; i++) k.p[i] = et_f32x4_const(&erf_consts[2 + i]), k.q[i] = et_f32x4_const(&erf_consts[8 + i]);
    k.m1 = et_f32x4_const(&erf_consts[14]), k.one = et_f32x4_const(&erf_consts[15]);
    return k;
}

static inline v128_t verf(v128_t x, const verf_k *k) {
    const v128_t xc = wasm_f32x4_pmin(wasm_f32x4_pmax(x, k->lo), k->hi);
    const v128_t t = wasm_f32x4_mul(xc, xc);
    v128_t p = k->p[0], q = k->q[0];
    for (int i = 1; i < 6; i++) {
        p = et_f32x4_madd(p, t, k->p[i]);
        q = et_f32x4_madd(q, t, k->q[i]);
    }
    const v128_t r = wasm_f32x4_mul(xc, wasm_f32x4_div(p, q));
    return wasm_f32x4_pmin(wasm_f32x4_pmax(r, k->m1), k->one); /* 3.9 gives 1 + 1 ulp */
}

/* The n % 4 tail goes through a zero-padded vector so it gets the same math as the body. */
#define ET_ELEMENTWISE(n, x, y, OP, K)                                      \
    do {                                                                    \
        size_t i_ = 0;                                                      \
        for (; i_ + 4 <= (n); i_ += 4)                                      \
            wasm_v128_store((y) + i_, OP(wasm_v128_load((x) + i_), K));     \
        if (i_ < (n)) {                                                     \
            float t_[4] = {0};                                              \
            for (size_t j_ = 0; i_ + j_ < (n); j_++) t_[j_] = (x)[i_ + j_]; \
            wasm_v128_store(t_, OP(wasm_v128_load(t_), K));                 \
            for (size_t j_ = 0; i_ + j_ < (n); j_++) (y)[i_ + j_] = t_[j_]; \
        }                                                                   \
    } while (0)

void et_f32_vexp__wasmsimd(size_t n, const float *x, float *y) {
    const vexp_k k = vexp_consts();
    ET_ELEMENTWISE(n, x, y, vexp, &k);
}

void et_f32_verf__wasmsimd(size_t n, const float *x, float *y) {
    const verf_k k = verf_consts();
    ET_ELEMENTWISE(n, x, y, verf, &k);
}

void et_f32_gelu__scalar(size_t n, const float *x, float *y) {
    for (size_t i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

static const volatile float gelu_consts[2] = {0.70710678118654752f, 0.5f};

typedef struct vgelu_k {
    verf_k erf;
    v128_t rsqrt2, half;
} vgelu_k;

static inline v128_t vgelu(v128_t x, const vgelu_k *k) {
    const v128_t e = verf(wasm_f32x4_mul(x, k->rsqrt2), &k->erf);
    return wasm_f32x4_mul(wasm_f32x4_mul(k->half, x), wasm_f32x4_add(k->erf.one, e));
}

void et_f32_gelu__wasmsimd(size_t n, const float *x, float *y) {
    const vgelu_k k = {verf_consts(), et_f32x4_const(&gelu_consts[0]), et_f32x4_const(&gelu_consts[1])};
    ET_ELEMENTWISE(n, x, y, vgelu, &k);
}

void et_f32_softmax__scalar(int rows, int n, float *x, int ld, float scale, float *inv_sum) {
    for (int r = 0; r < rows; r++) {
        float *xr = x + (size_t)r * ld;
        float mx = xr[0];
        for (int j = 1; j < n; j++) mx = xr[j] > mx ? xr[j] : mx;
        const float m = mx * scale;
        float sum = 0.0f;
        for (int j = 0; j < n; j++) {
            xr[j] = expf(xr[j] * scale - m);
            sum += xr[j];
        }
        const float inv = 1.0f / sum;
        if (inv_sum) inv_sum[r] = inv;
        else for (int j = 0; j < n; j++) xr[j] *= inv;
    }
}

void et_f32_softmax__wasmsimd(int rows, int n, float *x, int ld, float scale, float *inv_sum) {
    const int n4 = n & ~3;
    const v128_t vscale = wasm_f32x4_splat(scale);
    const vexp_k k = vexp_consts();
    for (int r = 0; r < rows; r++) {
        float *xr = x + (size_t)r * ld;
        v128_t vmax = wasm_f32x4_splat(-INFINITY);
        int j = 0;
        for (; j < n4; j += 4) vmax = wasm_f32x4_pmax(vmax, wasm_v128_load(xr + j));
        float mx = et_f32x4_hmax(vmax);
        for (; j < n; j++) mx = xr[j] > mx ? xr[j] : mx;
        const v128_t vm = wasm_f32x4_splat(mx * scale);

        v128_t vsum = wasm_f32x4_splat(0.0f);
        for (j = 0; j < n4; j += 4) {
            v128_t e = vexp(wasm_f32x4_sub(wasm_f32x4_mul(wasm_v128_load(xr + j), vscale), vm), &k);
            wasm_v128_store(xr + j, e);
            vsum = wasm_f32x4_add(vsum, e);
        }
        float sum = et_f32x4_hsum(vsum);
        if (j < n) {
            float t[4] = {0};
            for (int q = 0; j + q < n; q++) t[q] = xr[j + q];
            v128_t e = vexp(wasm_f32x4_sub(wasm_f32x4_mul(wasm_v128_load(t), vscale), vm), &k);
            wasm_v128_store(t, e);
            for (int q = 0; j + q < n; q++) {
                xr[j + q] = t[q];
                sum += t[q];
            }
        }
        const float inv = 1.0f / sum;
        if (inv_sum) {
            inv_sum[r] = inv;
            continue;
        }
        const v128_t vinv = wasm_f32x4_splat(inv);
        for (j = 0; j < n4; j += 4) wasm_v128_store(xr + j, wasm_f32x4_mul(wasm_v128_load(xr + j), vinv));
        for (; j < n; j++) xr[j] *= inv;
    }
}
