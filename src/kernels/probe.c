/*
 * probe.c — the kernels as the public API names them: an et_kernels_choice (include/edgetag.h) to its
 * dispatch table, and et_kernels_probe, the GEMMs a host times to choose between two kernel sets.
 *
 * The probe is a tuning call, not part of a run: it allocates its buffers on each call and frees them
 * before it returns, so no context or model carries them.
 */
#include <stdlib.h>

#include "edgetag.h" /* the exported probe's signature: et_status, et_kernels_choice */
#include "kernels.h"
#include "simd.h"    /* ET_HAVE_RELAXED */

const et_kernels *et_kernels_for_choice(int32_t choice) {
    switch (choice) {
    case ET_KERNELS_AUTO: return et_kernels_best();
    case ET_KERNELS_REFERENCE: return et_kernels_reference();
    case ET_KERNELS_BASELINE: return et_kernels_baseline();
    case ET_KERNELS_RELAXED_DOT16: return et_kernels_relaxed_dot16();
    case ET_KERNELS_RELAXED_DOT32: return et_kernels_relaxed_dot32();
    case ET_KERNELS_REFERENCE_U7: return et_kernels_reference_u7();
    default: return NULL;
    }
}

/* k->q8_gemm_packed(…); for the two relaxed sets through the one function that holds both kernels, so
 * that an engine compiling function by function times both in the same tier. */
static void probe_gemm(const et_kernels *k, int m, int n, int kk, const void *a, int lda, const float *sa,
                       const int32_t *za, const int8_t *panels, const float *sw, const int32_t *wsum, const float *bias,
                       float *c, int ldc) {
#if defined(ET_HAVE_RELAXED)
    const et_kernels *dot16 = et_kernels_relaxed_dot16(), *dot32 = et_kernels_relaxed_dot32();
    if (k == dot16 || k == dot32) {
        et_q8_gemm_packed_4x8_u7__wasmrelaxed_probe(k == dot32, m, n, kk, a, lda, sa, za, panels, sw, wsum, bias, c, ldc);
        return;
    }
#endif
    k->q8_gemm_packed(m, n, kk, a, lda, sa, za, panels, sw, wsum, bias, c, ldc);
}

et_status et_kernels_probe(int32_t choice, int32_t iterations) {
    enum { M = 16, N = 384, K = 384 };
    const et_kernels *k = et_kernels_for_choice(choice);
    if (choice < ET_KERNELS_AUTO || choice > ET_KERNELS_REFERENCE_U7 || iterations < 0) return ET_ERR_INVALID_ARGUMENT;
    if (!k) return ET_ERR_UNSUPPORTED;
    if (iterations == 0) return ET_OK; /* only the question whether this build has the set */
    /* Zeros: the integer SIMD products take the same time whatever the values, and zeroed memory costs
     * next to nothing to set up, so the host times the GEMMs rather than this preparation. */
    int8_t *w = calloc((size_t)N * K, 1);
    uint8_t *a = calloc((size_t)M * K, 2);
    float *c = calloc(M * N + 2 * N + M, sizeof(float));
    int32_t *ints = calloc(N + M, sizeof(int32_t));
    if (!w || !a || !c || !ints) {
        free(w), free(a), free(c), free(ints);
        return ET_ERR_OUT_OF_MEMORY;
    }
    /* C [M][N] = A [M][K] (levels, row scales c + M·N + 2N, zero points ints + N) · W [N][K] packed
     * (row scales c + M·N, row sums ints) + bias (c + M·N + N). */
    for (int it = 0; it < iterations; it++)
        probe_gemm(k, M, N, K, a, K, c + M * N + 2 * N, ints + N, w, c + M * N, ints, c + M * N + N, c, N);
    free(w), free(a), free(c), free(ints);
    return ET_OK;
}
