/*
 * gguf.h — a validating reader of GGUF v3 (and v2) files held in memory. models/FORMAT.md has the
 * byte layout. The reader never copies tensor data: it records where each tensor lives in the buffer,
 * after proving that every field, string, array and tensor lies inside it.
 * Hosts are little-endian (x86, ARM, wasm32), like every GGUF file in practice.
 */
#ifndef ET_GGUF_H
#define ET_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "edgetag.h"

enum gguf_value_type {
    GGUF_U8 = 0, GGUF_I8 = 1, GGUF_U16 = 2, GGUF_I16 = 3, GGUF_U32 = 4, GGUF_I32 = 5, GGUF_F32 = 6,
    GGUF_BOOL = 7, GGUF_STRING = 8, GGUF_ARRAY = 9, GGUF_U64 = 10, GGUF_I64 = 11, GGUF_F64 = 12,
    GGUF_VALUE_TYPE_COUNT
};

/* GGUF tensor types this reader knows the sizes of (the engine computes with fewer, see model.c). */
enum gguf_tensor_type {
    GGUF_TYPE_F32 = 0, GGUF_TYPE_F16 = 1, GGUF_TYPE_Q4_0 = 2, GGUF_TYPE_Q8_0 = 8, GGUF_TYPE_I8 = 24, GGUF_TYPE_BF16 = 30,
};

#define GGUF_DEFAULT_ALIGNMENT 32u
#define GGUF_MAX_DIMS 4

typedef struct gguf_str {
    const char *ptr; /* into the buffer, not NUL-terminated */
    uint64_t len;
} gguf_str;

typedef struct gguf_array {
    uint32_t type;       /* element type, never GGUF_ARRAY */
    uint64_t n;          /* elements */
    const uint8_t *data; /* first element; strings are { u64 len, bytes } back to back */
    uint64_t n_bytes;    /* bytes from data to the end of the last element */
} gguf_array;

typedef struct gguf_kv {
    gguf_str key;
    uint32_t type;
    union {
        uint64_t u;   /* U8, U16, U32, U64, BOOL */
        int64_t i;    /* I8, I16, I32, I64 */
        double f;     /* F32, F64 */
        gguf_str s;   /* STRING */
        gguf_array a; /* ARRAY */
    } v;
} gguf_kv;

typedef struct gguf_tensor {
    gguf_str name;
    uint32_t n_dims;
    int64_t ne[GGUF_MAX_DIMS]; /* ne[0] fastest; dims past n_dims are 1 */
    uint32_t type;
    uint64_t offset;     /* from the start of the data section */
    uint64_t n_bytes;
    const uint8_t *data; /* in the buffer */
} gguf_tensor;

typedef struct gguf_file {
    const uint8_t *base;
    size_t size;
    uint32_t version;
    uint32_t alignment;
    uint64_t n_kv;
    uint64_t n_tensors;
    gguf_kv *kv;             /* [n_kv], owned */
    gguf_tensor *tensors;    /* [n_tensors], owned */
    uint64_t data_offset;    /* start of the data section in the buffer */
} gguf_file;

/* Parses and validates the whole header, metadata and tensor table of `size` bytes at `data`.
 * The file borrows `data`. On failure nothing is left allocated. */
et_status gguf_parse(gguf_file *f, const void *data, size_t size, et_error *err);

/* The first 8 bytes of a file: the magic and a version this reader takes (ET_ERR_BAD_MAGIC,
 * ET_ERR_BAD_VERSION, ET_ERR_TRUNCATED when there are fewer), so a loader can refuse what is not a GGUF
 * file before reading all of it. gguf_parse checks the same first. */
et_status gguf_check_header(const void *data, size_t size, et_error *err);

/* Frees what gguf_parse allocated; safe on a zeroed or already freed file. */
void gguf_free(gguf_file *f);

const gguf_kv *gguf_find_kv(const gguf_file *f, const char *key);
const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name);

int gguf_str_eq(gguf_str s, const char *z);

/* An integer key (any integer type, or bool as 0/1) in [lo, hi] into *out. Absent: ET_ERR_MISSING when
 * `required`, else *out = dflt. Another type or a value out of range: ET_ERR_CORRUPT naming the key. */
et_status gguf_get_int(const gguf_file *f, const char *key, int required, int64_t dflt, int64_t lo, int64_t hi,
                       int64_t *out, et_error *err);

/* The same for a float key (F32 or F64; finite), absent → dflt; and a bool key (BOOL only), absent → dflt. */
et_status gguf_get_float(const gguf_file *f, const char *key, double dflt, double *out, et_error *err);
et_status gguf_get_bool(const gguf_file *f, const char *key, int dflt, int *out, et_error *err);

/* A string key, absent → {NULL, 0}; an array of strings, absent → NULL. ET_ERR_MISSING when absent and
 * `required`; ET_ERR_CORRUPT for another type. The values point into the file. */
et_status gguf_get_str(const gguf_file *f, const char *key, int required, gguf_str *out, et_error *err);
et_status gguf_get_str_array(const gguf_file *f, const char *key, int required, const gguf_array **out, et_error *err);

/* Bytes of one value of a fixed-size type (0 for STRING and ARRAY). */
size_t gguf_value_size(uint32_t type);
const char *gguf_value_type_name(uint32_t type);

/* A tensor type's name, block length (elements) and bytes per block; NULL name when unknown. */
const char *gguf_type_name(uint32_t type);
int gguf_type_block(uint32_t type, uint32_t *block, uint32_t *block_bytes);

/* Walks a string array: *pos starts at 0 and advances; the array was validated by gguf_parse. */
gguf_str gguf_array_next_str(const gguf_array *a, uint64_t *pos);

#endif /* ET_GGUF_H */
