/*
 * memory.c — the cap on the WebAssembly build's memory (et_memory_set_limit).
 *
 * In wasm32 every allocation comes from the module's one linear memory: wasi-libc's malloc (dlmalloc) asks for
 * more through sbrk(), which grows the memory by whole 64 KiB pages, and a grown memory never shrinks. This file
 * defines sbrk() itself (the linker then takes it instead of wasi-libc's, which does the same without a cap), so
 * that a growth past the cap fails like any exhausted memory: malloc returns NULL and the call that needed it
 * returns ET_ERR_OUT_OF_MEMORY, leaving everything it did not make as it was. Natively the C library's allocator
 * is left alone: the cap is the WebAssembly build's.
 */
#include <stddef.h>
#include <stdint.h>

#include "edgetag.h"

#ifdef __wasm__
#include <errno.h>

#define PAGE 65536u

static size_t limit_pages; /* 0: no cap */

void *sbrk(intptr_t increment);

/* wasi-libc's contract: 0 gives the current break (the end of memory), a positive multiple of the page size grows
 * the memory by that much and returns the old end; anything else fails with errno set. */
void *sbrk(intptr_t increment) {
    const size_t pages = __builtin_wasm_memory_size(0);
    if (increment == 0) return (void *)(pages * PAGE);
    if (increment < 0 || (size_t)increment % PAGE) {
        errno = EINVAL;
        return (void *)-1;
    }
    const size_t more = (size_t)increment / PAGE;
    if (limit_pages && (more > limit_pages || pages > limit_pages - more)) {
        errno = ENOMEM;
        return (void *)-1;
    }
    const size_t old = __builtin_wasm_memory_grow(0, more);
    if (old == SIZE_MAX) {
        errno = ENOMEM;
        return (void *)-1;
    }
    return (void *)(old * PAGE);
}

size_t et_memory_set_limit(size_t bytes) {
    limit_pages = bytes && bytes < PAGE ? 1 : bytes / PAGE;
    return limit_pages * PAGE;
}
#else
size_t et_memory_set_limit(size_t bytes) {
    (void)bytes;
    return 0;
}
#endif
