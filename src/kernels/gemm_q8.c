/*
 * gemm_q8.c — the int8 path of a Linear layer: activations quantized per row on the fly, weights int8
 * per output channel (symmetric, from the model file, used in place), int32 accumulation:
 *
 *   C[i][j] = sa[i]·sw[j] · (Σ_k A[i][k]·W[j][k] − za[i]·wsum[j]) + bias[j]
 *
 * A[i][k] = round(x[i][k]/sa[i]) + za[i] is the row's asymmetric quantization (zero included in its
 * range; quant.c), wsum[j] = Σ_k W[j][k] is computed once per model. Two activation formats, one per ISA:
 *   - "i16": 0..255 held as int16, for the baseline i32x4.dot_i16x8_s (activations widened once, when
 *     quantized; the weights are widened in registers, each load serving two rows);
 *   - "u7":  0..127 held as uint8, for relaxed SIMD's dot of int8 × 7-bit: i16x8.relaxed_dot_i8x16_i7x16_s
 *     + i32x4.extadd_pairwise_i16x8_s ("dot16"), or i32x4.relaxed_dot_i8x16_i7x16_add_s ("dot32").
 *     The 7-bit operand is the second one, as V8 lowers it (the unsigned side of pmaddubsw); weights lie
 *     in -127..127 and pair sums stay within ±32,258, so the results are exact and engine-independent.
 * Integer sums are exact, and the epilogue does the same float operations in the same order in every
 * variant, so each SIMD kernel equals its scalar reference bit for bit.
 */
#include <string.h>

#include "kernels.h"
#include "simd.h"

/* ---- scalar references ----------------------------------------------------------------------------- */

/* The epilogue every variant shares, element by element: int32 sum → float → scale → bias. */
static inline float dequant(int32_t acc, int32_t za, int32_t wsum, float sa, float sw, float bias) {
    return (float)(acc - za * wsum) * (sa * sw) + bias;
}

#define Q8_GEMM_SCALAR(NAME, ATYPE)                                                                          \
    void NAME(int m, int n, int k, const void *a_, int lda, const float *sa, const int32_t *za, const int8_t *w,  \
              int ldw, const float *sw, const int32_t *wsum, const float *bias, float *c, int ldc) {             \
        const ATYPE *a = a_;                                                                                 \
        for (int i = 0; i < m; i++)                                                                          \
            for (int j = 0; j < n; j++) {                                                                    \
                int32_t acc = 0;                                                                             \
                for (int p = 0; p < k; p++) acc += (int32_t)a[(size_t)i * lda + p] * w[(size_t)j * ldw + p]; \
                c[(size_t)i * ldc + j] = dequant(acc, za[i], wsum[j], sa[i], sw[j], bias ? bias[j] : 0.0f);   \
            }                                                                                                \
    }

Q8_GEMM_SCALAR(et_q8_gemm_nt_i16__scalar, int16_t)
Q8_GEMM_SCALAR(et_q8_gemm_nt_u7__scalar, uint8_t)

/* ---- SIMD kernels: a 2-row × 4-column tile of dot products along k ------------------------------------ */

/* Writes four outputs of row i from the four lanes of sums. */
static inline void store4(v128_t sums, int32_t za, const int32_t *wsum, float sa, const float *sw, const float *bias,
                          float *c) {
    const v128_t x = wasm_i32x4_sub(sums, wasm_i32x4_mul(wasm_i32x4_splat(za), wasm_v128_load(wsum)));
    const v128_t s = wasm_f32x4_mul(wasm_f32x4_splat(sa), wasm_v128_load(sw));
    const v128_t b = bias ? wasm_v128_load(bias) : wasm_f32x4_splat(0.0f);
    wasm_v128_store(c, wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_convert_i32x4(x), s), b));
}

/* The columns past the last multiple of 4 and the last odd row, with the reference's arithmetic. */
#define Q8_EDGES(ATYPE)                                                                                      \
    do {                                                                                                     \
        const ATYPE *a_ = a;                                                                                 \
        for (int j = n4; j < n; j++)                                                                         \
            for (int i = 0; i < m; i++) {                                                                    \
                int32_t acc = 0;                                                                             \
                for (int p = 0; p < k; p++) acc += (int32_t)a_[(size_t)i * lda + p] * w[(size_t)j * ldw + p]; \
                c[(size_t)i * ldc + j] = dequant(acc, za[i], wsum[j], sa[i], sw[j], bias ? bias[j] : 0.0f);   \
            }                                                                                                \
    } while (0)

static inline int32_t dot_tail_i16(const int16_t *a, const int8_t *w, int from, int k) {
    int32_t s = 0;
    for (int p = from; p < k; p++) s += (int32_t)a[p] * w[p];
    return s;
}


void et_q8_gemm_nt_2x4_i16__wasmsimd(int m, int n, int k, const void *a, int lda, const float *sa, const int32_t *za,
                                     const int8_t *w, int ldw, const float *sw, const int32_t *wsum, const float *bias,
                                     float *c, int ldc) {
    const int n4 = n & ~3, k16 = k & ~15;
    const int16_t *A = a;
    for (int j = 0; j < n4; j += 4) {
        const int8_t *w0 = w + (size_t)j * ldw, *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;
        for (int i = 0; i < m; i += 2) {
            const int two = i + 1 < m;
            const int16_t *a0 = A + (size_t)i * lda, *a1 = two ? a0 + lda : a0;
            v128_t c00 = wasm_i32x4_splat(0), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
            /* Each 16 weights are loaded once, widened in registers, and serve both rows. */
            for (int p = 0; p < k16; p += 16) {
                const v128_t a0l = wasm_v128_load(a0 + p), a0h = wasm_v128_load(a0 + p + 8);
                const v128_t a1l = wasm_v128_load(a1 + p), a1h = wasm_v128_load(a1 + p + 8);
#define STEP(WR, C0, C1)                                                                                     \
    do {                                                                                                     \
        const v128_t wv = wasm_v128_load(WR + p);                                                            \
        const v128_t wl = wasm_i16x8_extend_low_i8x16(wv), wh = wasm_i16x8_extend_high_i8x16(wv);            \
        C0 = wasm_i32x4_add(C0, wasm_i32x4_add(wasm_i32x4_dot_i16x8(a0l, wl), wasm_i32x4_dot_i16x8(a0h, wh))); \
        C1 = wasm_i32x4_add(C1, wasm_i32x4_add(wasm_i32x4_dot_i16x8(a1l, wl), wasm_i32x4_dot_i16x8(a1h, wh))); \
    } while (0)
                STEP(w0, c00, c10);
                STEP(w1, c01, c11);
                STEP(w2, c02, c12);
                STEP(w3, c03, c13);
#undef STEP
            }
            v128_t s0 = et_i32x4_hsum4(c00, c01, c02, c03), s1 = et_i32x4_hsum4(c10, c11, c12, c13);
            if (k16 < k) {
                s0 = wasm_i32x4_add(s0, wasm_i32x4_make(dot_tail_i16(a0, w0, k16, k), dot_tail_i16(a0, w1, k16, k),
                                                        dot_tail_i16(a0, w2, k16, k), dot_tail_i16(a0, w3, k16, k)));
                s1 = wasm_i32x4_add(s1, wasm_i32x4_make(dot_tail_i16(a1, w0, k16, k), dot_tail_i16(a1, w1, k16, k),
                                                        dot_tail_i16(a1, w2, k16, k), dot_tail_i16(a1, w3, k16, k)));
            }
            store4(s0, za[i], wsum + j, sa[i], sw + j, bias ? bias + j : NULL, c + (size_t)i * ldc + j);
            if (two) store4(s1, za[i + 1], wsum + j, sa[i + 1], sw + j, bias ? bias + j : NULL, c + (size_t)(i + 1) * ldc + j);
        }
    }
    Q8_EDGES(int16_t);
}

#if defined(ET_HAVE_RELAXED)
static inline int32_t dot_tail_u7(const uint8_t *a, const int8_t *w, int from, int k) {
    int32_t s = 0;
    for (int p = from; p < k; p++) s += (int32_t)a[p] * w[p];
    return s;
}

/* DOT(w, a, acc): acc + the 4-lane dot of 16 int8 weights and 16 7-bit activations. */
#define Q8_RELAXED_KERNEL(NAME, DOT)                                                                         \
    void NAME(int m, int n, int k, const void *a, int lda, const float *sa, const int32_t *za, const int8_t *w,   \
              int ldw, const float *sw, const int32_t *wsum, const float *bias, float *c, int ldc) {             \
        const int n4 = n & ~3, k16 = k & ~15;                                                                \
        const uint8_t *A = a;                                                                                \
        for (int j = 0; j < n4; j += 4) {                                                                    \
            const int8_t *w0 = w + (size_t)j * ldw, *w1 = w0 + ldw, *w2 = w1 + ldw, *w3 = w2 + ldw;          \
            for (int i = 0; i < m; i += 2) {                                                                 \
                const int two = i + 1 < m;                                                                   \
                const uint8_t *a0 = A + (size_t)i * lda, *a1 = two ? a0 + lda : a0;                          \
                v128_t c00 = wasm_i32x4_splat(0), c01 = c00, c02 = c00, c03 = c00;                           \
                v128_t c10 = c00, c11 = c00, c12 = c00, c13 = c00;                                           \
                for (int p = 0; p < k16; p += 16) {                                                          \
                    const v128_t va0 = wasm_v128_load(a0 + p), va1 = wasm_v128_load(a1 + p);                 \
                    v128_t wv = wasm_v128_load(w0 + p);                                                      \
                    c00 = DOT(wv, va0, c00), c10 = DOT(wv, va1, c10);                                        \
                    wv = wasm_v128_load(w1 + p);                                                             \
                    c01 = DOT(wv, va0, c01), c11 = DOT(wv, va1, c11);                                        \
                    wv = wasm_v128_load(w2 + p);                                                             \
                    c02 = DOT(wv, va0, c02), c12 = DOT(wv, va1, c12);                                        \
                    wv = wasm_v128_load(w3 + p);                                                             \
                    c03 = DOT(wv, va0, c03), c13 = DOT(wv, va1, c13);                                        \
                }                                                                                            \
                v128_t s0 = et_i32x4_hsum4(c00, c01, c02, c03), s1 = et_i32x4_hsum4(c10, c11, c12, c13);     \
                if (k16 < k) {                                                                               \
                    s0 = wasm_i32x4_add(s0, wasm_i32x4_make(dot_tail_u7(a0, w0, k16, k), dot_tail_u7(a0, w1, k16, k), \
                                                            dot_tail_u7(a0, w2, k16, k), dot_tail_u7(a0, w3, k16, k))); \
                    s1 = wasm_i32x4_add(s1, wasm_i32x4_make(dot_tail_u7(a1, w0, k16, k), dot_tail_u7(a1, w1, k16, k), \
                                                            dot_tail_u7(a1, w2, k16, k), dot_tail_u7(a1, w3, k16, k))); \
                }                                                                                            \
                store4(s0, za[i], wsum + j, sa[i], sw + j, bias ? bias + j : NULL, c + (size_t)i * ldc + j);  \
                if (two)                                                                                     \
                    store4(s1, za[i + 1], wsum + j, sa[i + 1], sw + j, bias ? bias + j : NULL,               \
                           c + (size_t)(i + 1) * ldc + j);                                                   \
            }                                                                                                \
        }                                                                                                    \
        Q8_EDGES(uint8_t);                                                                                   \
    }

/* In the packed kernels' layout the i16 dot gives column c's two pair sums in lanes 2c and 2c + 1, and the
 * pairwise add makes them one lane: the same operation. */
static inline v128_t dot16(v128_t w, v128_t a, v128_t acc) {
    return wasm_i32x4_add(acc, wasm_i32x4_extadd_pairwise_i16x8(et_i16x8_dot_i8_i7(w, a)));
}

Q8_RELAXED_KERNEL(et_q8_gemm_nt_2x4_u7__wasmrelaxed_dot16, dot16)
Q8_RELAXED_KERNEL(et_q8_gemm_nt_2x4_u7__wasmrelaxed_dot32, et_i32x4_dot_i8_i7_add)
#endif

/* ---- packed weights: 4-row panels, 4 values of k per row in each 16-byte vector ---------------------------
 * The layers' int8 matrices are repacked once, at load, so that the kernels read one sequential stream and
 * every vector of weights serves 4 output columns: rows in blocks of 4, and in each block, for every 4
 * values of k, the 4 bytes of row 0, of row 1, of row 2, of row 3 (16 bytes), then the k % 4 last values of
 * rows 0..3 one row after the other. A block covers the same 4·k bytes as the rows it holds, so the
 * repacking can be done in place one block at a time; the last n % 4 rows stay as they are.
 *
 * The kernels broadcast 4 activations of a row (the same k) to every lane and take the dot product with a
 * vector of weights: lane c sums column c's products, so the sums need no horizontal reduction and each
 * weight vector, loaded once, serves a tile of 4 rows:
 *   - baseline: the 16 bytes widened to int16 in two halves (v128.load8x8_s, one instruction each: columns
 *     0–1 and 2–3), each half dotted with the row's 4 levels broadcast as 64 bits (i32x4.dot_i16x8_s); lanes
 *     hold half sums (column 0 of k..k+1, column 0 of k+2..k+3, …) added pairwise once at the end. Per 128
 *     multiply-adds: 16 dots + 16 adds + 4 widening loads (the 16-byte-chunk tile needed 12 more widening
 *     and shuffle operations), 72 → 83 GOP/s on the MiniLM shapes in V8 (2026-12-05);
 *   - relaxed: the 16 bytes as they are, dotted with the row's 4 levels broadcast as 32 bits, 4 rows × 8
 *     columns (two panels) per tile. */

void et_i8_pack_panels(int n, int k, const int8_t *w, int8_t *panels) {
    const int n4 = n & ~3, k4 = k & ~3, tail = k - k4;
    for (int j = 0; j < n4; j += 4) {
        int8_t *out = panels + (size_t)j * k;
        for (int p = 0; p < k4; p += 4)
            for (int c = 0; c < 4; c++, out += 4) memcpy(out, w + (size_t)(j + c) * k + p, 4);
        for (int c = 0; c < 4; c++, out += tail) memcpy(out, w + (size_t)(j + c) * k + k4, (size_t)tail);
    }
    memcpy(panels + (size_t)n4 * k, w + (size_t)n4 * k, (size_t)(n - n4) * k);
}

/* W[j][p] read from the packed layout. */
static inline int8_t packed_at(const int8_t *pw, int n, int k, int j, int p) {
    const int k4 = k & ~3;
    if (j >= (n & ~3)) return pw[(size_t)j * k + p];
    const int8_t *block = pw + (size_t)(j & ~3) * k;
    if (p < k4) return block[(size_t)(p / 4) * 16 + (j & 3) * 4 + p % 4];
    return block[(size_t)k4 * 4 + (size_t)(j & 3) * (k - k4) + (p - k4)];
}

#define Q8_PACKED_SCALAR(NAME, ATYPE)                                                                        \
    void NAME(int m, int n, int k, const void *a_, int lda, const float *sa, const int32_t *za, const int8_t *pw, \
              const float *sw, const int32_t *wsum, const float *bias, float *c, int ldc) {                      \
        const ATYPE *a = a_;                                                                                 \
        for (int i = 0; i < m; i++)                                                                          \
            for (int j = 0; j < n; j++) {                                                                    \
                int32_t acc = 0;                                                                             \
                for (int p = 0; p < k; p++) acc += (int32_t)a[(size_t)i * lda + p] * packed_at(pw, n, k, j, p); \
                c[(size_t)i * ldc + j] = dequant(acc, za[i], wsum[j], sa[i], sw[j], bias ? bias[j] : 0.0f);   \
            }                                                                                                \
    }

Q8_PACKED_SCALAR(et_q8_gemm_packed_i16__scalar, int16_t)
Q8_PACKED_SCALAR(et_q8_gemm_packed_u7__scalar, uint8_t)

/* The k % 4 tail of a panel's 4 column sums for one row `arow` (levels of type ATYPE), added to sums. */
#define Q8P_TAIL(ATYPE, arow, block, k4, k, sums)                                                            \
    do {                                                                                                     \
        const int t_ = (k) - (k4);                                                                           \
        if (t_) {                                                                                            \
            const int8_t *wt_ = (block) + (size_t)(k4) * 4;                                                  \
            int32_t ts_[4];                                                                                   \
            for (int c_ = 0; c_ < 4; c_++) {                                                                 \
                ts_[c_] = 0;                                                                                  \
                for (int p_ = 0; p_ < t_; p_++) ts_[c_] += (int32_t)((const ATYPE *)(arow))[(k4) + p_] * wt_[c_ * t_ + p_]; \
            }                                                                                                \
            sums = wasm_i32x4_add(sums, wasm_i32x4_make(ts_[0], ts_[1], ts_[2], ts_[3]));                        \
        }                                                                                                    \
    } while (0)

/* The last n % 4 rows of W are row-major (stride k) after the panels: the row-major kernels' edge code. */
#define Q8P_EDGE_ROWS(ATYPE)                                                                                 \
    do {                                                                                                     \
        const int8_t *w = pw;                                                                                \
        const int ldw = k;                                                                                   \
        Q8_EDGES(ATYPE);                                                                                     \
    } while (0)

/* (c0 k0+1, c0 k2+3, c1 k0+1, c1 k2+3), (c2 …, c3 …) → the four columns' sums. */
static inline v128_t pair_sums(v128_t c01, v128_t c23) {
    return wasm_i32x4_add(wasm_i32x4_shuffle(c01, c23, 0, 2, 4, 6), wasm_i32x4_shuffle(c01, c23, 1, 3, 5, 7));
}

/* Baseline: a tile of R rows (from row i) × the 4 columns of the panel at `block` (columns j..j+3). */
#define Q8P_I16_TILE(R)                                                                                      \
    do {                                                                                                     \
        v128_t lo_[R], hi_[R];                                                                               \
        for (int r = 0; r < R; r++) lo_[r] = hi_[r] = wasm_i32x4_splat(0);                                  \
        const int16_t *a0_ = (const int16_t *)a + (size_t)i * lda;                                          \
        const int8_t *wp_ = block;                                                                           \
        for (int p = 0; p < k4; p += 4, wp_ += 16) {                                                         \
            const v128_t wl_ = wasm_i16x8_load8x8(wp_), wh_ = wasm_i16x8_load8x8(wp_ + 8);                   \
            for (int r = 0; r < R; r++) {                                                                    \
                const v128_t av_ = wasm_v128_load64_splat(a0_ + (size_t)r * lda + p);                        \
                lo_[r] = wasm_i32x4_add(lo_[r], wasm_i32x4_dot_i16x8(wl_, av_));                             \
                hi_[r] = wasm_i32x4_add(hi_[r], wasm_i32x4_dot_i16x8(wh_, av_));                             \
            }                                                                                                \
        }                                                                                                    \
        for (int r = 0; r < R; r++) {                                                                        \
            v128_t s_ = pair_sums(lo_[r], hi_[r]);                                                           \
            Q8P_TAIL(int16_t, a0_ + (size_t)r * lda, block, k4, k, s_);                                      \
            store4(s_, za[i + r], wsum + j, sa[i + r], sw + j, bias ? bias + j : NULL, c + (size_t)(i + r) * ldc + j); \
        }                                                                                                    \
    } while (0)

void et_q8_gemm_packed_4x4_i16__wasmsimd(int m, int n, int k, const void *a, int lda, const float *sa,
                                         const int32_t *za, const int8_t *pw, const float *sw, const int32_t *wsum,
                                         const float *bias, float *c, int ldc) {
    const int n4 = n & ~3, k4 = k & ~3;
    for (int j = 0; j < n4; j += 4) {
        const int8_t *block = pw + (size_t)j * k;
        int i = 0;
        for (; i + 4 <= m; i += 4) Q8P_I16_TILE(4);
        if (i + 2 <= m) {
            Q8P_I16_TILE(2);
            i += 2;
        }
        if (i < m) Q8P_I16_TILE(1);
    }
    Q8P_EDGE_ROWS(int16_t);
}

#if defined(ET_HAVE_RELAXED)
/* Relaxed: 7-bit levels; a tile of R rows × NB panels of 4 columns (from column j), DOT(w, a, acc) the
 * 4-lane dot-accumulate of 16 weights and 4 levels broadcast (each lane: one column, 4 values of k). */
#define Q8P_U7_TILE(R, NB, DOT)                                                                              \
    do {                                                                                                     \
        v128_t acc_[R][NB];                                                                                  \
        for (int r = 0; r < R; r++)                                                                          \
            for (int b_ = 0; b_ < NB; b_++) acc_[r][b_] = wasm_i32x4_splat(0);                              \
        const uint8_t *a0_ = (const uint8_t *)a + (size_t)i * lda;                                          \
        const int8_t *wp_ = block;                                                                           \
        for (int p = 0; p < k4; p += 4, wp_ += 16) {                                                         \
            v128_t wv_[NB];                                                                                  \
            for (int b_ = 0; b_ < NB; b_++) wv_[b_] = wasm_v128_load(wp_ + (size_t)b_ * 4 * k);              \
            for (int r = 0; r < R; r++) {                                                                    \
                const v128_t av_ = wasm_v128_load32_splat(a0_ + (size_t)r * lda + p);                        \
                for (int b_ = 0; b_ < NB; b_++) acc_[r][b_] = DOT(wv_[b_], av_, acc_[r][b_]);                \
            }                                                                                                \
        }                                                                                                    \
        for (int r = 0; r < R; r++)                                                                          \
            for (int b_ = 0; b_ < NB; b_++) {                                                                \
                const int jb_ = j + 4 * b_;                                                                  \
                Q8P_TAIL(uint8_t, a0_ + (size_t)r * lda, block + (size_t)b_ * 4 * k, k4, k, acc_[r][b_]);    \
                store4(acc_[r][b_], za[i + r], wsum + jb_, sa[i + r], sw + jb_, bias ? bias + jb_ : NULL,    \
                       c + (size_t)(i + r) * ldc + jb_);                                                     \
            }                                                                                                \
    } while (0)

/* Column panels in pairs (and a last single one), rows in fours (then a pair and a single). */
#define Q8P_U7_ROWS(NB, DOT)                                                                                 \
    do {                                                                                                     \
        int i = 0;                                                                                           \
        for (; i + 4 <= m; i += 4) Q8P_U7_TILE(4, NB, DOT);                                                  \
        if (i + 2 <= m) {                                                                                    \
            Q8P_U7_TILE(2, NB, DOT);                                                                         \
            i += 2;                                                                                          \
        }                                                                                                    \
        if (i < m) Q8P_U7_TILE(1, NB, DOT);                                                                  \
    } while (0)

#define Q8_PACKED_RELAXED_BODY(DOT)                                                                          \
    do {                                                                                                     \
        const int n4 = n & ~3, n8 = n & ~7, k4 = k & ~3;                                                     \
        for (int j = 0; j < n8; j += 8) {                                                                    \
            const int8_t *block = pw + (size_t)j * k;                                                        \
            Q8P_U7_ROWS(2, DOT);                                                                             \
        }                                                                                                    \
        if (n8 < n4) {                                                                                       \
            const int j = n8;                                                                                \
            const int8_t *block = pw + (size_t)j * k;                                                        \
            Q8P_U7_ROWS(1, DOT);                                                                             \
        }                                                                                                    \
        Q8P_EDGE_ROWS(uint8_t);                                                                              \
    } while (0)

void et_q8_gemm_packed_4x8_u7__wasmrelaxed_dot16(int m, int n, int k, const void *a, int lda, const float *sa,
                                                 const int32_t *za, const int8_t *pw, const float *sw,
                                                 const int32_t *wsum, const float *bias, float *c, int ldc) {
    Q8_PACKED_RELAXED_BODY(dot16);
}

void et_q8_gemm_packed_4x8_u7__wasmrelaxed_dot32(int m, int n, int k, const void *a, int lda, const float *sa,
                                                 const int32_t *za, const int8_t *pw, const float *sw,
                                                 const int32_t *wsum, const float *bias, float *c, int ldc) {
    Q8_PACKED_RELAXED_BODY(et_i32x4_dot_i8_i7_add);
}

/* Both relaxed kernels in one function, for the kernel probe: an engine that compiles wasm function by
 * function, first unoptimized and later optimized (V8's Liftoff, then TurboFan), then always times the
 * two in the same tier. */
void et_q8_gemm_packed_4x8_u7__wasmrelaxed_probe(int dot32, int m, int n, int k, const void *a, int lda,
                                                 const float *sa, const int32_t *za, const int8_t *pw,
                                                 const float *sw, const int32_t *wsum, const float *bias, float *c,
                                                 int ldc) {
    if (dot32) Q8_PACKED_RELAXED_BODY(et_i32x4_dot_i8_i7_add);
    else Q8_PACKED_RELAXED_BODY(dot16);
}
#endif

/* ---- row sums of int8 matrices (the zero-point term, computed once per model at load) ------------------ */

void et_i8_row_sums__scalar(int rows, int cols, const int8_t *w, int32_t *sums) {
    for (int r = 0; r < rows; r++) {
        int32_t s = 0;
        for (int c = 0; c < cols; c++) s += w[(size_t)r * cols + c];
        sums[r] = s;
    }
}

void et_i8_row_sums__wasmsimd(int rows, int cols, const int8_t *w, int32_t *sums) {
    for (int r = 0; r < rows; r++) {
        const int8_t *row = w + (size_t)r * cols;
        v128_t acc = wasm_i32x4_splat(0);
        int c = 0;
        /* 16 bytes → 8 pair sums (i16) → 4 quad sums (i32), exact for any length. */
        for (; c + 16 <= cols; c += 16)
            acc = wasm_i32x4_add(acc, wasm_i32x4_extadd_pairwise_i16x8(wasm_i16x8_extadd_pairwise_i8x16(wasm_v128_load(row + c))));
        int32_t s = wasm_i32x4_extract_lane(acc, 0) + wasm_i32x4_extract_lane(acc, 1) + wasm_i32x4_extract_lane(acc, 2) +
                    wasm_i32x4_extract_lane(acc, 3);
        for (; c < cols; c++) s += row[c];
        sums[r] = s;
    }
}
