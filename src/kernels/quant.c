/*
 * quant.c — quantizing on the fly for the int8 products (gemm_q8.c): a GEMM input's rows as asymmetric levels
 * (scale and zero point per row, 0 exactly representable; "i16" 0..255 or "u7" 0..127, the formats of
 * gemm_q8.c's two ISAs), and attention's keys as symmetric int8 rows. Each vector variant
 * rounds as nearbyintf (ties to even) and equals its scalar reference bit for bit.
 */
#include <math.h>
#include <string.h>

#include "kernels.h"
#include "simd.h"

/* ---- activation quantization -------------------------------------------------------------------- */

/* Scale, zero point and 1/scale for levels 0..qmax of a row whose values span [lo, hi] (lo <= 0 <= hi),
 * with 0.0 exactly representable. */
static inline void range_params(float lo, float hi, int qmax, float *scale, int32_t *zero, float *inv) {
    if (hi == lo) { /* an all-zero row */
        *scale = 1.0f, *zero = 0, *inv = 1.0f;
        return;
    }
    const float s = (hi - lo) / (float)qmax;
    const float z = nearbyintf(-lo / s);
    *scale = s;
    /* A row holding an infinity or NaN has no finite range: z is NaN then, and converting it would be undefined;
     * zero 0 and a non-finite scale carry the NaN to the outputs, where tagging refuses it (ET_ERR_NUMERIC). */
    *zero = !(z > 0) ? 0 : z > (float)qmax ? qmax : (int32_t)z;
    *inv = 1.0f / s;
}

/* The row's scale and zero point for levels 0..qmax. */
static void row_params(const float *x, int k, int qmax, float *scale, int32_t *zero, float *inv) {
    float lo = 0.0f, hi = 0.0f;
    for (int p = 0; p < k; p++) {
        lo = x[p] < lo ? x[p] : lo;
        hi = x[p] > hi ? x[p] : hi;
    }
    range_params(lo, hi, qmax, scale, zero, inv);
}

static inline int32_t quantize_one(float x, float inv, int32_t zero, int32_t qmax) {
    float f = nearbyintf(x * inv);
    if (!(f > -1e9f)) f = -1e9f; /* NaN too: never an out-of-range conversion */
    if (f > 1e9f) f = 1e9f;
    const int32_t q = (int32_t)f + zero;
    return q < 0 ? 0 : q > qmax ? qmax : q;
}

void et_q8_quantize_i16__scalar(int m, int k, const float *x, int ldx, void *out, int ldq, float *sa, int32_t *za) {
    int16_t *q = out;
    for (int i = 0; i < m; i++) {
        float inv;
        row_params(x + (size_t)i * ldx, k, 255, &sa[i], &za[i], &inv);
        for (int p = 0; p < k; p++) q[(size_t)i * ldq + p] = (int16_t)quantize_one(x[(size_t)i * ldx + p], inv, za[i], 255);
    }
}

void et_q8_quantize_u7__scalar(int m, int k, const float *x, int ldx, void *out, int ldq, float *sa, int32_t *za) {
    uint8_t *q = out;
    for (int i = 0; i < m; i++) {
        float inv;
        row_params(x + (size_t)i * ldx, k, 127, &sa[i], &za[i], &inv);
        for (int p = 0; p < k; p++) q[(size_t)i * ldq + p] = (uint8_t)quantize_one(x[(size_t)i * ldx + p], inv, za[i], 127);
    }
}

/* The vector quantizer: min/max in one pass, then scale, round (nearest even, as nearbyintf), clamp. */
static void row_params_simd(const float *x, int k, int qmax, float *scale, int32_t *zero, float *inv) {
    v128_t vlo = wasm_f32x4_splat(0.0f), vhi = vlo;
    int p = 0;
    for (; p + 4 <= k; p += 4) {
        const v128_t v = wasm_v128_load(x + p);
        vlo = wasm_f32x4_pmin(vlo, v);
        vhi = wasm_f32x4_pmax(vhi, v);
    }
    float lo = -et_f32x4_hmax(wasm_f32x4_neg(vlo)), hi = et_f32x4_hmax(vhi);
    for (; p < k; p++) {
        lo = x[p] < lo ? x[p] : lo;
        hi = x[p] > hi ? x[p] : hi;
    }
    range_params(lo, hi, qmax, scale, zero, inv);
}

/* Four floats to four clamped int32 levels. Adding 1.5·2^23 rounds x·inv to the nearest integer (ties to
 * even, as nearbyintf) in the low mantissa bits; subtracting the same float's bits leaves it as an int32.
 * |x·inv| <= qmax, far below 2^22, so this is exact; no float→int conversion needed. */
static const volatile float round_magic = 12582912.0f;

static inline v128_t quantize4(v128_t x, v128_t inv, v128_t zero, v128_t qmax, v128_t magic) {
    const v128_t v = wasm_f32x4_add(wasm_f32x4_mul(x, inv), magic);
    const v128_t q = wasm_i32x4_add(wasm_i32x4_sub(v, magic), zero);
    return wasm_i32x4_min(wasm_i32x4_max(q, wasm_i32x4_splat(0)), qmax);
}

void et_q8_quantize_i16__wasmsimd(int m, int k, const float *x, int ldx, void *out, int ldq, float *sa, int32_t *za) {
    int16_t *q = out;
    for (int i = 0; i < m; i++) {
        const float *xr = x + (size_t)i * ldx;
        int16_t *qr = q + (size_t)i * ldq;
        float inv;
        row_params_simd(xr, k, 255, &sa[i], &za[i], &inv);
        const v128_t vinv = wasm_f32x4_splat(inv), vz = wasm_i32x4_splat(za[i]), vmax = wasm_i32x4_splat(255);
        const v128_t magic = et_f32x4_const(&round_magic);
        int p = 0;
        for (; p + 8 <= k; p += 8) {
            const v128_t a = quantize4(wasm_v128_load(xr + p), vinv, vz, vmax, magic);
            const v128_t b = quantize4(wasm_v128_load(xr + p + 4), vinv, vz, vmax, magic);
            wasm_v128_store(qr + p, wasm_i16x8_narrow_i32x4(a, b));
        }
        for (; p < k; p++) qr[p] = (int16_t)quantize_one(xr[p], inv, za[i], 255);
    }
}

void et_q8_quantize_u7__wasmsimd(int m, int k, const float *x, int ldx, void *out, int ldq, float *sa, int32_t *za) {
    uint8_t *q = out;
    for (int i = 0; i < m; i++) {
        const float *xr = x + (size_t)i * ldx;
        uint8_t *qr = q + (size_t)i * ldq;
        float inv;
        row_params_simd(xr, k, 127, &sa[i], &za[i], &inv);
        const v128_t vinv = wasm_f32x4_splat(inv), vz = wasm_i32x4_splat(za[i]), vmax = wasm_i32x4_splat(127);
        const v128_t magic = et_f32x4_const(&round_magic);
        int p = 0;
        for (; p + 16 <= k; p += 16) {
            const v128_t a = quantize4(wasm_v128_load(xr + p), vinv, vz, vmax, magic);
            const v128_t b = quantize4(wasm_v128_load(xr + p + 4), vinv, vz, vmax, magic);
            const v128_t c = quantize4(wasm_v128_load(xr + p + 8), vinv, vz, vmax, magic);
            const v128_t d = quantize4(wasm_v128_load(xr + p + 12), vinv, vz, vmax, magic);
            wasm_v128_store(qr + p, wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(a, b), wasm_i16x8_narrow_i32x4(c, d)));
        }
        for (; p < k; p++) qr[p] = (uint8_t)quantize_one(xr[p], inv, za[i], 127);
    }
}

/* ---- symmetric int8 rows (attention's keys, quantized on the fly) -------------------
 * q = round(x·inv) clamped to ±127 with inv = 127 / max|x| and scale = max|x| / 127 (scale 1 and zeros for an
 * all-zero row; a row holding an infinity or NaN gets a NaN scale, which carries to the outputs). Rounding as
 * nearbyintf, so the vector variant equals the reference bit for bit. sums[i] = Σ q[i][·]. */
static inline void sym_params(float amax, float *scale, float *inv) {
    if (amax == 0.0f) *scale = 1.0f, *inv = 0.0f;
    else *scale = amax / 127.0f, *inv = 127.0f / amax;
}

/* A row without a finite range: zeros, sum 0, a NaN scale. */
static void sym_nonfinite(int cols, int8_t *qr, float *scale, int32_t *sum) {
    memset(qr, 0, (size_t)cols);
    *scale = NAN, *sum = 0;
}

void et_i8_quantize_rows__scalar(int rows, int cols, const float *x, int ldx, int8_t *q, int ldq, float *scale,
                                 int32_t *sums) {
    for (int i = 0; i < rows; i++) {
        const float *xr = x + (size_t)i * ldx;
        float amax = 0.0f, inv;
        for (int p = 0; p < cols; p++) {
            const float a = fabsf(xr[p]);
            amax = a > amax || a != a ? a : amax;
        }
        if (!(amax < INFINITY)) {
            sym_nonfinite(cols, q + (size_t)i * ldq, &scale[i], &sums[i]);
            continue;
        }
        sym_params(amax, &scale[i], &inv);
        int32_t s = 0;
        for (int p = 0; p < cols; p++) {
            float f = nearbyintf(xr[p] * inv);
            f = f > 127.0f ? 127.0f : f < -127.0f ? -127.0f : f;
            q[(size_t)i * ldq + p] = (int8_t)f;
            s += (int8_t)f;
        }
        sums[i] = s;
    }
}

void et_i8_quantize_rows__wasmsimd(int rows, int cols, const float *x, int ldx, int8_t *q, int ldq, float *scale,
                                   int32_t *sums) {
    const v128_t magic = et_f32x4_const(&round_magic);
    for (int i = 0; i < rows; i++) {
        const float *xr = x + (size_t)i * ldx;
        int8_t *qr = q + (size_t)i * ldq;
        v128_t vmax = wasm_f32x4_splat(0.0f);
        int p = 0, nan = 0;
        for (; p + 4 <= cols; p += 4) {
            const v128_t v = wasm_v128_load(xr + p);
            nan |= wasm_v128_any_true(wasm_f32x4_ne(v, v));
            vmax = wasm_f32x4_pmax(vmax, wasm_f32x4_abs(v));
        }
        float amax = et_f32x4_hmax(vmax), inv;
        for (; p < cols; p++) {
            const float a = fabsf(xr[p]);
            amax = a > amax || a != a ? a : amax;
        }
        if (nan || !(amax < INFINITY)) {
            sym_nonfinite(cols, qr, &scale[i], &sums[i]);
            continue;
        }
        sym_params(amax, &scale[i], &inv);
        const v128_t vinv = wasm_f32x4_splat(inv), lim = wasm_i32x4_splat(127), nlim = wasm_i32x4_splat(-127);
        v128_t vs = wasm_i32x4_splat(0);
        int32_t s = 0;
        for (p = 0; p + 16 <= cols; p += 16) {
            v128_t r[4];
            for (int g = 0; g < 4; g++) {
                const v128_t v = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(xr + p + 4 * g), vinv), magic);
                r[g] = wasm_i32x4_min(wasm_i32x4_max(wasm_i32x4_sub(v, magic), nlim), lim);
                vs = wasm_i32x4_add(vs, r[g]);
            }
            wasm_v128_store(qr + p, wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(r[0], r[1]), wasm_i16x8_narrow_i32x4(r[2], r[3])));
        }
        for (; p < cols; p++) {
            float f = nearbyintf(xr[p] * inv);
            f = f > 127.0f ? 127.0f : f < -127.0f ? -127.0f : f;
            qr[p] = (int8_t)f;
            s += (int8_t)f;
        }
        sums[i] = s + wasm_i32x4_extract_lane(vs, 0) + wasm_i32x4_extract_lane(vs, 1) + wasm_i32x4_extract_lane(vs, 2) +
                  wasm_i32x4_extract_lane(vs, 3);
    }
}

