/*
 * edgetag.h — the whole public C API of edgetag, a small engine for BERT-family encoders.
 *
 * Usage, start to finish:
 *
 *     // 1. Load a model. The primitive loads from bytes you own; tensors are used in place, so the
 *     //    buffer must stay alive (and unmodified) until et_model_free, and be 16-byte aligned.
 *     et_model *model = NULL;
 *     et_error err;
 *     if (et_model_load_from_buffer(bytes, n_bytes, NULL, &model, &err) != ET_OK) {
 *         fprintf(stderr, "%s\n", err.message);
 *         return 1;
 *     }
 *     et_model_info info;
 *     et_model_get_info(model, &info);          // task, sizes, labels
 *
 *     // 2. Make a context: it owns every buffer a run needs, sized once here from the model's
 *     //    hyper-parameters and the limits in the params. Runs never allocate.
 *     et_context_params cp = et_context_default_params();
 *     cp.max_tokens = 1024;                     // all texts of one run together
 *     et_context *ctx = NULL;
 *     if (et_context_create(model, &cp, &ctx) != ET_OK) { ... }
 *
 *     // 3. Run a batch: the texts' token ids back to back, and each text's length. The texts are
 *     //    packed without padding; each attends only to its own tokens.
 *     const int32_t ids[] = {101, 7592, 102,   101, 2088, 2003, 102};
 *     const int32_t lengths[] = {3, 4};
 *     if (et_context_run(ctx, ids, NULL, lengths, 2) != ET_OK)
 *         fprintf(stderr, "%s\n", et_context_last_error(ctx));
 *
 *     // 4. Read the results; they live in the context until the next run.
 *     const float *logits; int32_t rows, cols;
 *     et_context_logits(ctx, &logits, &rows, &cols);
 *
 *     // 5. Free in reverse order; both accept NULL.
 *     et_context_free(ctx);
 *     et_model_free(model);
 *
 * Threads: an et_model is immutable after loading and may be shared by any number of contexts on any
 * threads. An et_context is used by one thread at a time.
 *
 * Errors: every fallible call returns an et_status (ET_OK = 0). et_status_string() gives a fixed text
 * for a status; the detailed message (what, where, which value) is in et_error for loading and in
 * et_context_last_error() for context calls. Invalid arguments are reported, never asserted.
 *
 * WebAssembly: every function here is exported from build/edgetag*.wasm under the same name, together
 * with malloc and free. The structs are made of 4-byte fields only (in wasm32), so JavaScript reads
 * them by field index; fields are only ever appended.
 */
#ifndef EDGETAG_H
#define EDGETAG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Versions. The macro, et_version_number() and the JavaScript `version` export always agree.
 * ------------------------------------------------------------------------------------------- */
#define ET_VERSION_MAJOR 0
#define ET_VERSION_MINOR 1
#define ET_VERSION_PATCH 0
#define ET_VERSION_STRING "0.1.0"
#define ET_VERSION_NUMBER (ET_VERSION_MAJOR * 1000000 + ET_VERSION_MINOR * 1000 + ET_VERSION_PATCH)

/* Highest edgetag.format_version this engine reads (2: llama.cpp's vocabulary spelling and keys; 1, the
 * first layout, still reads). */
#define ET_FORMAT_VERSION 2

/* The version of the library linked at run time: "MAJOR.MINOR.PATCH". */
const char *et_version(void);
/* The same as a number: MAJOR * 1000000 + MINOR * 1000 + PATCH. */
int32_t et_version_number(void);

/* ---------------------------------------------------------------------------------------------
 * Memory. In the WebAssembly build every allocation comes from the module's linear memory, which grows
 * and never shrinks; this caps it.
 * ------------------------------------------------------------------------------------------- */

/* Caps the WebAssembly build's linear memory at `bytes` (rounded down to whole 64 KiB pages; 0 = no cap,
 * wasm32's 4 GiB): an allocation that would grow memory past the cap fails instead, and the call that needed
 * it returns ET_ERR_OUT_OF_MEMORY, leaving models and contexts as they were. Memory already past the cap
 * stays (it cannot shrink) but grows no further. Returns the cap now in force. Natively: no effect, 0. */
size_t et_memory_set_limit(size_t bytes);

/* ---------------------------------------------------------------------------------------------
 * Status codes.
 * ------------------------------------------------------------------------------------------- */
typedef enum et_status {
    ET_OK = 0,
    ET_ERR_INVALID_ARGUMENT = 1, /* NULL where a value is needed, a negative count, … */
    ET_ERR_OUT_OF_MEMORY = 2,    /* an allocation failed (model copy or context arena) */
    ET_ERR_BAD_MAGIC = 3,        /* the bytes are not a GGUF file */
    ET_ERR_BAD_VERSION = 4,      /* GGUF version, or edgetag.format_version, not supported */
    ET_ERR_TRUNCATED = 5,        /* the buffer ends before the data its header announces */
    ET_ERR_CORRUPT = 6,          /* inconsistent counts, offsets, alignment or duplicate names */
    ET_ERR_UNSUPPORTED = 7,      /* a valid file this engine cannot run (architecture, type, option) */
    ET_ERR_MISSING = 8,          /* a required key or tensor is absent */
    ET_ERR_SHAPE = 9,            /* a tensor's shape, type or a key disagrees with the hyper-parameters */
    ET_ERR_ALIGNMENT = 10,       /* the model buffer is not 16-byte aligned */
    ET_ERR_INPUT = 11,           /* a token id or type id out of range, an empty text */
    ET_ERR_CAPACITY = 12,        /* a batch beyond the context's limits or the model's positions */
    ET_ERR_IO = 13,              /* a file could not be opened or read (native file loader) */
    ET_ERR_STATE = 14,           /* no result to read: no successful run yet, or not this task's output */
    ET_ERR_NUMERIC = 15,         /* the model computed a non-finite value (NaN or infinity) where a probability
                                    comes from: its weights are broken or the input overflows them */
} et_status;

/* A fixed, static English text for a status ("unknown status" for values outside the enum). */
const char *et_status_string(et_status status);

/* Detail of a failed load: the status again and a NUL-terminated message naming the function,
 * the key or tensor, and the offending value. */
typedef struct et_error {
    et_status status;
    char message[252];
} et_error;

/* ---------------------------------------------------------------------------------------------
 * Models.
 * ------------------------------------------------------------------------------------------- */
typedef struct et_model et_model;     /* immutable weights + hyper-parameters + labels */
typedef struct et_context et_context; /* per-thread arena and the results of the last run */

typedef enum et_task {
    ET_TASK_EMBEDDING = 0,               /* BertModel: hidden states, pooler output, embeddings */
    ET_TASK_SEQUENCE_CLASSIFICATION = 1, /* one row of n_labels logits per text */
    ET_TASK_TOKEN_CLASSIFICATION = 2,    /* one row of n_labels logits per token */
} et_task;

typedef struct et_model_params {
    /* Copy the buffer into memory the model owns (16-byte aligned), so the caller may free or reuse
     * its buffer at once and need not align it. 0 = borrow: tensors are used in place. */
    int32_t copy_buffer;
    /* Let the model rewrite the borrowed buffer's Linear weights (f32 and int8) into the layouts of the
     * fastest GEMMs (the buffer then belongs to the model until et_model_free and must not be read as a
     * file). 0 = leave the buffer as it is: those weights run on slower kernels. Files the model owns
     * (copy_buffer, et_model_load_from_file) are always repacked. */
    int32_t pack_in_place;
} et_model_params;

/* The defaults: borrow the buffer, leave it unchanged. */
et_model_params et_model_default_params(void);
void et_model_default_params_by_ref(et_model_params *out);

/* Loads a GGUF v3 model from `size` bytes at `data` and validates all of it (header, metadata, tensor
 * table, every shape against the hyper-parameters) before touching a tensor.
 * Ownership: unless params->copy_buffer, the model borrows `data`: it must be 16-byte aligned and
 * outlive the model. F32 tensors are used in place; F16 and Q8_0 ones are converted to F32 copies.
 * params may be NULL (defaults). On failure *out is NULL and, when `error` is not NULL, it receives
 * the status and a detailed message. */
et_status et_model_load_from_buffer(const void *data, size_t size, const et_model_params *params,
                                    et_model **out, et_error *error);

/* Loads only the tokenizer of a GGUF file: its keys and vocabulary, for et_tokenize, et_tokenize_windows,
 * et_model_token(_id), et_model_get_info and et_model_tensor_info. The file needs no tensors (llama.cpp's
 * vocabulary-only files have none; a full model's are ignored), and the model cannot run:
 * et_context_create refuses it with ET_ERR_UNSUPPORTED. A file without tensors loads only this way.
 * Ownership, params and errors as et_model_load_from_buffer. */
et_status et_model_load_vocab_from_buffer(const void *data, size_t size, const et_model_params *params,
                                          et_model **out, et_error *error);

#ifndef __wasm__
/* Reads the whole file into memory the model owns, then loads it as et_model_load_from_buffer (or
 * et_model_load_vocab_from_buffer) does. Not in the WebAssembly build (it has no file system). */
et_status et_model_load_from_file(const char *path, const et_model_params *params, et_model **out,
                                  et_error *error);
et_status et_model_load_vocab_from_file(const char *path, const et_model_params *params, et_model **out,
                                        et_error *error);
#endif

#ifndef __wasm__
#define ET_QUANT_I8 1   /* Linear weights and word embeddings as I8 + F32 per-row scales (the int8 path;
                           edgetag's own: llama.cpp does not read these files) */
#define ET_QUANT_Q8_0 2 /* the same tensors as llama.cpp's Q8_0 blocks (interop; converted to F32 at load) */
#define ET_QUANT_Q4_0 3 /* the same tensors as llama.cpp's Q4_0 blocks (32 weights, f16 scale), run on the 4-bit
                           kernels; a matrix whose rows are not a multiple of 32 long becomes I8 */

/* Writes a quantized copy of the model in `data` into a new malloc'd buffer (*out, *out_size; free it
 * with free()). Keys and all other tensors are copied unchanged. Native builds only. */
et_status et_quantize(const void *data, size_t size, int32_t type, void **out, size_t *out_size, et_error *error);
#endif

/* Frees the model and everything it owns. NULL is a no-op. Free its contexts first. */
void et_model_free(et_model *model);

/* Hyper-parameters and metadata. Every field is 4 bytes in wasm32; fields are only appended. */
typedef struct et_model_info {
    int32_t task;            /* et_task */
    int32_t n_vocab;         /* V: vocabulary size (rows of token_embd) */
    int32_t n_ctx;           /* P: positions, the longest text the model takes */
    int32_t n_embd;          /* H: hidden size */
    int32_t n_ff;            /* F: feed-forward size */
    int32_t n_layer;         /* N: encoder layers */
    int32_t n_head;          /* attention heads, of n_head_dim each (below) */
    int32_t n_token_types;   /* T: segment types */
    int32_t n_labels;        /* C: classes of the head, 0 for ET_TASK_EMBEDDING */
    int32_t n_out;           /* columns of et_context_logits: C, or H for an embedding model's pooler */
    int32_t has_pooler;      /* 1 when the file has the pooler (`cls`) */
    float layer_norm_eps;
    float temperature;       /* edgetag.calibration.temperature, 1.0 when absent */
    float threshold;         /* edgetag.escalation.threshold; NaN when absent */
    const char *name;        /* general.name, "" when absent */
    const char *version;     /* edgetag.model.version, "0" when absent */
    int32_t cls_id;          /* special token ids, -1 when absent */
    int32_t sep_id;
    int32_t pad_id;
    int32_t unk_id;
    int32_t mask_id;
    int32_t n_tensors;       /* entries of the tensor table (et_model_tensor_info) */
    uint32_t weights_bytes;  /* bytes of weights the engine reads (F32 after any conversion; int8 as is) */
    uint32_t owned_bytes;    /* bytes the model allocated itself (copies, conversions, tables) */
    int32_t int8_matrices;   /* Linear weights (and embedding tables) held as int8 with per-row scales */
    int32_t n_entity_types;  /* token classification: distinct entity types of the labels (et_model_entity_type) */
    int32_t aggregation;     /* edgetag.tagging.aggregation (et_aggregation): how the model's entities are best
                                decoded, the default of et_context_extract; ET_AGGREGATION_SIMPLE when absent */
    int32_t abstain_label;   /* edgetag.escalation.abstain_label as a label index (et_model_label): the label
                                whose prediction means "the model declines to answer: escalate"; -1 when absent */
    int32_t q4_matrices;     /* Linear weights held as 4-bit Q4_0 blocks (the 4-bit path; embeddings in Q4_0 count too) */
    int32_t n_head_dim;      /* d: the size of one attention head (bert.attention.key_length; H / n_head when absent).
                                The attention width n_head · d is H unless heads were pruned */
} et_model_info;

et_status et_model_get_info(const et_model *model, et_model_info *out);

/* The name of class `i` (0 <= i < n_labels), NUL-terminated, owned by the model; NULL out of range. */
const char *et_model_label(const et_model *model, int32_t i);

/* One entry of the file's tensor table, for inspection. */
typedef struct et_tensor_info {
    const char *name;   /* NUL-terminated copy owned by the model */
    int32_t type;       /* GGUF type id: 0 F32, 1 F16, 8 Q8_0, … */
    int32_t n_dims;
    int32_t ne[4];      /* GGUF order: ne[0] varies fastest; unused dims are 1 */
    uint32_t offset;    /* from the start of the file */
    uint32_t n_bytes;
} et_tensor_info;

et_status et_model_tensor_info(const et_model *model, int32_t i, et_tensor_info *out);

/* The name of a GGUF tensor type id ("F32", "Q8_0", …), "?" when unknown. */
const char *et_type_name(int32_t type);

/* ---------------------------------------------------------------------------------------------
 * Tokenizer: BERT's WordPiece exactly as Hugging Face's `tokenizers` runs it (BertNormalizer,
 * BertPreTokenizer, WordPiece, the [CLS] A [SEP] (B [SEP]) template), with offsets into the original
 * text in code points. The normalizer flags come from the model file (edgetag.tokenizer.*); the
 * Unicode data is that of et_tokenizer_unicode_version(). Thread-safe: the model is only read.
 *
 * Text is UTF-8; invalid UTF-8 (overlong forms, surrogates, values above U+10FFFF, cut sequences) is
 * refused with ET_ERR_INPUT naming the byte offset, before any token is produced. Added tokens of the
 * vocabulary ([CLS], [SEP], [UNK], [MASK], [PAD]) written literally in the text are recognized as those
 * tokens, as Hugging Face does.
 * ------------------------------------------------------------------------------------------- */

/* Tokenizes `text` (and `pair`, when not NULL, as the second sequence of a pair) into
 * [CLS] text [SEP] (pair [SEP]), cut to max_length tokens (0 = the model's n_ctx) as Hugging Face's
 * truncation="longest_first" cuts (a single text keeps its first max_length - 2 tokens).
 * Outputs, each of `capacity` entries (type_ids and offsets may be NULL):
 *   ids[i]                     token ids
 *   type_ids[i]                0 for [CLS] text [SEP], 1 for pair [SEP]
 *   offsets[2i], offsets[2i+1] [start, end) of token i in code points of its own text; [0, 0] for the
 *                              template's [CLS] and [SEP]
 * *n_tokens receives the number of tokens. With ids NULL nothing is written (a size query); when
 * capacity is too small the call returns ET_ERR_CAPACITY, with *n_tokens set. */
et_status et_tokenize(const et_model *model, const char *text, size_t text_len, const char *pair, size_t pair_len,
                      int32_t max_length, int32_t *ids, int32_t *type_ids, int32_t *offsets, int32_t capacity,
                      int32_t *n_tokens, et_error *error);

/* Tokenizes a text of any length into overlapping windows, each [CLS] tokens [SEP] of at most
 * max_length tokens (0 = n_ctx), consecutive windows sharing `stride` tokens (0 <= stride <
 * max_length - 2), as Hugging Face's return_overflowing_tokens with stride makes them. The output is a
 * ragged batch ready for et_context_run: ids (token_capacity entries) and offsets (2 per token, into
 * the original text) back to back, lengths[w] tokens in window w, and first_token[w] the index of
 * window w's first content token in the whole text's token sequence (for merging results; may be NULL).
 * With ids or lengths NULL only the counts are returned (*n_tokens, *n_windows). */
et_status et_tokenize_windows(const et_model *model, const char *text, size_t text_len, int32_t max_length,
                              int32_t stride, int32_t *ids, int32_t *offsets, int32_t token_capacity, int32_t *lengths,
                              int32_t *first_token, int32_t window_capacity, int32_t *n_tokens, int32_t *n_windows,
                              et_error *error);

/* Merges per-token rows of a windowed run (et_tokenize_windows, then et_context_run; e.g. the logits of
 * a token classifier, or hidden states) into one row per content token of the whole text: token t takes
 * its row from the window where it has the most context on both sides (the larger of the distances to
 * the window's content edges, the earlier window on ties), as BERT's reference code chooses for long
 * documents. rows: [sum of lengths][cols], [CLS]/[SEP] rows included; out: [n_content][cols], where
 * n_content = first_token[n_windows - 1] + lengths[n_windows - 1] - 2. */
et_status et_merge_windows(const float *rows, int32_t cols, const int32_t *lengths, const int32_t *first_token,
                           int32_t n_windows, float *out, int32_t n_content);

/* The spelling of token `id` as the file has it (UTF-8, not NUL-terminated, owned by the model's buffer):
 * llama.cpp's "▁the" / "s" in files of format 2 and llama.cpp's own, vocab.txt's "the" / "##s" in older
 * ones (models/FORMAT.md). */
et_status et_model_token(const et_model *model, int32_t id, const char **text, int32_t *len);

/* The id of the token spelled exactly `text`, as et_model_token spells it, or -1. */
int32_t et_model_token_id(const et_model *model, const char *text, size_t len);

/* The Unicode version of the tokenizer's character data ("14.0.0"). */
const char *et_tokenizer_unicode_version(void);

/* ---------------------------------------------------------------------------------------------
 * Contexts and runs.
 * ------------------------------------------------------------------------------------------- */
typedef enum et_kernels_choice {
    ET_KERNELS_AUTO = 0,            /* this build's default: relaxed SIMD (dot16) in the relaxed build, else SIMD128 */
    ET_KERNELS_REFERENCE = 1,       /* the scalar references: slow, for checking the SIMD kernels */
    ET_KERNELS_BASELINE = 2,        /* SIMD128 */
    ET_KERNELS_RELAXED_DOT16 = 3,   /* relaxed SIMD, int8 by i16x8 dots + pairwise adds */
    ET_KERNELS_RELAXED_DOT32 = 4,   /* relaxed SIMD, int8 by i32x4 dot-adds (faster on CPUs with VNNI) */
    ET_KERNELS_REFERENCE_U7 = 5,    /* scalar references of the relaxed int8 arithmetic (7-bit levels) */
} et_kernels_choice;
/* The relaxed choices exist in the relaxed wasm build and natively; elsewhere et_context_create refuses
 * them with ET_ERR_UNSUPPORTED. */

/* Runs `iterations` int8 GEMMs of a small layer shape (16 × 384 × 384) with the given kernels and
 * returns ET_OK (ET_ERR_UNSUPPORTED when this build lacks them). The engine has no clock: this exists for
 * the host to time — the JS loader times ET_KERNELS_RELAXED_DOT16 against ET_KERNELS_RELAXED_DOT32 over
 * its first runs, once its engine has optimized them, and remakes its contexts with the faster. For the
 * two relaxed sets both kernels run from one function, so a lazily compiling engine times both in the
 * same tier. ET_ERR_UNSUPPORTED when this build lacks the set; 0 iterations only asks that (the JS reads
 * the flavour of a wasm module it is handed this way). */
et_status et_kernels_probe(int32_t kernels, int32_t iterations);

typedef struct et_context_params {
    int32_t max_tokens; /* tokens of one run, all texts together; 0 = max_seq */
    int32_t max_texts;  /* texts in one run; 0 = 16 */
    int32_t max_seq;    /* longest single text; 0 = the model's n_ctx (it may not exceed it); never more
                         * than max_tokens in effect */
    int32_t kernels;    /* et_kernels_choice */
} et_context_params;

et_context_params et_context_default_params(void);
void et_context_default_params_by_ref(et_context_params *out);

/* Makes a context for `model` (which must outlive it) with one arena sized for the params' limits.
 * params may be NULL (defaults). ET_ERR_UNSUPPORTED for a vocabulary-only model (it has no weights). */
et_status et_context_create(const et_model *model, const et_context_params *params, et_context **out);

/* Frees the context. NULL is a no-op. */
void et_context_free(et_context *ctx);

/* Bytes of the context's buffers: the encoder's arena and the tagging block (see Tagging below). */
size_t et_context_memory(const et_context *ctx);

/* The detailed message of the context's last failed call; "" after a success. Never NULL for a
 * non-NULL context. */
const char *et_context_last_error(const et_context *ctx);

/* Runs the encoder and the model's head on `n_texts` texts.
 * ids:      every text's token ids, back to back (sum of lengths entries), each in [0, n_vocab).
 * type_ids: segment ids in the same layout, each in [0, n_token_types); NULL means all 0.
 * lengths:  tokens per text, each in [1, min(max_seq, n_ctx)].
 * Positions restart at 0 for every text, as Hugging Face numbers them. The caller keeps ownership
 * of all inputs; nothing is retained after the call. Performs no allocation. */
et_status et_context_run(et_context *ctx, const int32_t *ids, const int32_t *type_ids,
                         const int32_t *lengths, int32_t n_texts);

/* The head's output of the last run, row-major [rows][cols], valid until the next run:
 *   ET_TASK_TOKEN_CLASSIFICATION:    rows = all tokens of the batch, cols = n_labels
 *   ET_TASK_SEQUENCE_CLASSIFICATION: rows = texts, cols = n_labels
 *   ET_TASK_EMBEDDING:               rows = texts, cols = H, the pooler output tanh(cls(h[CLS]))
 *                                    (ET_ERR_STATE when the model has no pooler) */
et_status et_context_logits(et_context *ctx, const float **data, int32_t *rows, int32_t *cols);

/* The last layer's hidden states of the last run: [all tokens of the batch][H]. */
et_status et_context_hidden(et_context *ctx, const float **data, int32_t *rows, int32_t *cols);

typedef enum et_pooling {
    ET_POOLING_MEAN = 1, /* mean over each text's tokens (llama.cpp's pooling_type numbering) */
    ET_POOLING_CLS = 2,  /* the first token's hidden state */
} et_pooling;

/* One embedding per text of the last run, [texts][H], from the last hidden states; `normalize` != 0
 * scales each to unit L2 norm. Computed on call into the context's arena (no allocation). */
et_status et_context_embeddings(et_context *ctx, int32_t pooling, int32_t normalize, const float **data,
                                int32_t *rows, int32_t *cols);

/* ---------------------------------------------------------------------------------------------
 * Tagging: text in, labels out — tokenize, run, and decode with the model's calibration.
 * Probabilities are softmax(logits / temperature) with edgetag.calibration.temperature; "escalate"
 * follows the model's edgetag.escalation.threshold (never when the file has none) and, for a classifier,
 * its edgetag.escalation.abstain_label (none when the file has none).
 * Memory: tagging keeps its tokens, probabilities and results in a block of its own that the context
 * makes beside the encoder's arena, sized from the same limits (src/tagging.h says why): these calls
 * allocate nothing, and from the encoder they read only the run's output.
 * ------------------------------------------------------------------------------------------- */

/* Classifies n_texts UTF-8 texts (texts[i] of lengths[i] bytes) as one batch with a sequence classifier.
 * Each text is cut to the context's max_seq tokens. Results: et_context_classification. ET_ERR_NUMERIC
 * (naming the text) when the model's logits for a text are not finite: never a confident answer from them. */
et_status et_context_classify(et_context *ctx, const char *const *texts, const size_t *lengths, int32_t n_texts);

/* Text `i` of the last et_context_classify: the best label, its probability, all probabilities
 * ([n_labels], valid until the next call), and escalate = 1 when the probability is below the model's
 * threshold or the label is the model's abstain label (edgetag.escalation.abstain_label, e.g. "oos" for
 * out of scope: the model declines to answer). Pointers may be NULL. */
et_status et_context_classification(et_context *ctx, int32_t i, int32_t *label, float *score, const float **probs,
                                    int32_t *escalate);

/* How token predictions become entities, as Hugging Face's token-classification pipeline names them. */
typedef enum et_aggregation {
    ET_AGGREGATION_DEFAULT = -1, /* the model's own (et_model_info.aggregation) */
    ET_AGGREGATION_NONE = 0,    /* every token not tagged O, on its own, with its B-/I- label */
    ET_AGGREGATION_SIMPLE = 1,  /* consecutive tokens of one type merged (B- starts a new entity), mean score */
    ET_AGGREGATION_FIRST = 2,   /* words first ("##" pieces joined): a word takes its first token's tag */
    ET_AGGREGATION_AVERAGE = 3, /* …the tag of its tokens' averaged probabilities */
    ET_AGGREGATION_MAX = 4,     /* …the tag of its most confident token */
} et_aggregation;

typedef struct et_entity {
    int32_t type;   /* entity type (et_model_entity_type): the label without its B-/I- prefix */
    int32_t label;  /* with ET_AGGREGATION_NONE the token's own label (et_model_label), else -1 */
    float score;    /* probability: the token's, or the mean over the entity's tokens or words */
    int32_t start;  /* [start, end) in code points of the text */
    int32_t end;
} et_entity;

/* Extracts the entities of one UTF-8 text with a token classifier. Texts longer than the context's
 * max_seq run as overlapping windows (`stride` tokens shared; < 0 = a quarter of the window) merged
 * token by token (et_merge_windows), as many windows at a time as the context holds (max_tokens, max_texts):
 * a text of any length runs in the same memory. *entities is valid until the next call on the context;
 * escalate = 1 when an entity's score is below the threshold. The entities of the whole text must fit in
 * max_tokens entries (a text that held in one run always fits); ET_ERR_CAPACITY beyond that — the steps
 * below hand them out a part at a time. ET_ERR_NUMERIC when the model's logits are not finite. */
et_status et_context_extract(et_context *ctx, const char *text, size_t length, int32_t aggregation, int32_t stride,
                             const et_entity **entities, int32_t *n_entities, int32_t *escalate);

/* The same extraction in steps, for texts of any length and any number of entities: begin, then call next
 * until *done. Each step runs the next windows that fit in the context and hands out the entities it
 * completed, in text order (valid until the next call on the context); the entities of all steps together
 * are et_context_extract's. `text` is borrowed: it must stay unchanged until *done, a failed step, or
 * another call on the context. *escalate says whether an entity so far is below the threshold. */
et_status et_context_extract_begin(et_context *ctx, const char *text, size_t length, int32_t aggregation,
                                   int32_t stride);
et_status et_context_extract_next(et_context *ctx, const et_entity **entities, int32_t *n_entities,
                                  int32_t *escalate, int32_t *done);

/* The entity types of a token classifier: its labels without the B-/I- prefixes, in order of first
 * appearance, "O" excluded (a label without a prefix is its own type). NULL out of range. */
const char *et_model_entity_type(const et_model *model, int32_t i);

#ifdef __cplusplus
}
#endif

#endif /* EDGETAG_H */
