/*
 * context.h — the context's layout, shared by the files that run and decode with it. Private.
 * The arena holds the encoder's buffers only; tagging keeps its own (tagging.h).
 */
#ifndef ET_CONTEXT_H
#define ET_CONTEXT_H

#include "edgetag.h"
#include "kernels/kernels.h"

struct et_context {
    const et_model *model;
    const et_kernels *k;
    et_context_params params;
    int32_t max_tokens, max_texts, max_seq;

    void *arena;
    size_t arena_bytes;
    /* Views into the arena; T = max_tokens, B = max_texts, S = max_seq. */
    float *x;      /* [T][H] hidden states */
    float *q;      /* [T][A] queries (A = n_head · n_head_dim: H unless heads were pruned) */
    float *kx;     /* [T][A] keys */
    float *v;      /* [T][A] values */
    float *attn;   /* [T][A] attention output, heads side by side */
    float *tmp;    /* [T][H] projection outputs before the residual LayerNorm */
    float *ff;     /* [T][F] FFN inner activations */
    float *scores; /* [S][S] one head's attention matrix of one text */
    float *kt;     /* [d][S] one head's keys of one text, transposed */
    float *inv_sum; /* [S] 1 / the softmax sums of one head's rows */
    float *pooled; /* [B][H] pooler output */
    float *out;    /* [max(T·C, B·C, B·H)] head output */
    float *emb;    /* [B][H] embeddings; also the pooler's scratch for the gathered [CLS] rows */
    int32_t *start; /* [B + 1] first row of each text */
    void *qa;      /* [T][max(H, F)] int8 GEMMs: the quantized activations (i16 or u8 levels) */
    float *qs;     /* [T] their row scales */
    int32_t *qz;   /* [T] their row zero points */
    /* Q·Kᵀ of a quantized model in int8, with the sets that do it (one head of one text at a time; else NULL): */
    void *aq;       /* [S][d] levels of the queries */
    float *as;      /* [S] their row scales */
    int32_t *az;    /* [S] their row zero points */
    int8_t *aw;     /* [S][d] the keys as symmetric int8 rows */
    float *aws;     /* [S] their row scales */
    int32_t *awsum; /* [S] their row sums */

    /* Text in, labels out: tagging's own block (tagging.h), made and freed with the context. */
    struct et_tagging *tagging;

    /* The last successful run. */
    int32_t has_result;
    int32_t n_texts, n_tokens;
    char error[256];
};


/* Sets the context's message and returns s; the last run's result stays readable (for a getter's
 * misuse, which does not invalidate it). */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
et_status et__ctx_fail_keep(et_context *ctx, et_status s, const char *fmt, ...);

/* The same for a failed run or tagging call: there is no result any more — neither the run's nor
 * tagging's last classification or entities. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
et_status et__ctx_fail(et_context *ctx, et_status s, const char *fmt, ...);

#endif /* ET_CONTEXT_H */
