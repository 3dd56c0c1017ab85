/*
 * model_file.c — the native file loader: check the file's size and its first bytes, then read the whole file
 * into memory the model then owns. Not part of the WebAssembly build (no file system there; the shim passes
 * bytes).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "gguf.h"
#include "internal.h"
#include "model.h"

/* The largest file the loaders read: tensor offsets and sizes reach the API as 32-bit values. */
#define ET_MAX_FILE_BYTES 0xFFFFFFFFull

/* Both file loaders; `fn` names the call in messages. The params are unused: the bytes are ours already,
 * nothing to borrow or copy. Nothing is allocated for a file that is not a GGUF model this engine reads
 * (its magic and version are read first) or that is larger than it could load. */
static et_status load_file(const char *fn, const char *path, int vocab_only, et_model **out, et_error *error) {
    if (!out) return et__fail(error, ET_ERR_INVALID_ARGUMENT, "%s: out is NULL", fn);
    *out = NULL;
    if (!path) return et__fail(error, ET_ERR_INVALID_ARGUMENT, "%s: path is NULL", fn);
    FILE *fp = fopen(path, "rb");
    if (!fp) return et__fail(error, ET_ERR_IO, "%s: cannot open '%s'", fn, path);
    struct stat st;
    long size = -1;
    if (fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode) && fseek(fp, 0, SEEK_END) == 0) size = ftell(fp);
    if (size < 0 || fseek(fp, 0, SEEK_SET) != 0) {
        fclose(fp);
        return et__fail(error, ET_ERR_IO, "%s: cannot size '%s' (not a regular file?)", fn, path);
    }
    unsigned char head[8];
    const size_t got_head = fread(head, 1, sizeof head, fp);
    et_status s = gguf_check_header(head, got_head, error);
    if (s == ET_OK && (unsigned long long)size > ET_MAX_FILE_BYTES)
        s = et__fail(error, ET_ERR_UNSUPPORTED, "%s: '%s' has %ld bytes; this engine reads files of at most 4 GiB", fn, path, size);
    if (s != ET_OK || fseek(fp, 0, SEEK_SET) != 0) {
        fclose(fp);
        return s ? s : et__fail(error, ET_ERR_IO, "%s: cannot rewind '%s'", fn, path);
    }
    void *buf = aligned_alloc(16, size > 0 ? ((size_t)size + 15) & ~(size_t)15 : 16);
    if (!buf) {
        fclose(fp);
        return et__fail(error, ET_ERR_OUT_OF_MEMORY, "%s: no memory for %ld bytes", fn, size);
    }
    const size_t got = fread(buf, 1, (size_t)size, fp);
    fclose(fp);
    if (got != (size_t)size) {
        free(buf);
        return et__fail(error, ET_ERR_IO, "%s: read %zu of %ld bytes of '%s'", fn, got, size, path);
    }
    return et__model_load_owned(buf, (size_t)size, vocab_only, out, error);
}

et_status et_model_load_from_file(const char *path, const et_model_params *params, et_model **out, et_error *error) {
    (void)params;
    return load_file("et_model_load_from_file", path, 0, out, error);
}

et_status et_model_load_vocab_from_file(const char *path, const et_model_params *params, et_model **out,
                                        et_error *error) {
    (void)params;
    return load_file("et_model_load_vocab_from_file", path, 1, out, error);
}
