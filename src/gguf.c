/*
 * gguf.c — the validating GGUF reader (see gguf.h and models/FORMAT.md).
 *
 * Every read goes through a cursor that checks the bytes are there first, every count is checked
 * against the bytes that remain before anything is allocated for it, and every size computation is
 * overflow-checked, so no input can make the reader read out of bounds, allocate absurdly or loop long.
 */
#include "gguf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* More keys or tensors than any model has: a count above this is corruption, not truncation. */
#define GGUF_MAX_COUNT (1u << 24)

/* ---- type tables ------------------------------------------------------------------------------ */

static const struct {
    uint8_t size;
    const char *name;
} value_types[GGUF_VALUE_TYPE_COUNT] = {
    [GGUF_U8] = {1, "u8"},     [GGUF_I8] = {1, "i8"},        [GGUF_U16] = {2, "u16"},
    [GGUF_I16] = {2, "i16"},   [GGUF_U32] = {4, "u32"},      [GGUF_I32] = {4, "i32"},
    [GGUF_F32] = {4, "f32"},   [GGUF_BOOL] = {1, "bool"},    [GGUF_STRING] = {0, "string"},
    [GGUF_ARRAY] = {0, "array"}, [GGUF_U64] = {8, "u64"},    [GGUF_I64] = {8, "i64"},
    [GGUF_F64] = {8, "f64"},
};

size_t gguf_value_size(uint32_t type) { return type < GGUF_VALUE_TYPE_COUNT ? value_types[type].size : 0; }

const char *gguf_value_type_name(uint32_t type) {
    return type < GGUF_VALUE_TYPE_COUNT ? value_types[type].name : "unknown";
}

static const struct {
    uint32_t type;
    const char *name;
    uint16_t block, block_bytes;
} tensor_types[] = {
    {0, "F32", 1, 4},        {1, "F16", 1, 2},        {2, "Q4_0", 32, 18},    {3, "Q4_1", 32, 20},
    {6, "Q5_0", 32, 22},     {7, "Q5_1", 32, 24},     {8, "Q8_0", 32, 34},    {9, "Q8_1", 32, 36},
    {10, "Q2_K", 256, 84},   {11, "Q3_K", 256, 110},  {12, "Q4_K", 256, 144}, {13, "Q5_K", 256, 176},
    {14, "Q6_K", 256, 210},  {15, "Q8_K", 256, 292},  {24, "I8", 1, 1},       {25, "I16", 1, 2},
    {26, "I32", 1, 4},       {27, "I64", 1, 8},       {28, "F64", 1, 8},      {30, "BF16", 1, 2},
};

const char *gguf_type_name(uint32_t type) {
    for (size_t i = 0; i < sizeof tensor_types / sizeof tensor_types[0]; i++)
        if (tensor_types[i].type == type) return tensor_types[i].name;
    return NULL;
}

int gguf_type_block(uint32_t type, uint32_t *block, uint32_t *block_bytes) {
    for (size_t i = 0; i < sizeof tensor_types / sizeof tensor_types[0]; i++) {
        if (tensor_types[i].type == type) {
            *block = tensor_types[i].block;
            *block_bytes = tensor_types[i].block_bytes;
            return 1;
        }
    }
    return 0;
}

/* ---- the cursor ------------------------------------------------------------------------------- */

typedef struct cursor {
    const uint8_t *base;
    uint64_t size, pos;
    et_error *err;
} cursor;

static uint64_t remaining(const cursor *c) { return c->size - c->pos; }

static et_status need(cursor *c, uint64_t n, const char *what) {
    if (n > remaining(c))
        return et__fail(c->err, ET_ERR_TRUNCATED, "gguf: %s needs %llu bytes at offset %llu, the buffer has %llu",
                        what, (unsigned long long)n, (unsigned long long)c->pos, (unsigned long long)c->size);
    return ET_OK;
}

/* Copies n bytes at the cursor into out (little-endian fields on little-endian hosts). */
static et_status rd(cursor *c, void *out, size_t n, const char *what) {
    et_status s = need(c, n, what);
    if (s) return s;
    memcpy(out, c->base + c->pos, n);
    c->pos += n;
    return ET_OK;
}

static et_status rd_u32(cursor *c, uint32_t *out, const char *what) { return rd(c, out, 4, what); }
static et_status rd_u64(cursor *c, uint64_t *out, const char *what) { return rd(c, out, 8, what); }

static et_status rd_str(cursor *c, gguf_str *out, const char *what) {
    uint64_t len;
    et_status s = rd_u64(c, &len, what);
    if (s) return s;
    if ((s = need(c, len, what))) return s;
    out->ptr = (const char *)c->base + c->pos;
    out->len = len;
    c->pos += len;
    return ET_OK;
}

/* Prints at most 64 bytes of a GGUF string in messages. */
#define STRF "'%.*s'"
#define STRA(s) (int)((s).len < 64 ? (s).len : 64), (s).ptr

/* ---- values ----------------------------------------------------------------------------------- */

static et_status rd_scalar(cursor *c, uint32_t type, gguf_kv *kv) {
    const size_t n = gguf_value_size(type);
    et_status s = need(c, n, "a metadata value");
    if (s) return s;
    const uint8_t *p = c->base + c->pos;
    c->pos += n;
    switch (type) {
    case GGUF_U8: kv->v.u = p[0]; break;
    case GGUF_BOOL:
        if (p[0] > 1)
            return et__fail(c->err, ET_ERR_CORRUPT, "gguf: key " STRF " is a bool of value %u", STRA(kv->key), p[0]);
        kv->v.u = p[0];
        break;
    case GGUF_I8: kv->v.i = (int8_t)p[0]; break;
    case GGUF_U16: { uint16_t v; memcpy(&v, p, 2); kv->v.u = v; break; }
    case GGUF_I16: { int16_t v; memcpy(&v, p, 2); kv->v.i = v; break; }
    case GGUF_U32: { uint32_t v; memcpy(&v, p, 4); kv->v.u = v; break; }
    case GGUF_I32: { int32_t v; memcpy(&v, p, 4); kv->v.i = v; break; }
    case GGUF_F32: { float v; memcpy(&v, p, 4); kv->v.f = v; break; }
    case GGUF_U64: memcpy(&kv->v.u, p, 8); break;
    case GGUF_I64: memcpy(&kv->v.i, p, 8); break;
    case GGUF_F64: memcpy(&kv->v.f, p, 8); break;
    default: ET_ASSERT(0);
    }
    return ET_OK;
}

static et_status rd_array(cursor *c, gguf_kv *kv) {
    uint32_t type;
    uint64_t n;
    et_status s = rd_u32(c, &type, "an array type");
    if (s || (s = rd_u64(c, &n, "an array length"))) return s;
    if (type == GGUF_ARRAY)
        return et__fail(c->err, ET_ERR_UNSUPPORTED, "gguf: key " STRF " is an array of arrays", STRA(kv->key));
    if (type >= GGUF_VALUE_TYPE_COUNT)
        return et__fail(c->err, ET_ERR_CORRUPT, "gguf: key " STRF " is an array of unknown type %u",
                        STRA(kv->key), type);
    const uint64_t start = c->pos;
    if (type == GGUF_STRING) {
        /* Each string costs at least its 8-byte length: bound n before walking. */
        if (n > remaining(c) / 8)
            return et__fail(c->err, ET_ERR_TRUNCATED, "gguf: key " STRF " announces %llu strings, more than the %llu bytes left can hold",
                            STRA(kv->key), (unsigned long long)n, (unsigned long long)remaining(c));
        for (uint64_t i = 0; i < n; i++) {
            gguf_str str;
            if ((s = rd_str(c, &str, "an array string"))) return s;
        }
    } else {
        uint64_t bytes;
        if (!et__mul_u64(n, gguf_value_size(type), &bytes) || bytes > remaining(c))
            return et__fail(c->err, ET_ERR_TRUNCATED, "gguf: key " STRF " announces %llu elements of %s, more than the %llu bytes left",
                            STRA(kv->key), (unsigned long long)n, gguf_value_type_name(type), (unsigned long long)remaining(c));
        if (type == GGUF_BOOL) {
            for (uint64_t i = 0; i < n; i++)
                if (c->base[c->pos + i] > 1)
                    return et__fail(c->err, ET_ERR_CORRUPT, "gguf: key " STRF " has a bool of value %u at index %llu",
                                    STRA(kv->key), c->base[c->pos + i], (unsigned long long)i);
        }
        c->pos += bytes;
    }
    kv->v.a.type = type;
    kv->v.a.n = n;
    kv->v.a.data = c->base + start;
    kv->v.a.n_bytes = c->pos - start;
    return ET_OK;
}

gguf_str gguf_array_next_str(const gguf_array *a, uint64_t *pos) {
    gguf_str s;
    uint64_t len;
    memcpy(&len, a->data + *pos, 8);
    s.ptr = (const char *)a->data + *pos + 8;
    s.len = len;
    *pos += 8 + len;
    return s;
}

/* ---- duplicate names -------------------------------------------------------------------------- */

static int cmp_str(const void *pa, const void *pb) {
    const gguf_str *a = *(const gguf_str *const *)pa, *b = *(const gguf_str *const *)pb;
    const uint64_t n = a->len < b->len ? a->len : b->len;
    const int r = memcmp(a->ptr, b->ptr, (size_t)n);
    if (r) return r;
    return a->len < b->len ? -1 : a->len > b->len;
}

/* Sorts pointers to the n names (stride bytes apart) and reports the first repeated one. */
static et_status check_unique(const void *first, uint64_t n, size_t stride, const char *what, et_error *err) {
    if (n < 2) return ET_OK;
    const gguf_str **v = malloc((size_t)n * sizeof *v);
    if (!v) return et__fail(err, ET_ERR_OUT_OF_MEMORY, "gguf: no memory to check %llu %s", (unsigned long long)n, what);
    for (uint64_t i = 0; i < n; i++) v[i] = (const gguf_str *)((const uint8_t *)first + i * stride);
    qsort(v, (size_t)n, sizeof *v, cmp_str);
    et_status s = ET_OK;
    for (uint64_t i = 1; i < n && !s; i++)
        if (cmp_str(&v[i - 1], &v[i]) == 0)
            s = et__fail(err, ET_ERR_CORRUPT, "gguf: duplicate %s " STRF, what, STRA(*v[i]));
    free(v);
    return s;
}

/* ---- the file --------------------------------------------------------------------------------- */

int gguf_str_eq(gguf_str s, const char *z) {
    const size_t n = strlen(z);
    return s.len == n && memcmp(s.ptr, z, n) == 0;
}

et_status gguf_get_int(const gguf_file *f, const char *key, int required, int64_t dflt, int64_t lo, int64_t hi,
                       int64_t *out, et_error *err) {
    const gguf_kv *kv = gguf_find_kv(f, key);
    if (!kv) {
        if (required) return et__fail(err, ET_ERR_MISSING, "model: required key '%s' is missing", key);
        *out = dflt;
        return ET_OK;
    }
    int64_t v;
    switch (kv->type) {
    case GGUF_BOOL: case GGUF_U8: case GGUF_U16: case GGUF_U32: case GGUF_U64:
        v = kv->v.u > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)kv->v.u;
        break;
    case GGUF_I8: case GGUF_I16: case GGUF_I32: case GGUF_I64:
        v = kv->v.i;
        break;
    default:
        return et__fail(err, ET_ERR_CORRUPT, "model: key '%s' is a %s, expected an integer", key,
                        gguf_value_type_name(kv->type));
    }
    if (v < lo || v > hi)
        return et__fail(err, ET_ERR_CORRUPT, "model: key '%s' is %lld, outside %lld..%lld", key, (long long)v,
                        (long long)lo, (long long)hi);
    *out = v;
    return ET_OK;
}

et_status gguf_get_float(const gguf_file *f, const char *key, double dflt, double *out, et_error *err) {
    const gguf_kv *kv = gguf_find_kv(f, key);
    if (!kv) {
        *out = dflt;
        return ET_OK;
    }
    if (kv->type != GGUF_F32 && kv->type != GGUF_F64)
        return et__fail(err, ET_ERR_CORRUPT, "model: key '%s' is a %s, expected a float", key, gguf_value_type_name(kv->type));
    if (!isfinite(kv->v.f)) return et__fail(err, ET_ERR_CORRUPT, "model: key '%s' is not finite", key);
    *out = kv->v.f;
    return ET_OK;
}

et_status gguf_get_bool(const gguf_file *f, const char *key, int dflt, int *out, et_error *err) {
    const gguf_kv *kv = gguf_find_kv(f, key);
    if (!kv) {
        *out = dflt;
        return ET_OK;
    }
    if (kv->type != GGUF_BOOL)
        return et__fail(err, ET_ERR_CORRUPT, "model: key '%s' is a %s, expected a bool", key, gguf_value_type_name(kv->type));
    *out = (int)kv->v.u;
    return ET_OK;
}

et_status gguf_get_str(const gguf_file *f, const char *key, int required, gguf_str *out, et_error *err) {
    const gguf_kv *kv = gguf_find_kv(f, key);
    out->ptr = NULL;
    out->len = 0;
    if (!kv) return required ? et__fail(err, ET_ERR_MISSING, "model: required key '%s' is missing", key) : ET_OK;
    if (kv->type != GGUF_STRING)
        return et__fail(err, ET_ERR_CORRUPT, "model: key '%s' is a %s, expected a string", key, gguf_value_type_name(kv->type));
    *out = kv->v.s;
    return ET_OK;
}

et_status gguf_get_str_array(const gguf_file *f, const char *key, int required, const gguf_array **out, et_error *err) {
    const gguf_kv *kv = gguf_find_kv(f, key);
    *out = NULL;
    if (!kv) return required ? et__fail(err, ET_ERR_MISSING, "model: required key '%s' is missing", key) : ET_OK;
    if (kv->type != GGUF_ARRAY || kv->v.a.type != GGUF_STRING)
        return et__fail(err, ET_ERR_CORRUPT, "model: key '%s' is not an array of strings", key);
    *out = &kv->v.a;
    return ET_OK;
}

const gguf_kv *gguf_find_kv(const gguf_file *f, const char *key) {
    for (uint64_t i = 0; i < f->n_kv; i++)
        if (gguf_str_eq(f->kv[i].key, key)) return &f->kv[i];
    return NULL;
}

const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name) {
    for (uint64_t i = 0; i < f->n_tensors; i++)
        if (gguf_str_eq(f->tensors[i].name, name)) return &f->tensors[i];
    return NULL;
}

void gguf_free(gguf_file *f) {
    if (!f) return;
    free(f->kv);
    free(f->tensors);
    f->kv = NULL;
    f->tensors = NULL;
    f->n_kv = f->n_tensors = 0;
}

static et_status parse_kvs(gguf_file *f, cursor *c) {
    et_status s;
    for (uint64_t i = 0; i < f->n_kv; i++) {
        gguf_kv *kv = &f->kv[i];
        if ((s = rd_str(c, &kv->key, "a metadata key"))) return s;
        if (kv->key.len == 0)
            return et__fail(c->err, ET_ERR_CORRUPT, "gguf: metadata key %llu is empty", (unsigned long long)i);
        if ((s = rd_u32(c, &kv->type, "a metadata value type"))) return s;
        if (kv->type == GGUF_STRING) s = rd_str(c, &kv->v.s, "a string value");
        else if (kv->type == GGUF_ARRAY) s = rd_array(c, kv);
        else if (kv->type < GGUF_VALUE_TYPE_COUNT) s = rd_scalar(c, kv->type, kv);
        else s = et__fail(c->err, ET_ERR_CORRUPT, "gguf: key " STRF " has unknown value type %u", STRA(kv->key), kv->type);
        if (s) return s;
    }
    s = check_unique(&f->kv[0].key, f->n_kv, sizeof f->kv[0], "metadata key", c->err);
    if (s) return s;

    f->alignment = GGUF_DEFAULT_ALIGNMENT;
    const gguf_kv *al = gguf_find_kv(f, "general.alignment");
    if (al) {
        if (al->type != GGUF_U32)
            return et__fail(c->err, ET_ERR_CORRUPT, "gguf: general.alignment is a %s, not a u32", gguf_value_type_name(al->type));
        if (al->v.u == 0 || (al->v.u & (al->v.u - 1)) != 0 || al->v.u > (1u << 16))
            return et__fail(c->err, ET_ERR_CORRUPT, "gguf: general.alignment %llu is not a power of two up to 65536",
                            (unsigned long long)al->v.u);
        f->alignment = (uint32_t)al->v.u;
    }
    return ET_OK;
}

static et_status parse_tensor_info(gguf_file *f, cursor *c, gguf_tensor *t) {
    et_status s;
    if ((s = rd_str(c, &t->name, "a tensor name"))) return s;
    if (t->name.len == 0) return et__fail(c->err, ET_ERR_CORRUPT, "gguf: a tensor has an empty name");
    if ((s = rd_u32(c, &t->n_dims, "a tensor's dimension count"))) return s;
    if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS)
        return et__fail(c->err, ET_ERR_CORRUPT, "gguf: tensor " STRF " has %u dimensions (1..4 allowed)", STRA(t->name), t->n_dims);
    uint64_t n_elem = 1;
    for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) {
        uint64_t ne = 1;
        if (d < t->n_dims && (s = rd_u64(c, &ne, "a tensor dimension"))) return s;
        if (ne == 0 || ne > INT32_MAX)
            return et__fail(c->err, ET_ERR_CORRUPT, "gguf: tensor " STRF " has dimension %u of size %llu",
                            STRA(t->name), d, (unsigned long long)ne);
        if (!et__mul_u64(n_elem, ne, &n_elem))
            return et__fail(c->err, ET_ERR_CORRUPT, "gguf: tensor " STRF "'s element count overflows", STRA(t->name));
        t->ne[d] = (int64_t)ne;
    }
    if ((s = rd_u32(c, &t->type, "a tensor type")) || (s = rd_u64(c, &t->offset, "a tensor offset"))) return s;
    uint32_t block, block_bytes;
    if (!gguf_type_block(t->type, &block, &block_bytes))
        return et__fail(c->err, ET_ERR_UNSUPPORTED, "gguf: tensor " STRF " has unknown type %u", STRA(t->name), t->type);
    if (t->ne[0] % block != 0)
        return et__fail(c->err, ET_ERR_CORRUPT, "gguf: tensor " STRF " of type %s has rows of %lld, not a multiple of its block %u",
                        STRA(t->name), gguf_type_name(t->type), (long long)t->ne[0], block);
    if (!et__mul_u64(n_elem / block, block_bytes, &t->n_bytes))
        return et__fail(c->err, ET_ERR_CORRUPT, "gguf: tensor " STRF "'s byte size overflows", STRA(t->name));
    (void)f;
    return ET_OK;
}

et_status gguf_check_header(const void *data, size_t size, et_error *err) {
    cursor c = {.base = data, .size = size, .pos = 0, .err = err};
    uint32_t magic, version;
    et_status s = rd_u32(&c, &magic, "the magic");
    if (s) return s;
    if (magic != 0x46554747u) /* "GGUF" */
        return et__fail(err, ET_ERR_BAD_MAGIC, "gguf: bad magic 0x%08x (expected \"GGUF\" = 0x46554747)", magic);
    if ((s = rd_u32(&c, &version, "the version"))) return s;
    if (version != 2 && version != 3)
        return et__fail(err, ET_ERR_BAD_VERSION, "gguf: version %u is not supported (2 and 3 are)", version);
    return ET_OK;
}

et_status gguf_parse(gguf_file *f, const void *data, size_t size, et_error *err) {
    memset(f, 0, sizeof *f);
    if (!data && size) return et__fail(err, ET_ERR_INVALID_ARGUMENT, "gguf: NULL buffer of %zu bytes", size);
    cursor c = {.base = data, .size = size, .pos = 0, .err = err};
    f->base = data;
    f->size = size;

    et_status s = gguf_check_header(data, size, err);
    if (s) return s;
    c.pos = 4;
    if ((s = rd_u32(&c, &f->version, "the version"))) return s;
    if ((s = rd_u64(&c, &f->n_tensors, "the tensor count")) || (s = rd_u64(&c, &f->n_kv, "the metadata count")))
        return s;

    /* Smallest encodings: a kv is a 1-byte key (8 + 1), a type (4) and a u8 (1); a tensor info is a
     * 1-byte name (8 + 1), n_dims (4), one dim (8), a type (4) and an offset (8). A count that cannot
     * fit is a cut file when it is plausible, and corruption when no real file could have it. */
    if (f->n_kv > remaining(&c) / 14 || f->n_tensors > (remaining(&c) - f->n_kv * 14) / 33) {
        const int absurd = f->n_kv > GGUF_MAX_COUNT || f->n_tensors > GGUF_MAX_COUNT;
        return et__fail(err, absurd ? ET_ERR_CORRUPT : ET_ERR_TRUNCATED,
                        "gguf: %llu metadata keys and %llu tensors cannot fit in %zu bytes", (unsigned long long)f->n_kv,
                        (unsigned long long)f->n_tensors, size);
    }
    f->kv = calloc(f->n_kv ? (size_t)f->n_kv : 1, sizeof *f->kv);
    f->tensors = calloc(f->n_tensors ? (size_t)f->n_tensors : 1, sizeof *f->tensors);
    if (!f->kv || !f->tensors) {
        s = et__fail(err, ET_ERR_OUT_OF_MEMORY, "gguf: no memory for %llu keys and %llu tensors",
                     (unsigned long long)f->n_kv, (unsigned long long)f->n_tensors);
        goto fail;
    }
    if ((s = parse_kvs(f, &c))) goto fail;

    for (uint64_t i = 0; i < f->n_tensors; i++)
        if ((s = parse_tensor_info(f, &c, &f->tensors[i]))) goto fail;
    if ((s = check_unique(&f->tensors[0].name, f->n_tensors, sizeof f->tensors[0], "tensor name", err))) goto fail;

    /* The data section starts at the next multiple of the alignment. Tensors are laid out in table
     * order, each at the padded end of the one before (as llama.cpp writes and requires), and at most
     * the last tensor's padding may follow the data: a count or table that was misread cannot pass. */
    f->data_offset = (c.pos + f->alignment - 1) / f->alignment * f->alignment;
    uint64_t expected = 0, end = 0;
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        gguf_tensor *t = &f->tensors[i];
        if (t->offset != expected) {
            s = et__fail(err, ET_ERR_CORRUPT,
                         "gguf: tensor " STRF " starts at data offset %llu, expected %llu%s", STRA(t->name),
                         (unsigned long long)t->offset, (unsigned long long)expected,
                         t->offset % f->alignment ? " (not a multiple of the alignment)" : "");
            goto fail;
        }
        uint64_t start;
        if (!et__add_u64(f->data_offset, t->offset, &start) || !et__add_u64(start, t->n_bytes, &end) || end > size) {
            s = et__fail(err, ET_ERR_TRUNCATED, "gguf: tensor " STRF " (%llu bytes at data offset %llu) runs past the end of the %zu-byte buffer",
                         STRA(t->name), (unsigned long long)t->n_bytes, (unsigned long long)t->offset, size);
            goto fail;
        }
        t->data = f->base + start;
        const uint64_t padded = (t->n_bytes + f->alignment - 1) / f->alignment * f->alignment;
        if (!et__add_u64(expected, padded, &expected)) {
            s = et__fail(err, ET_ERR_CORRUPT, "gguf: the data section's size overflows");
            goto fail;
        }
    }
    if (f->n_tensors && size - end >= f->alignment) {
        s = et__fail(err, ET_ERR_CORRUPT, "gguf: %llu bytes follow the last tensor's data; at most %u bytes of padding may",
                     (unsigned long long)(size - end), f->alignment - 1);
        goto fail;
    }
    return ET_OK;

fail:
    gguf_free(f);
    return s;
}
