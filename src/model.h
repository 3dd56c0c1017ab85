/*
 * model.h — the loaded model as the encoder sees it. Private to the engine.
 *
 * Matrices are row-major [out][in] as PyTorch's Linear.weight (GGUF ne = [in, out]); every pointer is
 * either into the caller's buffer (F32 tensors, used in place) or into `converted` (F16/Q8_0 files).
 */
#ifndef ET_MODEL_H
#define ET_MODEL_H

#include "edgetag.h"
#include "gguf.h"
#include "tokenizer.h"

typedef struct et_layer {
    const float *q_w, *q_b;         /* [H][H], [H] */
    const float *k_w, *k_b;         /* [H][H], [H] */
    const float *v_w, *v_b;         /* [H][H], [H] */
    const float *o_w, *o_b;         /* [H][H], [H]  attention output projection */
    const float *ln1_w, *ln1_b;     /* [H], [H]     attention output LayerNorm */
    const float *up_w, *up_b;       /* [F][H], [F] */
    const float *down_w, *down_b;   /* [H][F], [H] */
    const float *ln2_w, *ln2_b;     /* [H], [H]     layer output LayerNorm */
} et_layer;

struct et_model {
    et_model_info info;            /* name/version point into `strings` */

    const float *tok_embd;          /* [V][H] */
    const float *pos_embd;          /* [P][H] */
    const float *type_embd;         /* [T][H] */
    const float *embd_ln_w, *embd_ln_b; /* [H], [H] */
    et_layer *layers;               /* [N] */
    const float *pool_w, *pool_b;   /* [H][H], [H]  pooler dense (`cls`), NULL when absent */
    const float *head_w, *head_b;   /* [C][H], [C]  classifier (`cls.output`), NULL for embedding */

    gguf_file gguf;                 /* the parsed file: metadata and tensor table */
    et_vocab vocab;                 /* the WordPiece vocabulary and normalizer flags */
    char **labels;                  /* [C] NUL-terminated, in `strings` */
    char **tensor_names;            /* [n_tensors] NUL-terminated, in `strings` */
    char *strings;                  /* owned pool of the copies above */
    float *converted;               /* owned F32 copies of F16/Q8_0 tensors */
    void *owned_buffer;             /* the file bytes, when the model owns them */
};

/* Takes ownership of `buffer` (allocated with malloc/aligned_alloc) and loads the model from it;
 * frees it on failure. For the file loader. */
et_status et__model_load_owned(void *buffer, size_t size, et_model **out, et_error *error);

#endif /* ET_MODEL_H */
