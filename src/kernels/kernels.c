/*
 * kernels.c — the dispatch tables. Constant data: choosing kernels never writes global state.
 */
#include "kernels.h"

static const et_kernels reference = {
    .name = "scalar",
    .f32_gemm_nt = et_f32_gemm_nt__scalar,
    .f32_layernorm = et_f32_layernorm__scalar,
    .f32_gelu = et_f32_gelu__scalar,
    .f32_softmax = et_f32_softmax__scalar,
};

static const et_kernels best = {
#if defined(__wasm_relaxed_simd__)
    .name = "wasm-relaxed-simd",
#elif defined(__wasm_simd128__)
    .name = "wasm-simd128",
#else
    .name = "simd128 (SIMDe)",
#endif
    .f32_gemm_nt = et_f32_gemm_nt_2x4__wasmsimd,
    .f32_layernorm = et_f32_layernorm__wasmsimd,
    .f32_gelu = et_f32_gelu__wasmsimd,
    .f32_softmax = et_f32_softmax__wasmsimd,
};

const et_kernels *et_kernels_reference(void) { return &reference; }
const et_kernels *et_kernels_best(void) { return &best; }
