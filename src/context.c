/*
 * context.c — the arena and the f32 forward pass: embeddings → N × [attention, FFN] → head.
 *
 * A batch is a "ragged" matrix: the tokens of all texts packed row after row (T rows, no padding).
 * Every Linear layer is one GEMM over all T rows; only attention works text by text (and head by head),
 * so each text attends to its own tokens exactly as a padded batch with an attention mask would.
 *
 * Memory: every buffer of the forward pass lives in one arena sized at creation from the model and the
 * limits; a run never allocates. Tagging's buffers are a block of their own, made here too (tagging.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "kernels/kernels.h"
#include "context.h"
#include "model.h"
#include "tagging.h"

#define ET_DEFAULT_MAX_TEXTS 16

/* ---- creation ----------------------------------------------------------------------------------- */

et_context_params et_context_default_params(void) {
    et_context_params p = {.max_tokens = 0, .max_texts = 0, .max_seq = 0, .kernels = ET_KERNELS_AUTO};
    return p;
}

void et_context_default_params_by_ref(et_context_params *out) {
    if (out) *out = et_context_default_params();
}

et_status et_context_create(const et_model *model, const et_context_params *params, et_context **out) {
    if (!out) return ET_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!model) return ET_ERR_INVALID_ARGUMENT;
    if (model->vocab_only) return ET_ERR_UNSUPPORTED; /* a tokenizer only: no weights to run */
    const et_context_params p = params ? *params : et_context_default_params();
    const et_model_info *mi = &model->info;
    if (p.max_tokens < 0 || p.max_texts < 0 || p.max_seq < 0 || p.max_seq > mi->n_ctx || p.kernels < ET_KERNELS_AUTO ||
        p.kernels > ET_KERNELS_REFERENCE_U7)
        return ET_ERR_INVALID_ARGUMENT;
    const et_kernels *kernels = et_kernels_for_choice(p.kernels);
    if (!kernels) return ET_ERR_UNSUPPORTED;

    const int32_t T = p.max_tokens ? p.max_tokens : (p.max_seq ? p.max_seq : mi->n_ctx);
    /* No text can be longer than a whole run: the attention scratch need not be either. */
    const int32_t S0 = p.max_seq ? p.max_seq : mi->n_ctx, S = S0 < T ? S0 : T;
    const int32_t B = p.max_texts ? p.max_texts : ET_DEFAULT_MAX_TEXTS;
    const uint64_t H = (uint64_t)mi->n_embd, F = (uint64_t)mi->n_ff, C = (uint64_t)mi->n_labels;
    const uint64_t d = (uint64_t)mi->n_head_dim, A = (uint64_t)mi->n_head * d, W = A > H ? A : H;
    uint64_t out_n = (uint64_t)T * C;
    if ((uint64_t)B * C > out_n) out_n = (uint64_t)B * C;
    if ((uint64_t)B * H > out_n) out_n = (uint64_t)B * H;

    /* All factors are below 2^31, so each product fits in 64 bits; the sum is checked below. */
    uint64_t total = 0;
    const uint64_t o_x = et__plan(&total, (uint64_t)T * H, 4), o_q = et__plan(&total, (uint64_t)T * A, 4);
    const uint64_t o_k = et__plan(&total, (uint64_t)T * A, 4), o_v = et__plan(&total, (uint64_t)T * A, 4);
    const uint64_t o_attn = et__plan(&total, (uint64_t)T * A, 4), o_tmp = et__plan(&total, (uint64_t)T * H, 4);
    const uint64_t o_ff = et__plan(&total, (uint64_t)T * F, 4), o_sc = et__plan(&total, (uint64_t)S * (uint64_t)S, 4);
    const uint64_t o_kt = et__plan(&total, d * (uint64_t)S, 4), o_pool = et__plan(&total, (uint64_t)B * H, 4);
    const uint64_t o_inv = et__plan(&total, (uint64_t)S, 4);
    const uint64_t o_out = et__plan(&total, out_n, 4), o_emb = et__plan(&total, (uint64_t)B * H, 4);
    const uint64_t o_start = et__plan(&total, (uint64_t)B + 1, 4);
    const uint64_t q8_rows = mi->int8_matrices || mi->q4_matrices ? (uint64_t)T : 0, widest = F > W ? F : W;
    const uint64_t o_qa = et__plan(&total, q8_rows * widest, (uint64_t)kernels->q8_level_bytes);
    const uint64_t o_qs = et__plan(&total, q8_rows, 4), o_qz = et__plan(&total, q8_rows, 4);
    /* Q·Kᵀ in int8 (quantized models, sets with i8_quantize_rows): one head of one text at a time. */
    const int int8_scores = q8_rows && kernels->i8_quantize_rows;
    const uint64_t a_rows = int8_scores ? (uint64_t)S : 0;
    const uint64_t o_aq = et__plan(&total, a_rows * d, (uint64_t)kernels->q8_level_bytes);
    const uint64_t o_as = et__plan(&total, a_rows, 4), o_az = et__plan(&total, a_rows, 4);
    const uint64_t o_aw = et__plan(&total, a_rows * d, 1);
    const uint64_t o_aws = et__plan(&total, a_rows, 4), o_awsum = et__plan(&total, a_rows, 4);
    if (total > SIZE_MAX - 64) return ET_ERR_OUT_OF_MEMORY;

    et_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return ET_ERR_OUT_OF_MEMORY;
    ctx->arena = aligned_alloc(64, (size_t)total);
    if (!ctx->arena || et__tagging_create(T, B, S, mi->n_labels, &ctx->tagging) != ET_OK) {
        et_context_free(ctx);
        return ET_ERR_OUT_OF_MEMORY;
    }
    char *base = ctx->arena;
    ctx->model = model;
    ctx->k = kernels;
    ctx->params = p;
    ctx->max_tokens = T, ctx->max_texts = B, ctx->max_seq = S;
    ctx->arena_bytes = (size_t)total;
    ctx->x = (float *)(base + o_x), ctx->q = (float *)(base + o_q), ctx->kx = (float *)(base + o_k);
    ctx->v = (float *)(base + o_v), ctx->attn = (float *)(base + o_attn), ctx->tmp = (float *)(base + o_tmp);
    ctx->ff = (float *)(base + o_ff), ctx->scores = (float *)(base + o_sc), ctx->kt = (float *)(base + o_kt);
    ctx->inv_sum = (float *)(base + o_inv);
    ctx->pooled = (float *)(base + o_pool), ctx->out = (float *)(base + o_out), ctx->emb = (float *)(base + o_emb);
    ctx->start = (int32_t *)(void *)(base + o_start);
    ctx->qa = base + o_qa, ctx->qs = (float *)(void *)(base + o_qs), ctx->qz = (int32_t *)(void *)(base + o_qz);
    if (int8_scores) {
        ctx->aq = base + o_aq, ctx->as = (float *)(void *)(base + o_as), ctx->az = (int32_t *)(void *)(base + o_az);
        ctx->aw = (int8_t *)(base + o_aw), ctx->aws = (float *)(void *)(base + o_aws);
        ctx->awsum = (int32_t *)(void *)(base + o_awsum);
    }
    *out = ctx;
    return ET_OK;
}

void et_context_free(et_context *ctx) {
    if (!ctx) return;
    et__tagging_free(ctx->tagging);
    free(ctx->arena);
    free(ctx);
}

size_t et_context_memory(const et_context *ctx) { return ctx ? ctx->arena_bytes + et__tagging_bytes(ctx->tagging) : 0; }

const char *et_context_last_error(const et_context *ctx) { return ctx ? ctx->error : "NULL context"; }

/* Sets the context's message and returns s; the last run's result stays readable. For a getter's
 * misuse, which does not invalidate the result. */
et_status et__ctx_fail_keep(et_context *ctx, et_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    et__vformat(ctx->error, sizeof ctx->error, fmt, ap);
    va_end(ap);
    return s;
}

/* The same, and no result is readable any more: the run's, and tagging's. */
et_status et__ctx_fail(et_context *ctx, et_status s, const char *fmt, ...) {
    ctx->has_result = 0;
    et__tagging_forget(ctx->tagging);
    va_list ap;
    va_start(ap, fmt);
    et__vformat(ctx->error, sizeof ctx->error, fmt, ap);
    va_end(ap);
    return s;
}

#define ctx_fail et__ctx_fail

/* ---- the forward pass ----------------------------------------------------------------------------- */

/* x[t] = LayerNorm(word[id] + position[p] + segment[type]) for every token t. */
static void embed(et_context *ctx, const int32_t *ids, const int32_t *type_ids) {
    const et_model *m = ctx->model;
    const int H = m->info.n_embd;
    for (int b = 0; b < ctx->n_texts; b++) {
        for (int t = ctx->start[b], pos = 0; t < ctx->start[b + 1]; t++, pos++) {
            const float *p = m->pos_embd + (size_t)pos * H;
            const float *s = m->type_embd + (size_t)(type_ids ? type_ids[t] : 0) * H;
            float *x = ctx->x + (size_t)t * H;
            /* (word + segment) + position: Hugging Face's order of additions, for the last bit. */
            if (m->tok_embd.w) {
                const float *w = m->tok_embd.w + (size_t)ids[t] * H;
                for (int j = 0; j < H; j++) x[j] = (w[j] + s[j]) + p[j];
            } else if (m->tok_embd.w4) { /* a Q4_0 row, dequantized in place */
                et_q4_dequantize_row(H, m->tok_embd.w4 + (size_t)ids[t] * (size_t)(H / 32) * 18, x);
                for (int j = 0; j < H; j++) x[j] = (x[j] + s[j]) + p[j];
            } else { /* an int8 row and its scale */
                const int8_t *w = m->tok_embd.wq + (size_t)ids[t] * H;
                const float scale = m->tok_embd.scale[ids[t]];
                for (int j = 0; j < H; j++) x[j] = ((float)w[j] * scale + s[j]) + p[j];
            }
        }
    }
    ctx->k->f32_layernorm(ctx->n_tokens, H, ctx->x, NULL, m->embd_ln_w, m->embd_ln_b, m->info.layer_norm_eps, ctx->x);
}

/* attn = softmax(Q Kᵀ / √d) V for every text and head; q, kx, v hold all heads side by side.
 * f32 models: Kᵀ is gathered per head so both products are "nn" GEMMs (A broadcast, B in rows); the softmax
 * leaves its numerators and 1/Σ, and the d columns of P·V are scaled instead of the L of P.
 * Quantized models, with the kernel sets that have it (the relaxed ones: kernels.h): Q·Kᵀ in int8, as their Linear
 * layers — the queries quantized per row like any GEMM input, the keys as symmetric int8 rows (the "weights"),
 * through the set's row-major int8 GEMM. P·V stays f32: its 7-bit softmax numerators cost too much accuracy
 * (tests/js/int8.test.mjs's odd-shape tagger: clear-token agreement with f32 99.84 % → 99.45 %; with Q·Kᵀ alone
 * 99.76 %). */
static void attention(et_context *ctx) {
    const et_kernels *k = ctx->k;
    /* Heads side by side in rows of A = nh·d (H unless heads were pruned). */
    const int nh = ctx->model->info.n_head, d = ctx->model->info.n_head_dim, H = nh * d;
    const float scale = 1.0f / sqrtf((float)d);
    for (int b = 0; b < ctx->n_texts; b++) {
        const int s0 = ctx->start[b], L = ctx->start[b + 1] - s0;
        for (int h = 0; h < nh; h++) {
            const float *qh = ctx->q + (size_t)s0 * H + h * d;
            const float *kh = ctx->kx + (size_t)s0 * H + h * d;
            const float *vh = ctx->v + (size_t)s0 * H + h * d;
            float *out = ctx->attn + (size_t)s0 * H + h * d;
            if (ctx->aq) {
                k->q8_quantize(L, d, qh, H, ctx->aq, d, ctx->as, ctx->az);
                k->i8_quantize_rows(L, d, kh, H, ctx->aw, d, ctx->aws, ctx->awsum);
                k->q8_gemm_nt(L, L, d, ctx->aq, d, ctx->as, ctx->az, ctx->aw, d, ctx->aws, ctx->awsum, NULL, ctx->scores, L);
            } else {
                k->f32_transpose(L, d, kh, H, ctx->kt, L);
                k->f32_gemm_nn(L, L, d, qh, H, ctx->kt, L, NULL, ctx->scores, L);
            }
            k->f32_softmax(L, L, ctx->scores, L, scale, ctx->inv_sum);
            k->f32_gemm_nn(L, d, L, ctx->scores, L, vh, H, NULL, out, H);
            k->f32_scale_rows(L, d, out, H, ctx->inv_sum);
        }
    }
}

/* Quantizes the m × k input x for the int8 GEMMs that follow (once for all that share it). */
static void quantize_input(et_context *ctx, int m, int k, const float *x) {
    ctx->k->q8_quantize(m, k, x, k, ctx->qa, k, ctx->qs, ctx->qz);
}

/* Does the layer run on quantized activations (int8 or 4-bit weights)? */
static int quantized(const et_linear *L) { return L->wq || L->w4; }

/* y = x·Wᵀ + b over m rows, W n × k: f32, or int8 / 4-bit on the input quantize_input prepared. */
static void linear(et_context *ctx, const et_linear *L, int m, int n, int k, const float *x, float *y) {
    const et_kernels *K = ctx->k;
    if (L->wp) K->f32_gemm_packed(m, n, k, x, k, L->wp, L->b, y, n);
    else if (L->w4) K->q4_gemm_packed(m, n, k, ctx->qa, k, ctx->qs, ctx->qz, L->w4, L->zsum, L->b, y, n);
    else if (L->w) K->f32_gemm_nt(m, n, k, x, k, L->w, k, L->b, y, n);
    else if (L->wq_packed) K->q8_gemm_packed(m, n, k, ctx->qa, k, ctx->qs, ctx->qz, L->wq, L->scale, L->wsum, L->b, y, n);
    else K->q8_gemm_nt(m, n, k, ctx->qa, k, ctx->qs, ctx->qz, L->wq, k, L->scale, L->wsum, L->b, y, n);
}

static void encoder_layer(et_context *ctx, const et_layer *L) {
    const et_kernels *k = ctx->k;
    const et_model_info *mi = &ctx->model->info;
    const int T = ctx->n_tokens, H = mi->n_embd, F = mi->n_ff, A = mi->n_head * mi->n_head_dim;
    const float eps = mi->layer_norm_eps;

    if (quantized(&L->q) || quantized(&L->k) || quantized(&L->v)) quantize_input(ctx, T, H, ctx->x);
    linear(ctx, &L->q, T, A, H, ctx->x, ctx->q);
    linear(ctx, &L->k, T, A, H, ctx->x, ctx->kx);
    linear(ctx, &L->v, T, A, H, ctx->x, ctx->v);
    attention(ctx);
    if (quantized(&L->o)) quantize_input(ctx, T, A, ctx->attn);
    linear(ctx, &L->o, T, H, A, ctx->attn, ctx->tmp);
    k->f32_layernorm(T, H, ctx->x, ctx->tmp, L->ln1_w, L->ln1_b, eps, ctx->x);

    if (quantized(&L->up)) quantize_input(ctx, T, H, ctx->x);
    linear(ctx, &L->up, T, F, H, ctx->x, ctx->ff);
    k->f32_gelu((size_t)T * F, ctx->ff, ctx->ff);
    if (quantized(&L->down)) quantize_input(ctx, T, F, ctx->ff);
    linear(ctx, &L->down, T, H, F, ctx->ff, ctx->tmp);
    k->f32_layernorm(T, H, ctx->x, ctx->tmp, L->ln2_w, L->ln2_b, eps, ctx->x);
}

/* pooled[b] = tanh(W_pool · h[CLS of text b] + b_pool). */
static void pool(et_context *ctx) {
    const et_model *m = ctx->model;
    const int H = m->info.n_embd, B = ctx->n_texts;
    for (int b = 0; b < B; b++)
        memcpy(ctx->emb + (size_t)b * H, ctx->x + (size_t)ctx->start[b] * H, (size_t)H * sizeof(float));
    ctx->k->f32_gemm_nt(B, H, H, ctx->emb, H, m->pool_w, H, m->pool_b, ctx->pooled, H);
    for (size_t i = 0; i < (size_t)B * H; i++) ctx->pooled[i] = tanhf(ctx->pooled[i]);
}

static void head(et_context *ctx) {
    const et_model *m = ctx->model;
    const int H = m->info.n_embd, C = m->info.n_labels;
    switch (m->info.task) {
    case ET_TASK_TOKEN_CLASSIFICATION:
        ctx->k->f32_gemm_nt(ctx->n_tokens, C, H, ctx->x, H, m->head_w, H, m->head_b, ctx->out, C);
        break;
    case ET_TASK_SEQUENCE_CLASSIFICATION:
        pool(ctx);
        ctx->k->f32_gemm_nt(ctx->n_texts, C, H, ctx->pooled, H, m->head_w, H, m->head_b, ctx->out, C);
        break;
    default:
        if (m->info.has_pooler) pool(ctx);
        break;
    }
}

et_status et_context_run(et_context *ctx, const int32_t *ids, const int32_t *type_ids, const int32_t *lengths,
                         int32_t n_texts) {
    if (!ctx) return ET_ERR_INVALID_ARGUMENT;
    ctx->has_result = 0;
    if (!ids || !lengths)
        return ctx_fail(ctx, ET_ERR_INVALID_ARGUMENT, "et_context_run: %s is NULL", ids ? "lengths" : "ids");
    if (n_texts < 1 || n_texts > ctx->max_texts)
        return ctx_fail(ctx, n_texts < 1 ? ET_ERR_INPUT : ET_ERR_CAPACITY,
                        "et_context_run: %d texts; this context takes 1 to %d", n_texts, ctx->max_texts);
    const et_model_info *mi = &ctx->model->info;
    const int32_t max_len = ctx->max_seq < mi->n_ctx ? ctx->max_seq : mi->n_ctx;
    int64_t total = 0;
    for (int b = 0; b < n_texts; b++) {
        if (lengths[b] < 1) return ctx_fail(ctx, ET_ERR_INPUT, "et_context_run: text %d has length %d", b, lengths[b]);
        if (lengths[b] > max_len)
            return ctx_fail(ctx, ET_ERR_CAPACITY, "et_context_run: text %d has %d tokens; the limit is %d (%s)", b,
                            lengths[b], max_len, max_len == mi->n_ctx ? "the model's positions" : "max_seq");
        total += lengths[b];
    }
    if (total > ctx->max_tokens)
        return ctx_fail(ctx, ET_ERR_CAPACITY, "et_context_run: %lld tokens in all; this context takes %d (max_tokens)",
                        (long long)total, ctx->max_tokens);
    for (int64_t t = 0; t < total; t++) {
        if (ids[t] < 0 || ids[t] >= mi->n_vocab)
            return ctx_fail(ctx, ET_ERR_INPUT, "et_context_run: token id %d at index %lld is outside the vocabulary 0..%d",
                            ids[t], (long long)t, mi->n_vocab - 1);
        if (type_ids && (type_ids[t] < 0 || type_ids[t] >= mi->n_token_types))
            return ctx_fail(ctx, ET_ERR_INPUT, "et_context_run: type id %d at index %lld is outside 0..%d", type_ids[t],
                            (long long)t, mi->n_token_types - 1);
    }

    ctx->n_texts = n_texts;
    ctx->n_tokens = (int32_t)total;
    ctx->start[0] = 0;
    for (int b = 0; b < n_texts; b++) ctx->start[b + 1] = ctx->start[b] + lengths[b];

    embed(ctx, ids, type_ids);
    for (int l = 0; l < mi->n_layer; l++) encoder_layer(ctx, &ctx->model->layers[l]);
    head(ctx);

    ctx->has_result = 1;
    ctx->error[0] = '\0';
    return ET_OK;
}

/* ---- results ------------------------------------------------------------------------------------- */

static et_status result_check(et_context *ctx, const float **data, int32_t *rows, int32_t *cols, const char *fn) {
    if (!ctx) return ET_ERR_INVALID_ARGUMENT;
    if (!data || !rows || !cols) return et__ctx_fail_keep(ctx, ET_ERR_INVALID_ARGUMENT, "%s: NULL output pointer", fn);
    if (!ctx->has_result) {
        /* Keep a failed run's own message: it says why there is no result. */
        if (!ctx->error[0]) ctx_fail(ctx, ET_ERR_STATE, "%s: no result yet; call et_context_run first", fn);
        return ET_ERR_STATE;
    }
    return ET_OK;
}

et_status et_context_logits(et_context *ctx, const float **data, int32_t *rows, int32_t *cols) {
    et_status s = result_check(ctx, data, rows, cols, __func__);
    if (s) return s;
    const et_model_info *mi = &ctx->model->info;
    switch (mi->task) {
    case ET_TASK_TOKEN_CLASSIFICATION:
        *data = ctx->out, *rows = ctx->n_tokens, *cols = mi->n_labels;
        break;
    case ET_TASK_SEQUENCE_CLASSIFICATION:
        *data = ctx->out, *rows = ctx->n_texts, *cols = mi->n_labels;
        break;
    default:
        if (!mi->has_pooler)
            return et__ctx_fail_keep(ctx, ET_ERR_STATE, "et_context_logits: this embedding model has no pooler (`cls`); "
                                 "use et_context_embeddings");
        *data = ctx->pooled, *rows = ctx->n_texts, *cols = mi->n_embd;
        break;
    }
    return ET_OK;
}

et_status et_context_hidden(et_context *ctx, const float **data, int32_t *rows, int32_t *cols) {
    et_status s = result_check(ctx, data, rows, cols, __func__);
    if (s) return s;
    *data = ctx->x, *rows = ctx->n_tokens, *cols = ctx->model->info.n_embd;
    return ET_OK;
}

et_status et_context_embeddings(et_context *ctx, int32_t pooling, int32_t normalize, const float **data, int32_t *rows,
                                int32_t *cols) {
    et_status s = result_check(ctx, data, rows, cols, __func__);
    if (s) return s;
    if (pooling != ET_POOLING_MEAN && pooling != ET_POOLING_CLS)
        return et__ctx_fail_keep(ctx, ET_ERR_INVALID_ARGUMENT, "et_context_embeddings: unknown pooling %d", pooling);
    const int H = ctx->model->info.n_embd;
    for (int b = 0; b < ctx->n_texts; b++) {
        float *e = ctx->emb + (size_t)b * H;
        const int s0 = ctx->start[b], L = ctx->start[b + 1] - s0;
        const int n = pooling == ET_POOLING_CLS ? 1 : L;
        for (int j = 0; j < H; j++) e[j] = 0.0f;
        for (int t = s0; t < s0 + n; t++)
            for (int j = 0; j < H; j++) e[j] += ctx->x[(size_t)t * H + j];
        for (int j = 0; j < H; j++) e[j] /= (float)n;
        if (normalize) {
            float ss = 0.0f;
            for (int j = 0; j < H; j++) ss += e[j] * e[j];
            const float inv = ss > 0.0f ? 1.0f / sqrtf(ss) : 0.0f;
            for (int j = 0; j < H; j++) e[j] *= inv;
        }
    }
    *data = ctx->emb, *rows = ctx->n_texts, *cols = H;
    return ET_OK;
}
