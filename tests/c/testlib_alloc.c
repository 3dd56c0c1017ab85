/*
 * testlib_alloc.c — allocation counters and failure injection for the native unit tests, which link
 * with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=aligned_alloc (see testlib.h).
 */
#include <stddef.h>

#include "testlib.h"

static long alloc_calls;
static long fail_countdown;
static size_t largest;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t align, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_aligned_alloc(size_t align, size_t n);

static int should_fail_n(size_t n) {
    if (n > largest) largest = n;
    alloc_calls++;
    return fail_countdown > 0 && --fail_countdown == 0;
}

void *__wrap_malloc(size_t n) { return should_fail_n(n) ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t size) { return should_fail_n(n * size) ? NULL : __real_calloc(n, size); }
void *__wrap_realloc(void *p, size_t n) { return should_fail_n(n) ? NULL : __real_realloc(p, n); }
void *__wrap_aligned_alloc(size_t align, size_t n) { return should_fail_n(n) ? NULL : __real_aligned_alloc(align, n); }

long tl_alloc_calls(void) { return alloc_calls; }
void tl_fail_allocation(long n) { fail_countdown = n; }
size_t tl_alloc_largest(void) { return largest; }
void tl_alloc_largest_reset(void) { largest = 0; }

