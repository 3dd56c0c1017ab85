/*
 * norm.c — LayerNorm over rows, with the residual add that precedes every BERT LayerNorm fused in.
 *
 * Two passes over the row (mean, then the mean of squared deviations) as torch computes it; the
 * one-pass E[x²] − E[x]² form loses digits when the mean is large against the spread.
 */
#include <math.h>

#include "kernels.h"
#include "simd.h"

void et_f32_layernorm__scalar(int rows, int n, const float *x, const float *res, const float *gamma,
                              const float *beta, float eps, float *y) {
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * n;
        const float *rr = res ? res + (size_t)r * n : NULL;
        float *yr = y + (size_t)r * n;
        float sum = 0.0f;
        for (int j = 0; j < n; j++) {
            yr[j] = rr ? xr[j] + rr[j] : xr[j];
            sum += yr[j];
        }
        const float mean = sum / (float)n;
        float var = 0.0f;
        for (int j = 0; j < n; j++) var += (yr[j] - mean) * (yr[j] - mean);
        const float rstd = 1.0f / sqrtf(var / (float)n + eps);
        for (int j = 0; j < n; j++) yr[j] = (yr[j] - mean) * rstd * gamma[j] + beta[j];
    }
}

void et_f32_layernorm__wasmsimd(int rows, int n, const float *x, const float *res, const float *gamma,
                                const float *beta, float eps, float *y) {
    const int n4 = n & ~3;
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * n;
        const float *rr = res ? res + (size_t)r * n : NULL;
        float *yr = y + (size_t)r * n;

        /* Pass 1: y = x + res, and its sum. */
        v128_t vsum = wasm_f32x4_splat(0.0f);
        int j = 0;
        if (rr) {
            for (; j < n4; j += 4) {
                v128_t v = wasm_f32x4_add(wasm_v128_load(xr + j), wasm_v128_load(rr + j));
                wasm_v128_store(yr + j, v);
                vsum = wasm_f32x4_add(vsum, v);
            }
        } else {
            for (; j < n4; j += 4) {
                v128_t v = wasm_v128_load(xr + j);
                wasm_v128_store(yr + j, v);
                vsum = wasm_f32x4_add(vsum, v);
            }
        }
        float sum = et_f32x4_hsum(vsum);
        for (; j < n; j++) {
            yr[j] = rr ? xr[j] + rr[j] : xr[j];
            sum += yr[j];
        }
        const float mean = sum / (float)n;

        /* Pass 2: variance around the mean. */
        const v128_t vmean = wasm_f32x4_splat(mean);
        v128_t vvar = wasm_f32x4_splat(0.0f);
        for (j = 0; j < n4; j += 4) {
            v128_t d = wasm_f32x4_sub(wasm_v128_load(yr + j), vmean);
            vvar = et_f32x4_madd(d, d, vvar);
        }
        float var = et_f32x4_hsum(vvar);
        for (; j < n; j++) var += (yr[j] - mean) * (yr[j] - mean);
        const float rstd = 1.0f / sqrtf(var / (float)n + eps);

        /* Pass 3: normalise, scale, shift. */
        const v128_t vrstd = wasm_f32x4_splat(rstd);
        for (j = 0; j < n4; j += 4) {
            v128_t d = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(yr + j), vmean), vrstd);
            wasm_v128_store(yr + j, et_f32x4_madd(d, wasm_v128_load(gamma + j), wasm_v128_load(beta + j)));
        }
        for (; j < n; j++) yr[j] = (yr[j] - mean) * rstd * gamma[j] + beta[j];
    }
}
