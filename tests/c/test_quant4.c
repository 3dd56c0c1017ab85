/*
 * test_quant4.c — 4-bit (Q4_0) models and models with pruned heads, end to end through the public API:
 * quantizing, loading (packed in place or into the model's copy, corrupt scales refused), every kernel set
 * against its reference, against f32; a model whose heads are fewer than its width allows.
 * The 4-bit kernels themselves are tested against their scalar twins in test_kernels.c.
 */
#include "engine_helpers.h"

/* 4-bit copies (Q4_0): the same integers in every kernel set, packed in place or into the model's own
 * copy with the same results, close to f32; rows not a multiple of 32 fall back to int8; a non-finite
 * block scale is refused. */
static void test_q4(void) {
    tl_model_spec s = tl_small_spec();
    s.n_embd = 32, s.n_head = 4, s.n_ff = 64, s.n_ctx = 32;
    s.task = ET_TASK_TOKEN_CLASSIFICATION, s.n_labels = 5;
    uint8_t *f32;
    const size_t n = tl_build_model(&s, &f32, NULL);
    void *q4 = NULL, *again = NULL;
    size_t q4_n = 0, again_n = 0;
    et_error err;
    CHECK(et_quantize(f32, n, ET_QUANT_Q4_0, &q4, &q4_n, &err) == ET_OK, "quantize q4_0: %s", err.message);
    CHECK(et_quantize(q4, q4_n, ET_QUANT_Q4_0, &again, &again_n, &err) == ET_ERR_UNSUPPORTED && !again, "twice");

    et_model *mf = NULL, *mq = NULL, *mb = NULL;
    et_model_params mp = et_model_default_params();
    mp.copy_buffer = 1;
    CHECK(et_model_load_from_buffer(f32, n, &mp, &mf, &err) == ET_OK, "f32: %s", err.message);
    CHECK(et_model_load_from_buffer(q4, q4_n, &mp, &mq, &err) == ET_OK, "q4_0: %s", err.message);
    uint8_t *borrowed = aligned_alloc(16, (q4_n + 15) & ~(size_t)15);
    memcpy(borrowed, q4, q4_n);
    CHECK(et_model_load_from_buffer(borrowed, q4_n, NULL, &mb, &err) == ET_OK, "q4_0 borrowed: %s", err.message);
    CHECK(memcmp(borrowed, q4, q4_n) == 0, "a borrowed Q4_0 buffer was modified");
    et_model_info iq, ib;
    et_model_get_info(mq, &iq);
    et_model_get_info(mb, &ib);
    CHECK(iq.q4_matrices == 2 * 6 + 1 && iq.int8_matrices == 0, "q4 matrices %d, int8 %d", iq.q4_matrices, iq.int8_matrices);
    /* The borrowed model packs into its own copy: the layers' 4-bit bytes, 2 × (4·32·32 + 2·32·64)/32·18. */
    CHECK(ib.owned_bytes + q4_n == iq.owned_bytes + 2u * (4 * 32 * 32 + 2 * 32 * 64) / 32 * 18,
          "owned: borrowed %u, own buffer %u (which counts the file)", ib.owned_bytes, iq.owned_bytes);
    et_tensor_info ti;
    CHECK(et_model_tensor_info(mq, 0, &ti) == ET_OK && ti.type == 2 && !strcmp(ti.name, "token_embd.weight"), "Q4_0 embeddings");

    int32_t ids[40], lengths[2] = {23, 17};
    tl_rng r = {78};
    for (int i = 0; i < 40; i++) ids[i] = i == 0 || i == 23 ? 1 : tl_int(&r, 5, s.n_vocab - 1);
    int32_t rows, cols;
    float *ref = run(mf, ET_KERNELS_REFERENCE, ids, NULL, lengths, 2, 0, &rows, &cols);
    const int choices[5] = {ET_KERNELS_REFERENCE, ET_KERNELS_BASELINE, ET_KERNELS_RELAXED_DOT16, ET_KERNELS_RELAXED_DOT32,
                            ET_KERNELS_REFERENCE_U7};
    float *out[5];
    for (int c = 0; c < 5; c++) {
        out[c] = run(mq, choices[c], ids, NULL, lengths, 2, 0, &rows, &cols);
        float *o = run(mb, choices[c], ids, NULL, lengths, 2, 0, &rows, &cols);
        CHECK(o && out[c] && memcmp(o, out[c], (size_t)rows * cols * sizeof(float)) == 0,
              "kernels %d: packed in place and packed into a copy differ", choices[c]);
        free(o);
    }
    const size_t nv = (size_t)rows * cols;
    CHECK(memcmp(out[2], out[3], nv * sizeof(float)) == 0, "q4 relaxed dot16 and dot32 differ");
    CHECK(max_abs_diff(out[0], out[1], nv) < 1e-4, "q4 baseline vs its reference: %g", max_abs_diff(out[0], out[1], nv));
    CHECK(max_abs_diff(out[2], out[4], nv) < 1e-4, "q4 relaxed vs its reference: %g", max_abs_diff(out[2], out[4], nv));
    /* Against f32: a 4-bit level is ~17 times an int8 one (a block's range in 15 steps, a row's in 254),
     * so the int8 error here (≤ 0.045) scaled by that ratio bounds the 4-bit one: 0.3 allowed, 0.25 measured. */
    for (int c = 0; c < 5; c += 2) {
        const int agree = argmax_agreement(ref, out[c], rows, cols);
        CHECK(agree >= rows - 3, "kernels %d: q4 argmax agrees on %d of %d tokens", choices[c], agree, rows);
        CHECK(max_abs_diff(ref, out[c], nv) < 0.3, "kernels %d: q4 vs f32 %g", choices[c], max_abs_diff(ref, out[c], nv));
    }
    printf("q4 vs f32 on the small model: max |Δ| %.4f (8-bit activations), %.4f (7-bit)\n", max_abs_diff(ref, out[0], nv),
           max_abs_diff(ref, out[4], nv));
    for (int c = 0; c < 5; c++) free(out[c]);
    free(ref);
    et_model_free(mb);
    free(borrowed);

    /* A block scale of +inf (f16 0x7c00) in the first matrix: refused, naming the tensor. */
    et_model *bad = NULL;
    uint8_t *corrupt = malloc(q4_n);
    memcpy(corrupt, q4, q4_n);
    CHECK(et_model_tensor_info(mq, 0, &ti) == ET_OK, "tensor 0");
    corrupt[ti.offset + 18 * 3] = 0x00, corrupt[ti.offset + 18 * 3 + 1] = 0x7c;
    CHECK(et_model_load_from_buffer(corrupt, q4_n, &mp, &bad, &err) == ET_ERR_CORRUPT && !bad &&
              strstr(err.message, "token_embd.weight"), "an infinite Q4_0 scale: %s", err.message);
    free(corrupt);
    et_model_free(mq), et_model_free(mf);
    free(q4), free(f32);

    /* FFN rows of 40 (not a multiple of 32): ffn_down goes int8, the rest Q4_0; it runs. */
    tl_model_spec s2 = tl_small_spec();
    s2.n_embd = 32, s2.n_head = 4, s2.n_ff = 40;
    const size_t n2 = tl_build_model(&s2, &f32, NULL);
    CHECK(et_quantize(f32, n2, ET_QUANT_Q4_0, &q4, &q4_n, &err) == ET_OK, "quantize q4_0 (F = 40): %s", err.message);
    CHECK(et_model_load_from_buffer(q4, q4_n, &mp, &mq, &err) == ET_OK, "q4_0 (F = 40): %s", err.message);
    et_model_get_info(mq, &iq);
    CHECK(iq.int8_matrices == 2 && iq.q4_matrices == 2 * 5 + 1, "mixed: int8 %d, q4 %d", iq.int8_matrices, iq.q4_matrices);
    int32_t len1[1] = {9};
    float *o = run(mq, ET_KERNELS_AUTO, ids, NULL, len1, 1, 0, &rows, &cols);
    CHECK(o != NULL, "the mixed model runs");
    free(o);
    et_model_free(mq);
    free(q4), free(f32);
}

/* Pruned heads (bert.attention.key_length): 2 heads of 8 in a 32-wide model (attention 16 wide) load, run the
 * SIMD kernels as the reference runs, and quantize to int8 and q4 (Q4_0 needs rows of 32: the 16-wide
 * attention output goes int8) close to f32; key_length ≠ value_length is refused. tools/prune makes such files;
 * their agreement with PyTorch is make eval's dev F1 against tools.prune's own. */
static void test_pruned_heads(void) {
    tl_model_spec s = tl_small_spec();
    s.n_embd = 32, s.n_head = 2, s.n_head_dim = 8, s.n_ff = 64, s.task = ET_TASK_TOKEN_CLASSIFICATION, s.n_labels = 3;
    loaded l = load_spec(&s);
    CHECK(l.m != NULL, "a model with heads of 8 in 32");
    if (!l.m) return;
    et_model_info in;
    et_model_get_info(l.m, &in);
    CHECK(in.n_head == 2 && in.n_head_dim == 8 && in.n_embd == 32, "info: %d heads of %d", in.n_head, in.n_head_dim);
    const int32_t lengths[] = {5, 19, 1};
    int32_t ids[25], types[25];
    tl_rng r = {5};
    make_batch(&r, s.n_vocab, s.n_types, lengths, 3, ids, types);
    int32_t rows, cols, rows2, cols2;
    float *simd = run(l.m, ET_KERNELS_AUTO, ids, types, lengths, 3, 0, &rows, &cols);
    float *ref = run(l.m, ET_KERNELS_REFERENCE, ids, types, lengths, 3, 0, &rows2, &cols2);
    CHECK(simd && ref && rows == 25 && cols == 3, "runs");
    CHECK(max_abs_diff(simd, ref, (size_t)rows * cols) <= FORWARD_ABS_TOL, "SIMD vs reference %g",
          max_abs_diff(simd, ref, (size_t)rows * cols));
    uint8_t *buf;
    const size_t n = tl_build_model(&s, &buf, NULL);
    void *q8 = NULL, *q4 = NULL;
    size_t q8_n = 0, q4_n = 0;
    et_error err;
    CHECK(et_quantize(buf, n, ET_QUANT_I8, &q8, &q8_n, &err) == ET_OK, "i8: %s", err.message);
    CHECK(et_quantize(buf, n, ET_QUANT_Q4_0, &q4, &q4_n, &err) == ET_OK, "q4_0: %s", err.message);
    et_model_params mp = et_model_default_params();
    mp.copy_buffer = 1;
    et_model *m8 = NULL, *m4 = NULL;
    CHECK(et_model_load_from_buffer(q8, q8_n, &mp, &m8, &err) == ET_OK, "i8 load: %s", err.message);
    CHECK(et_model_load_from_buffer(q4, q4_n, &mp, &m4, &err) == ET_OK, "q4 load: %s", err.message);
    float *o8 = run(m8, ET_KERNELS_AUTO, ids, types, lengths, 3, 0, &rows2, &cols2);
    float *o4 = run(m4, ET_KERNELS_AUTO, ids, types, lengths, 3, 0, &rows2, &cols2);
    CHECK(o8 && max_abs_diff(o8, ref, (size_t)rows * cols) < 0.15, "int8 vs f32 %g", max_abs_diff(o8, ref, (size_t)rows * cols));
    CHECK(o4 && max_abs_diff(o4, ref, (size_t)rows * cols) < 0.5, "q4 vs f32 %g", max_abs_diff(o4, ref, (size_t)rows * cols));
    free(o8), free(o4), free(q8), free(q4), free(buf), free(simd), free(ref);
    et_model_free(m8), et_model_free(m4);
    unload(&l);
    s.value_length = 16;
    et_model *bad = NULL;
    const size_t nb = tl_build_model(&s, &buf, NULL);
    CHECK(et_model_load_from_buffer(buf, nb, &mp, &bad, &err) == ET_ERR_UNSUPPORTED && !bad, "key_length != value_length: %s",
          err.message);
    free(buf);
}

int main(void) {
    test_q4();
    test_pruned_heads();
    return tl_finish("test_quant4");
}
