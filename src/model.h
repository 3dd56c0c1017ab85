/*
 * model.h — the loaded model as the encoder sees it. Private to the engine.
 *
 * Matrices are row-major [out][in] as PyTorch's Linear.weight (GGUF ne = [in, out]); every pointer is
 * either into the caller's buffer (F32 and I8 tensors, used in place) or into `converted` (F16, BF16 and
 * Q8_0 tensors, F32 tensors at unaligned offsets) or `wsums`.
 */
#ifndef ET_MODEL_H
#define ET_MODEL_H

#include "edgetag.h"
#include "gguf.h"
#include "tokenizer.h"

/* The per-row scales of an I8 weight "X.weight" are the F32 tensor ET_ROW_SCALE_PREFIX "X.weight": a
 * name in edgetag's namespace, which no llama.cpp convention can take for its own. */
#define ET_ROW_SCALE_PREFIX "edgetag.row_scale."

/* A Linear layer: y = x·Wᵀ + b, W either f32 or int8 with one scale per output row (symmetric). */
typedef struct et_linear {
    const float *wp;      /* [out/8][in][8] f32 packed in panels at load (out % 8 == 0), or NULL */
    const float *w;       /* [out][in] f32 as in the file, or NULL when packed or int8 */
    const int8_t *wq;     /* [out][in] int8 (or packed, see wq_packed), or NULL when f32 */
    int wq_packed;        /* wq was repacked at load by et_i8_pack_panels (4-row panels) */
    const float *scale;   /* [out] W = wq · scale per row */
    const int32_t *wsum;  /* [out] Σ_k wq[o][k], computed at load (the int8 GEMM's zero-point term) */
    const uint8_t *w4;    /* [out][in/32] Q4_0 blocks (18 bytes), packed by et_q4_pack_panels for the layers'
                             matrices (4-row panels, in place or in `q4_copies`), rows as in the file for
                             token_embd; or NULL */
    const float *zsum;    /* [out] the 4-bit GEMM's zero-point term (et_q4_zero_sums), computed at load */
    const float *b;       /* [out], NULL for the embedding table */
} et_linear;

typedef struct et_layer {
    et_linear q, k, v;              /* [H][H] */
    et_linear o;                    /* [H][H]  attention output projection */
    const float *ln1_w, *ln1_b;     /* [H], [H] attention output LayerNorm */
    et_linear up;                   /* [F][H] */
    et_linear down;                 /* [H][F] */
    const float *ln2_w, *ln2_b;     /* [H], [H] layer output LayerNorm */
} et_layer;

struct et_model {
    et_model_info info;            /* name/version point into `strings` */

    et_linear tok_embd;             /* [V][H] word embeddings, f32 or int8 rows (no bias) */
    const float *pos_embd;          /* [P][H] */
    const float *type_embd;         /* [T][H] */
    const float *embd_ln_w, *embd_ln_b; /* [H], [H] */
    et_layer *layers;               /* [N] */
    const float *pool_w, *pool_b;   /* [H][H], [H]  pooler dense (`cls`), NULL when absent */
    const float *head_w, *head_b;   /* [C][H], [C]  classifier (`cls.output`), NULL for embedding */

    gguf_file gguf;                 /* the parsed file: metadata and tensor table */
    et_vocab vocab;                 /* the WordPiece vocabulary and normalizer flags */
    char **labels;                  /* [C] NUL-terminated, in `strings` */
    int32_t *label_type;            /* [C] entity type of each label (-1 for O): token classifiers */
    char *label_bi;                 /* [C] 'B', 'I' or 'O' — a label without prefix counts as 'I' */
    const char **types;             /* [n_entity_types] pointers into `labels` past the prefix */
    char **tensor_names;            /* [n_tensors] NUL-terminated, in `strings` */
    char *strings;                  /* owned pool of the copies above */
    float *converted;               /* owned F32 copies of F16/Q8_0 tensors */
    size_t converted_bytes;
    int32_t *wsums;                 /* owned row sums of the int8 matrices */
    float *zsums;                   /* owned zero-point sums of the Q4_0 matrices */
    uint8_t *q4_copies;             /* owned packed copies of Q4_0 matrices the model may not rewrite */
    void *owned_buffer;             /* the file bytes, when the model owns them */
    int vocab_only;                 /* loaded by et_model_load_vocab_*: a tokenizer, no weights bound */
};

/* The hyper-parameters as the loader reads and checks them, before they go to et_model_info. */
typedef struct et_hparams {
    int64_t n_ctx, n_embd, n_ff, n_layer, n_head; /* the bert.* keys */
    int64_t n_head_dim;                            /* bert.attention.key_length (= value_length), or n_embd / n_head */
    int64_t n_vocab, n_types;                      /* rows of token_embd and token_types */
    int64_t n_labels;                              /* rows of cls.output; 0 for an embedding model */
    double eps;
} et_hparams;

/* Reads the tokenizer (model_vocab.c): n_vocab and n_types from the embedding tables (from the keys when
 * `vocab_only`), the special ids into m->info, and m->vocab from the tokenizer.* keys, which must agree
 * with the tables. */
et_status et__model_read_tokenizer(et_model *m, et_hparams *hp, int vocab_only, et_error *err);

/* Checks every tensor the encoder reads against the hyper-parameters, allocates the F32 copies and int8
 * row sums, and binds m's layers, embeddings and head (model_tensors.c). Sets info.weights_bytes and
 * info.int8_matrices; *owned receives the bytes allocated. */
et_status et__model_bind_tensors(et_model *m, const et_hparams *hp, uint64_t *owned, et_error *err);

/* Repacks the layers' matrices into the layouts of the fastest GEMMs, in the memory they occupy: f32
 * into panels of 8 rows (et_f32_pack_panels, through a temporary copy of one matrix), int8 into panels of
 * 4 rows (et_i8_pack_panels, one block of 4 rows at a time through a 4·k-byte scratch, so no memory grows
 * with the model). Done on the model's own copies always, on the caller's buffer when `in_place` (it
 * said so, or the model owns it); other matrices stay as they are and run on the row-major kernels. */
et_status et__model_pack_linears(et_model *m, int in_place, et_error *err);

/* Takes ownership of `buffer` (allocated with malloc/aligned_alloc) and loads the model (or only its
 * tokenizer, `vocab_only`) from it; frees it on failure. For the file loaders. */
et_status et__model_load_owned(void *buffer, size_t size, int vocab_only, et_model **out, et_error *error);

/* Writes a F32, F16, BF16 or Q8_0 tensor's values as F32 into dst (all its elements). */
void et__tensor_to_f32(const gguf_tensor *t, float *dst);

#endif /* ET_MODEL_H */
