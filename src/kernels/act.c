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

static inline v128_t vexp(v128_t x) {
    const v128_t log2e = wasm_f32x4_splat(1.44269504f);
    const v128_t ln2_hi = wasm_f32x4_splat(0.693359375f);
    const v128_t ln2_lo = wasm_f32x4_splat(-2.12194440e-4f);
    /* 1.5·2^23 + 127: adding it rounds x·log2e to an integer n (nearest even) held in the low mantissa
     * bits as n + 127, ready to shift into an exponent; no float→int conversion needed. */
    const v128_t magic = wasm_f32x4_splat(12583039.0f);
    x = et_f32x4_clamp(x, -87.33654f, 88.3f);
    const v128_t v = et_f32x4_madd(x, log2e, magic);
    const v128_t n = wasm_f32x4_sub(v, magic);
    v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, ln2_hi));
    r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, ln2_lo));
    v128_t p = wasm_f32x4_splat(1.0f / 5040.0f);
    p = et_f32x4_madd(p, r, wasm_f32x4_splat(1.0f / 720.0f));
    p = et_f32x4_madd(p, r, wasm_f32x4_splat(1.0f / 120.0f));
    p = et_f32x4_madd(p, r, wasm_f32x4_splat(1.0f / 24.0f));
    p = et_f32x4_madd(p, r, wasm_f32x4_splat(1.0f / 6.0f));
    p = et_f32x4_madd(p, r, wasm_f32x4_splat(0.5f));
    p = et_f32x4_madd(p, r, wasm_f32x4_splat(1.0f));
    p = et_f32x4_madd(p, r, wasm_f32x4_splat(1.0f));
    return wasm_f32x4_mul(p, wasm_i32x4_shl(v, 23));
}

/* erf(x) = x·P(x²)/Q(x²) for |x| <= 3.9, ±1 beyond (erfc(3.9) < 4e-8): tools/codegen/fit_erf.py. */
static const float erf_p[6] = {1.128378987e+00f, 1.919434071e-01f, 5.296720192e-02f, 3.836966353e-03f,
                               2.874573984e-04f, 2.050348257e-06f};
static const float erf_q[6] = {1.000000000e+00f, 5.034372211e-01f, 1.147591621e-01f, 1.510939002e-02f,
                               1.181752537e-03f, 3.823033330e-05f};

static inline v128_t verf(v128_t x) {
    const v128_t xc = et_f32x4_clamp(x, -3.9f, 3.9f);
    const v128_t t = wasm_f32x4_mul(xc, xc);
    v128_t p = wasm_f32x4_splat(erf_p[5]), q = wasm_f32x4_splat(erf_q[5]);
    for (int i = 4; i >= 0; i--) {
        p = et_f32x4_madd(p, t, wasm_f32x4_splat(erf_p[i]));
        q = et_f32x4_madd(q, t, wasm_f32x4_splat(erf_q[i]));
    }
    const v128_t r = wasm_f32x4_mul(xc, wasm_f32x4_div(p, q));
    return et_f32x4_clamp(r, -1.0f, 1.0f); /* 3.9 gives 1 + 1 ulp */
}

/* The n % 4 tail goes through a zero-padded vector so it gets the same math as the body. */
#define ET_ELEMENTWISE(n, x, y, OP)                                         \
    do {                                                                    \
        size_t i_ = 0;                                                      \
        for (; i_ + 4 <= (n); i_ += 4)                                      \
            wasm_v128_store((y) + i_, OP(wasm_v128_load((x) + i_)));        \
        if (i_ < (n)) {                                                     \
            float t_[4] = {0};                                              \
            for (size_t j_ = 0; i_ + j_ < (n); j_++) t_[j_] = (x)[i_ + j_]; \
            wasm_v128_store(t_, OP(wasm_v128_load(t_)));                    \
            for (size_t j_ = 0; i_ + j_ < (n); j_++) (y)[i_ + j_] = t_[j_]; \
        }                                                                   \
    } while (0)

void et_f32_vexp__wasmsimd(size_t n, const float *x, float *y) { ET_ELEMENTWISE(n, x, y, vexp); }

void et_f32_verf__wasmsimd(size_t n, const float *x, float *y) { ET_ELEMENTWISE(n, x, y, verf); }

void et_f32_gelu__scalar(size_t n, const float *x, float *y) {
    for (size_t i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

static inline v128_t vgelu(v128_t x) {
    const v128_t e = verf(wasm_f32x4_mul(x, wasm_f32x4_splat(0.70710678118654752f)));
    return wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_splat(0.5f), x), wasm_f32x4_add(wasm_f32x4_splat(1.0f), e));
}

void et_f32_gelu__wasmsimd(size_t n, const float *x, float *y) { ET_ELEMENTWISE(n, x, y, vgelu); }

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
            v128_t e = vexp(wasm_f32x4_sub(wasm_f32x4_mul(wasm_v128_load(xr + j), vscale), vm));
            wasm_v128_store(xr + j, e);
            vsum = wasm_f32x4_add(vsum, e);
        }
        float sum = et_f32x4_hsum(vsum);
        if (j < n) {
            float t[4] = {0};
            for (int q = 0; j + q < n; q++) t[q] = xr[j + q];
            v128_t e = vexp(wasm_f32x4_sub(wasm_f32x4_mul(wasm_v128_load(t), vscale), vm));
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
