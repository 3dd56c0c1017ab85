/*
 * gemm_q4.c — 4-bit weights in llama.cpp's Q4_0 blocks, times the int8 path's quantized activations.
 *
 * A Q4_0 block is 32 consecutive weights of one row: an f16 scale d, then 16 bytes whose low nibbles are
 * weights 0..15 and high nibbles weights 16..31, each nibble q standing for d·(q − 8). With the
 * activations quantized per row as for the int8 GEMMs (A[i][k] = round(x/sa[i]) + za[i]):
 *
 *   C[i][j] = (Σ_b d[j][b]·S[i][j][b] − za[i]·zs[j]) · sa[i] + bias[j]
 *   S[i][j][b] = Σ_{k in block b} A[i][k]·(q[j][k] − 8)         an exact int32 (|S| ≤ 32·255·8)
 *   zs[j]      = Σ_b d[j][b]·Σ_{k in block b} (q[j][k] − 8)      once per matrix, at load (et_q4_zero_sums)
 *
 * Every variant computes S exactly and then does the same float operations in the same order (for each
 * block in turn: acc = acc + (float)S·d; then the epilogue above), so each SIMD kernel equals its scalar
 * reference bit for bit. Per-block scales rule out one integer sum over k: the kernels sum a block in
 * integers (in i16 lanes where exact), convert, and accumulate in f32.
 *
 * Packed layout (et_q4_pack_panels, done at load in the matrix's own bytes): rows in panels of 4. For
 * each block b a panel holds 72 bytes — the same as the 4 rows' 4 × 18 — : 64 bytes of nibbles in four
 * 16-byte vectors, vector v holding bytes 4v..4v+3 of the blocks of rows 0, 1, 2, 3 (so its low nibbles
 * are weights 4v..4v+3 and its high nibbles weights 16+4v..16+4v+3 of each row, row by row), then the
 * 4 rows' f16 scales. Unpacked in registers (and 0x0F / shift right 4, minus 8) a vector is 4 rows × 4
 * consecutive weights: one i32x4 dot against 4 activations broadcast gives 4 outputs, one per lane, with
 * no horizontal sums. The last n % 4 rows stay Q4_0 rows after the panels.
 */
#include <math.h>
#include <string.h>

#include "kernels.h"
#include "simd.h"

#define QK 32         /* weights per block */
#define ROW_BLOCK 18  /* bytes of a Q4_0 block: f16 + 16 */
#define PANEL_BLOCK 72 /* bytes of one block of a 4-row panel */

/* ---- f16 scales --------------------------------------------------------------------------------------- */

/* IEEE half to float, exact for every finite half (not for infinities and NaN, which the loader refuses). */
static inline float half_to_float(const uint8_t *p) {
    const uint32_t h = (uint32_t)p[0] | (uint32_t)p[1] << 8;
    uint32_t bits = (h & 0x7fffu) << 13;
    float f;
    memcpy(&f, &bits, 4);
    f *= 0x1p112f; /* rebias the exponent: exact, subnormal halves included */
    memcpy(&bits, &f, 4);
    bits |= (h & 0x8000u) << 16;
    memcpy(&f, &bits, 4);
    return f;
}

/* The same for the 4 halves at p, one per lane. */
static inline v128_t half4_to_float4(const uint8_t *p) {
    const v128_t h = wasm_u32x4_extend_low_u16x8(wasm_v128_load64_splat(p));
    const v128_t mag = wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x7fff)), 13);
    const v128_t f = wasm_f32x4_mul(mag, wasm_f32x4_splat(0x1p112f));
    return wasm_v128_or(f, wasm_i32x4_shl(wasm_v128_and(h, wasm_i32x4_splat(0x8000)), 16));
}

/* ---- load-time helpers -------------------------------------------------------------------------------- */

int et_q4_zero_sums(int rows, int cols, const uint8_t *w, float *zs) {
    const int nb = cols / QK;
    for (int r = 0; r < rows; r++) {
        float acc = 0.0f;
        for (int b = 0; b < nb; b++) {
            const uint8_t *blk = w + ((size_t)r * nb + b) * ROW_BLOCK;
            if ((blk[1] & 0x7c) == 0x7c) return 0; /* exponent all ones: infinite or NaN */
            const float d = half_to_float(blk);
            int32_t s = 0;
            for (int e = 0; e < QK / 2; e++) s += (blk[2 + e] & 15) + (blk[2 + e] >> 4) - 16;
            const float t = (float)s * d;
            acc += t;
        }
        zs[r] = acc;
    }
    return 1;
}

void et_q4_pack_panels(int n, int k, const uint8_t *w, uint8_t *panels) {
    const int nb = k / QK, n4 = n & ~3;
    for (int j = 0; j < n4; j += 4) {
        const uint8_t *rows = w + (size_t)j * nb * ROW_BLOCK;
        uint8_t *out = panels + (size_t)j * nb * ROW_BLOCK;
        for (int b = 0; b < nb; b++, out += PANEL_BLOCK)
            for (int c = 0; c < 4; c++) {
                const uint8_t *blk = rows + ((size_t)c * nb + b) * ROW_BLOCK;
                for (int v = 0; v < 4; v++) memcpy(out + 16 * v + 4 * c, blk + 2 + 4 * v, 4);
                memcpy(out + 64 + 2 * c, blk, 2);
            }
    }
    memcpy(panels + (size_t)n4 * nb * ROW_BLOCK, w + (size_t)n4 * nb * ROW_BLOCK, (size_t)(n - n4) * nb * ROW_BLOCK);
}

void et_q4_dequantize_row(int cols, const uint8_t *row, float *out) {
    for (int b = 0; b < cols / QK; b++) {
        const uint8_t *blk = row + (size_t)b * ROW_BLOCK;
        const float d = half_to_float(blk);
        for (int e = 0; e < QK / 2; e++) {
            out[QK * b + e] = (float)((blk[2 + e] & 15) - 8) * d;
            out[QK * b + e + QK / 2] = (float)((blk[2 + e] >> 4) - 8) * d;
        }
    }
}

/* ---- scalar references ------------------------------------------------------------------------------- */

/* Row j's block b in the packed layout: where its scale is, and its level e (0..31) minus 8. */
static inline const uint8_t *scale_at(const uint8_t *pw, int n, int nb, int j, int b) {
    if (j >= (n & ~3)) return pw + ((size_t)j * nb + b) * ROW_BLOCK;
    return pw + ((size_t)(j & ~3) * nb + (size_t)b * 4) * ROW_BLOCK + 64 + 2 * (j & 3);
}

static inline int32_t level_at(const uint8_t *pw, int n, int nb, int j, int b, int e) {
    const int hi = e >= 16, e16 = e & 15;
    uint8_t byte;
    if (j >= (n & ~3)) byte = pw[((size_t)j * nb + b) * ROW_BLOCK + 2 + e16];
    else byte = pw[((size_t)(j & ~3) * nb + (size_t)b * 4) * ROW_BLOCK + 16 * (e16 >> 2) + 4 * (j & 3) + (e16 & 3)];
    return (hi ? byte >> 4 : byte & 15) - 8;
}

/* The epilogue every variant shares. */
static inline float q4_out(float acc, int32_t za, float zs, float sa, float bias) {
    const float zt = (float)za * zs;
    const float x = (acc - zt) * sa;
    return x + bias;
}

#define Q4_PACKED_SCALAR(NAME, ATYPE)                                                                        \
    void NAME(int m, int n, int k, const void *a_, int lda, const float *sa, const int32_t *za, const uint8_t *pw, \
              const float *zs, const float *bias, float *c, int ldc) {                                       \
        const ATYPE *a = a_;                                                                                 \
        const int nb = k / QK;                                                                               \
        for (int i = 0; i < m; i++)                                                                          \
            for (int j = 0; j < n; j++) {                                                                    \
                float acc = 0.0f;                                                                            \
                for (int b = 0; b < nb; b++) {                                                               \
                    int32_t s = 0;                                                                           \
                    for (int e = 0; e < QK; e++) s += (int32_t)a[(size_t)i * lda + QK * b + e] * level_at(pw, n, nb, j, b, e); \
                    const float t = (float)s * half_to_float(scale_at(pw, n, nb, j, b));                     \
                    acc += t;                                                                                \
                }                                                                                            \
                c[(size_t)i * ldc + j] = q4_out(acc, za[i], zs[j], sa[i], bias ? bias[j] : 0.0f);             \
            }                                                                                                \
    }

Q4_PACKED_SCALAR(et_q4_gemm_packed_i16__scalar, int16_t)
Q4_PACKED_SCALAR(et_q4_gemm_packed_u7__scalar, uint8_t)

/* ---- SIMD kernels --------------------------------------------------------------------------------------- */

/* Rows past the last panel (n % 4, Q4_0 rows as in the file), with the reference's arithmetic. */
#define Q4_EDGE_ROWS(ATYPE)                                                                                  \
    do {                                                                                                     \
        const ATYPE *a_ = a;                                                                                 \
        for (int j = n & ~3; j < n; j++)                                                                     \
            for (int i = 0; i < m; i++) {                                                                    \
                float acc = 0.0f;                                                                            \
                for (int b = 0; b < nb; b++) {                                                               \
                    int32_t s = 0;                                                                           \
                    for (int e = 0; e < QK; e++) s += (int32_t)a_[(size_t)i * lda + QK * b + e] * level_at(pw, n, nb, j, b, e); \
                    const float t = (float)s * half_to_float(scale_at(pw, n, nb, j, b));                     \
                    acc += t;                                                                                \
                }                                                                                            \
                c[(size_t)i * ldc + j] = q4_out(acc, za[i], zs[j], sa[i], bias ? bias[j] : 0.0f);             \
            }                                                                                                \
    } while (0)

/* Stores R rows × 4 columns of f32 block sums through the epilogue. */
#define Q4_STORE_TILE(R)                                                                                     \
    do {                                                                                                     \
        const v128_t zs4 = wasm_v128_load(zs + j), b4 = bias ? wasm_v128_load(bias + j) : wasm_f32x4_splat(0.0f); \
        for (int r = 0; r < R; r++) {                                                                        \
            const v128_t zt = wasm_f32x4_mul(wasm_f32x4_splat((float)za[i + r]), zs4);                       \
            const v128_t x = wasm_f32x4_mul(wasm_f32x4_sub(accf_[r], zt), wasm_f32x4_splat(sa[i + r]));      \
            wasm_v128_store(c + (size_t)(i + r) * ldc + j, wasm_f32x4_add(x, b4));                           \
        }                                                                                                    \
    } while (0)

/* Baseline SIMD128: activations as int16 0..255, weights widened to int16 in registers; i32x4.dot_i16x8_s
 * of 4 rows' 2 weights (half a vector) against 4 activations (8 bytes, broadcast twice) gives 2 pair sums
 * per row: lanes (row 0, k 0-1), (row 0, k 2-3), (row 1, …) — folded pairwise at the end of the block. */
#define Q4_I16_TILE(R)                                                                                       \
    do {                                                                                                     \
        v128_t accf_[R];                                                                                     \
        for (int r = 0; r < R; r++) accf_[r] = wasm_f32x4_splat(0.0f);                                       \
        const int16_t *a0_ = (const int16_t *)a + (size_t)i * lda;                                          \
        const uint8_t *blk = panel;                                                                          \
        for (int b = 0; b < nb; b++, blk += PANEL_BLOCK) {                                                   \
            v128_t r01_[R], r23_[R]; /* rows 0-1 and 2-3 of the panel */                                                                           \
            for (int r = 0; r < R; r++) r01_[r] = r23_[r] = wasm_i32x4_splat(0);                              \
            for (int v = 0; v < 4; v++) {                                                                    \
                const v128_t q = wasm_v128_load(blk + 16 * v);                                               \
                for (int half = 0; half < 2; half++) {                                                       \
                    const v128_t w8 = wasm_i8x16_sub(half ? wasm_u8x16_shr(q, 4) : wasm_v128_and(q, mask), eight); \
                    const v128_t wl = wasm_i16x8_extend_low_i8x16(w8), wh = wasm_i16x8_extend_high_i8x16(w8); \
                    for (int r = 0; r < R; r++) {                                                            \
                        const v128_t av = wasm_v128_load64_splat(a0_ + (size_t)r * lda + QK * b + 16 * half + 4 * v); \
                        r01_[r] = wasm_i32x4_add(r01_[r], wasm_i32x4_dot_i16x8(wl, av));                       \
                        r23_[r] = wasm_i32x4_add(r23_[r], wasm_i32x4_dot_i16x8(wh, av));                       \
                    }                                                                                        \
                }                                                                                            \
            }                                                                                                \
            const v128_t d4 = half4_to_float4(blk + 64);                                                     \
            for (int r = 0; r < R; r++) {                                                                    \
                const v128_t s = wasm_i32x4_add(wasm_i32x4_shuffle(r01_[r], r23_[r], 0, 2, 4, 6),              \
                                                wasm_i32x4_shuffle(r01_[r], r23_[r], 1, 3, 5, 7));             \
                accf_[r] = wasm_f32x4_add(accf_[r], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(s), d4));        \
            }                                                                                                \
        }                                                                                                    \
        Q4_STORE_TILE(R);                                                                                    \
    } while (0)

void et_q4_gemm_packed_2x4_i16__wasmsimd(int m, int n, int k, const void *a, int lda, const float *sa,
                                         const int32_t *za, const uint8_t *pw, const float *zs, const float *bias,
                                         float *c, int ldc) {
    const int nb = k / QK, n4 = n & ~3;
    const v128_t mask = wasm_i8x16_splat(15), eight = wasm_i8x16_splat(8);
    for (int j = 0; j < n4; j += 4) {
        const uint8_t *panel = pw + (size_t)j * nb * ROW_BLOCK;
        int i = 0;
        for (; i + 2 <= m; i += 2) Q4_I16_TILE(2);
        if (i < m) Q4_I16_TILE(1);
    }
    Q4_EDGE_ROWS(int16_t);
}

#if defined(ET_HAVE_RELAXED)
/* Relaxed: activations as 0..127, the second operand of the int8 × 7-bit dots; each 4 activations
 * (broadcast) against a vector of 4 rows × 4 weights. STEP/FINISH is a per-block accumulator kind: "16"
 * keeps the block in i16 lanes (i16x8.relaxed_dot + i16x8.add: each lane sums at most 4 pairs of at most
 * 2·127·8 per chain, exact) and widens once per block; "32" accumulates with
 * i32x4.relaxed_dot_i8x16_i7x16_add. Two chains per row (low and high nibbles): one chain of 16 dependent
 * dots a block is bound by the dot's latency (VNNI's vpdpbusd: ~5 cycles), which halved the speed. */
#define Q4_U7_TILE(R, STEP, FINISH)                                                                          \
    do {                                                                                                     \
        v128_t accf_[R];                                                                                     \
        for (int r = 0; r < R; r++) accf_[r] = wasm_f32x4_splat(0.0f);                                       \
        const uint8_t *a0_ = (const uint8_t *)a + (size_t)i * lda;                                          \
        const uint8_t *blk = panel;                                                                          \
        for (int b = 0; b < nb; b++, blk += PANEL_BLOCK) {                                                   \
            v128_t s_[R], t_[R]; /* two chains per row: low and high nibbles (the dots' latency) */          \
            for (int r = 0; r < R; r++) s_[r] = t_[r] = wasm_i32x4_splat(0);                                \
            for (int v = 0; v < 4; v++) {                                                                    \
                const v128_t q = wasm_v128_load(blk + 16 * v);                                               \
                const v128_t wlo = wasm_i8x16_sub(wasm_v128_and(q, mask), eight);                            \
                const v128_t whi = wasm_i8x16_sub(wasm_u8x16_shr(q, 4), eight);                              \
                for (int r = 0; r < R; r++) {                                                                \
                    const uint8_t *ar_ = a0_ + (size_t)r * lda + QK * b + 4 * v;                             \
                    s_[r] = STEP(wlo, wasm_v128_load32_splat(ar_), s_[r]);                                   \
                    t_[r] = STEP(whi, wasm_v128_load32_splat(ar_ + 16), t_[r]);                              \
                }                                                                                            \
            }                                                                                                \
            const v128_t d4 = half4_to_float4(blk + 64);                                                     \
            for (int r = 0; r < R; r++)                                                                      \
                accf_[r] = wasm_f32x4_add(accf_[r], wasm_f32x4_mul(wasm_f32x4_convert_i32x4(FINISH(s_[r], t_[r])), d4)); \
        }                                                                                                    \
        Q4_STORE_TILE(R);                                                                                    \
    } while (0)

static inline v128_t step16(v128_t w, v128_t a, v128_t acc) { return wasm_i16x8_add(acc, et_i16x8_dot_i8_i7(w, a)); }
static inline v128_t finish16(v128_t s, v128_t t) {
    return wasm_i32x4_add(wasm_i32x4_extadd_pairwise_i16x8(s), wasm_i32x4_extadd_pairwise_i16x8(t));
}
static inline v128_t finish32(v128_t s, v128_t t) { return wasm_i32x4_add(s, t); }

#define Q4_PACKED_RELAXED_BODY(STEP, FINISH)                                                                 \
    do {                                                                                                     \
        const int nb = k / QK, n4 = n & ~3;                                                                  \
        const v128_t mask = wasm_i8x16_splat(15), eight = wasm_i8x16_splat(8);                               \
        for (int j = 0; j < n4; j += 4) {                                                                    \
            const uint8_t *panel = pw + (size_t)j * nb * ROW_BLOCK;                                          \
            int i = 0;                                                                                       \
            for (; i + 4 <= m; i += 4) Q4_U7_TILE(4, STEP, FINISH);                                          \
            for (; i < m; i++) Q4_U7_TILE(1, STEP, FINISH);                                                  \
        }                                                                                                    \
        Q4_EDGE_ROWS(uint8_t);                                                                               \
    } while (0)

void et_q4_gemm_packed_4x4_u7__wasmrelaxed_dot16(int m, int n, int k, const void *a, int lda, const float *sa,
                                                 const int32_t *za, const uint8_t *pw, const float *zs,
                                                 const float *bias, float *c, int ldc) {
    Q4_PACKED_RELAXED_BODY(step16, finish16);
}

void et_q4_gemm_packed_4x4_u7__wasmrelaxed_dot32(int m, int n, int k, const void *a, int lda, const float *sa,
                                                 const int32_t *za, const uint8_t *pw, const float *zs,
                                                 const float *bias, float *c, int ldc) {
    Q4_PACKED_RELAXED_BODY(et_i32x4_dot_i8_i7_add, finish32);
}
#endif
