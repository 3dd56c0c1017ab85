/*
 * layout.c — every struct and enum of include/edgetag.h as this compiler lays them out, for
 * tests/js/abi.test.mjs to compare with web/abi.js. Built for wasm32 with the engine's toolchain and flags
 * (`make build/abi-layout.wasm`); et_abi_layout() returns a NUL-terminated JSON text:
 *
 *   {"scalars": {"int32_t": 4, "uint32_t": 4, "float": 4, "size_t": 4, "void *": 4, "char": 1},
 *    "structs": {"et_error": {"size": 256, "align": 4, "fields": {
 *                   "status": {"offset": 0, "size": 4, "type": "u32", "count": 1}, …}}, …},
 *    "enums":   {"et_status": {"ET_OK": 0, …}, …}}
 *
 * A field's type is named as abi.js names it (i32, u32, f32, size, char, ptr); an array field gives its
 * element's type and its count. Every field and enumerator of the header must be listed here: the test
 * compares these lists with the header's own text.
 */
#include <stddef.h>
#include <stdint.h>

#include "edgetag.h"

const char *et_abi_layout(void);

static char json[16384];
static size_t used;
static int need_comma;

static void put(const char *s) {
    while (*s && used + 1 < sizeof json) json[used++] = *s++;
}

static void put_int(long v) {
    char digits[24];
    int n = 0;
    unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;
    if (v < 0) put("-");
    do digits[n++] = (char)('0' + u % 10); while ((u /= 10) > 0);
    while (n > 0) {
        const char c[2] = {digits[--n], 0};
        put(c);
    }
}

/* "key": — with the comma that separates it from the previous member */
static void key(const char *k) {
    put(need_comma ? ",\"" : "\"");
    put(k);
    put("\":");
    need_comma = 0;
}

static void open_object(const char *k) {
    if (k) key(k);
    put("{");
    need_comma = 0;
}

static void close_object(void) {
    put("}");
    need_comma = 1;
}

static void number(const char *k, long v) {
    key(k);
    put_int(v);
    need_comma = 1;
}

static void field(const char *name, size_t offset, size_t size, const char *type, size_t count) {
    open_object(name);
    number("offset", (long)offset);
    number("size", (long)size);
    key("type");
    put("\"");
    put(type);
    put("\"");
    need_comma = 1;
    number("count", (long)count);
    close_object();
}

/* The type of an expression as abi.js names it. Default: the pointers (the header's structs hold no
 * other type of that size, nor structs within structs). */
#define TYPE_NAME(x) _Generic((x), int32_t: "i32", uint32_t: "u32", float: "f32", unsigned long: "size", char: "char", \
    int8_t: "i8", uint8_t: "u8", int16_t: "i16", uint16_t: "u16", int64_t: "i64", uint64_t: "u64", double: "f64", \
    default: "ptr")

#define STRUCT(T) (open_object(#T), number("size", (long)sizeof(T)), number("align", (long)_Alignof(T)), open_object("fields"))
#define END_STRUCT() (close_object(), close_object())
#define FIELD(T, f) field(#f, offsetof(T, f), sizeof(((T *)0)->f), TYPE_NAME(((T *)0)->f), 1)
#define ARRAY(T, f) field(#f, offsetof(T, f), sizeof(((T *)0)->f), TYPE_NAME(((T *)0)->f[0]), \
    sizeof(((T *)0)->f) / sizeof(((T *)0)->f[0]))
#define ENUM(e) number(#e, (long)(e))

static void structs(void) {
    open_object("structs");
    STRUCT(et_error);
    FIELD(et_error, status);
    ARRAY(et_error, message);
    END_STRUCT();

    STRUCT(et_model_params);
    FIELD(et_model_params, copy_buffer);
    FIELD(et_model_params, pack_in_place);
    END_STRUCT();

    STRUCT(et_model_info);
    FIELD(et_model_info, task);
    FIELD(et_model_info, n_vocab);
    FIELD(et_model_info, n_ctx);
    FIELD(et_model_info, n_embd);
    FIELD(et_model_info, n_ff);
    FIELD(et_model_info, n_layer);
    FIELD(et_model_info, n_head);
    FIELD(et_model_info, n_token_types);
    FIELD(et_model_info, n_labels);
    FIELD(et_model_info, n_out);
    FIELD(et_model_info, has_pooler);
    FIELD(et_model_info, layer_norm_eps);
    FIELD(et_model_info, temperature);
    FIELD(et_model_info, threshold);
    FIELD(et_model_info, name);
    FIELD(et_model_info, version);
    FIELD(et_model_info, cls_id);
    FIELD(et_model_info, sep_id);
    FIELD(et_model_info, pad_id);
    FIELD(et_model_info, unk_id);
    FIELD(et_model_info, mask_id);
    FIELD(et_model_info, n_tensors);
    FIELD(et_model_info, weights_bytes);
    FIELD(et_model_info, owned_bytes);
    FIELD(et_model_info, int8_matrices);
    FIELD(et_model_info, n_entity_types);
    FIELD(et_model_info, aggregation);
    FIELD(et_model_info, abstain_label);
    FIELD(et_model_info, q4_matrices);
    FIELD(et_model_info, n_head_dim);
    END_STRUCT();

    STRUCT(et_tensor_info);
    FIELD(et_tensor_info, name);
    FIELD(et_tensor_info, type);
    FIELD(et_tensor_info, n_dims);
    ARRAY(et_tensor_info, ne);
    FIELD(et_tensor_info, offset);
    FIELD(et_tensor_info, n_bytes);
    END_STRUCT();

    STRUCT(et_context_params);
    FIELD(et_context_params, max_tokens);
    FIELD(et_context_params, max_texts);
    FIELD(et_context_params, max_seq);
    FIELD(et_context_params, kernels);
    END_STRUCT();

    STRUCT(et_entity);
    FIELD(et_entity, type);
    FIELD(et_entity, label);
    FIELD(et_entity, score);
    FIELD(et_entity, start);
    FIELD(et_entity, end);
    END_STRUCT();
    close_object();
}

static void enums(void) {
    open_object("enums");
    open_object("et_status");
    ENUM(ET_OK);
    ENUM(ET_ERR_INVALID_ARGUMENT);
    ENUM(ET_ERR_OUT_OF_MEMORY);
    ENUM(ET_ERR_BAD_MAGIC);
    ENUM(ET_ERR_BAD_VERSION);
    ENUM(ET_ERR_TRUNCATED);
    ENUM(ET_ERR_CORRUPT);
    ENUM(ET_ERR_UNSUPPORTED);
    ENUM(ET_ERR_MISSING);
    ENUM(ET_ERR_SHAPE);
    ENUM(ET_ERR_ALIGNMENT);
    ENUM(ET_ERR_INPUT);
    ENUM(ET_ERR_CAPACITY);
    ENUM(ET_ERR_IO);
    ENUM(ET_ERR_STATE);
    ENUM(ET_ERR_NUMERIC);
    close_object();

    open_object("et_task");
    ENUM(ET_TASK_EMBEDDING);
    ENUM(ET_TASK_SEQUENCE_CLASSIFICATION);
    ENUM(ET_TASK_TOKEN_CLASSIFICATION);
    close_object();

    open_object("et_kernels_choice");
    ENUM(ET_KERNELS_AUTO);
    ENUM(ET_KERNELS_REFERENCE);
    ENUM(ET_KERNELS_BASELINE);
    ENUM(ET_KERNELS_RELAXED_DOT16);
    ENUM(ET_KERNELS_RELAXED_DOT32);
    ENUM(ET_KERNELS_REFERENCE_U7);
    close_object();

    open_object("et_pooling");
    ENUM(ET_POOLING_MEAN);
    ENUM(ET_POOLING_CLS);
    close_object();

    open_object("et_aggregation");
    ENUM(ET_AGGREGATION_DEFAULT);
    ENUM(ET_AGGREGATION_NONE);
    ENUM(ET_AGGREGATION_SIMPLE);
    ENUM(ET_AGGREGATION_FIRST);
    ENUM(ET_AGGREGATION_AVERAGE);
    ENUM(ET_AGGREGATION_MAX);
    close_object();
    close_object();
}

static void scalars(void) {
    open_object("scalars");
    number("int32_t", (long)sizeof(int32_t));
    number("uint32_t", (long)sizeof(uint32_t));
    number("float", (long)sizeof(float));
    number("size_t", (long)sizeof(size_t));
    number("void *", (long)sizeof(void *));
    number("char", (long)sizeof(char));
    close_object();
}

const char *et_abi_layout(void) {
    used = 0;
    need_comma = 0;
    open_object(NULL);
    scalars();
    structs();
    enums();
    close_object();
    json[used] = 0;
    return json;
}
