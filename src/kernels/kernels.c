/*
 * kernels.c — the dispatch tables. Constant data: choosing kernels never writes global state.
 */
#include <stddef.h>

#include "kernels.h"
#include "simd.h"

/* The f32 rows every table shares: the scalar references, or the SIMD128 kernels (which fuse mul + add
 * with relaxed_madd when compiled for relaxed SIMD: the relaxed sets differ from the baseline in int8 only). */
#define F32_REFERENCE                               \
    .f32_gemm_nt = et_f32_gemm_nt__scalar,          \
    .f32_gemm_nn = et_f32_gemm_nn__scalar,          \
    .f32_gemm_packed = et_f32_gemm_packed__scalar,  \
    .f32_transpose = et_f32_transpose__scalar,      \
    .f32_scale_rows = et_f32_scale_rows__scalar,    \
    .f32_layernorm = et_f32_layernorm__scalar,      \
    .f32_gelu = et_f32_gelu__scalar,                \
    .f32_softmax = et_f32_softmax__scalar

#define F32_SIMD128                                      \
    .f32_gemm_nt = et_f32_gemm_nt_2x4__wasmsimd,         \
    .f32_gemm_nn = et_f32_gemm_nn_4x8__wasmsimd,         \
    .f32_gemm_packed = et_f32_gemm_packed_4x8__wasmsimd, \
    .f32_transpose = et_f32_transpose__wasmsimd,         \
    .f32_scale_rows = et_f32_scale_rows__wasmsimd,       \
    .f32_layernorm = et_f32_layernorm__wasmsimd,         \
    .f32_gelu = et_f32_gelu__wasmsimd,                   \
    .f32_softmax = et_f32_softmax__wasmsimd

static const et_kernels reference = {
    .name = "scalar",
    F32_REFERENCE,
    .q8_quantize = et_q8_quantize_i16__scalar,
    .q8_gemm_nt = et_q8_gemm_nt_i16__scalar,
    .q8_gemm_packed = et_q8_gemm_packed_i16__scalar,
    .q4_gemm_packed = et_q4_gemm_packed_i16__scalar,
    .i8_row_sums = et_i8_row_sums__scalar,
    .q8_level_bytes = 2,
};

static const et_kernels reference_u7 = {
    .name = "scalar (7-bit int8 levels)",
    F32_REFERENCE,
    .q8_quantize = et_q8_quantize_u7__scalar,
    .q8_gemm_nt = et_q8_gemm_nt_u7__scalar,
    .q8_gemm_packed = et_q8_gemm_packed_u7__scalar,
    .q4_gemm_packed = et_q4_gemm_packed_u7__scalar,
    .i8_row_sums = et_i8_row_sums__scalar,
    .i8_quantize_rows = et_i8_quantize_rows__scalar,
    .q8_level_bytes = 1,
};

static const et_kernels baseline = {
#if defined(__wasm_simd128__)
    .name = "wasm-simd128",
#else
    .name = "simd128 (SIMDe)",
#endif
    F32_SIMD128,
    .q8_quantize = et_q8_quantize_i16__wasmsimd,
    .q8_gemm_nt = et_q8_gemm_nt_2x4_i16__wasmsimd,
    .q8_gemm_packed = et_q8_gemm_packed_4x4_i16__wasmsimd,
    .q4_gemm_packed = et_q4_gemm_packed_2x4_i16__wasmsimd,
    .i8_row_sums = et_i8_row_sums__wasmsimd,
    .q8_level_bytes = 2,
};

#if defined(ET_HAVE_RELAXED)
#if defined(__wasm_relaxed_simd__)
#define RELAXED_NAME "wasm-relaxed-simd"
#else
#define RELAXED_NAME "relaxed simd (emulated)"
#endif
static const et_kernels relaxed_dot16 = {
    .name = RELAXED_NAME ", int8 dot16",
    F32_SIMD128,
    .q8_quantize = et_q8_quantize_u7__wasmsimd,
    .q8_gemm_nt = et_q8_gemm_nt_2x4_u7__wasmrelaxed_dot16,
    .q8_gemm_packed = et_q8_gemm_packed_4x8_u7__wasmrelaxed_dot16,
    .q4_gemm_packed = et_q4_gemm_packed_4x4_u7__wasmrelaxed_dot16,
    .i8_row_sums = et_i8_row_sums__wasmsimd,
    .i8_quantize_rows = et_i8_quantize_rows__wasmsimd,
    .q8_level_bytes = 1,
};

static const et_kernels relaxed_dot32 = {
    .name = RELAXED_NAME ", int8 dot32",
    F32_SIMD128,
    .q8_quantize = et_q8_quantize_u7__wasmsimd,
    .q8_gemm_nt = et_q8_gemm_nt_2x4_u7__wasmrelaxed_dot32,
    .q8_gemm_packed = et_q8_gemm_packed_4x8_u7__wasmrelaxed_dot32,
    .q4_gemm_packed = et_q4_gemm_packed_4x4_u7__wasmrelaxed_dot32,
    .i8_row_sums = et_i8_row_sums__wasmsimd,
    .i8_quantize_rows = et_i8_quantize_rows__wasmsimd,
    .q8_level_bytes = 1,
};
#endif

const et_kernels *et_kernels_reference(void) { return &reference; }
const et_kernels *et_kernels_reference_u7(void) { return &reference_u7; }
const et_kernels *et_kernels_baseline(void) { return &baseline; }

#if defined(ET_HAVE_RELAXED)
const et_kernels *et_kernels_relaxed_dot16(void) { return &relaxed_dot16; }
const et_kernels *et_kernels_relaxed_dot32(void) { return &relaxed_dot32; }
#else
const et_kernels *et_kernels_relaxed_dot16(void) { return NULL; }
const et_kernels *et_kernels_relaxed_dot32(void) { return NULL; }
#endif

const et_kernels *et_kernels_best(void) {
#if defined(__wasm_relaxed_simd__)
    return &relaxed_dot16;
#else
    return &baseline;
#endif
}
