#ifndef CAIRN_ALLOCATOR_H
#define CAIRN_ALLOCATOR_H
#include <stdint.h>

/// Bytes the application holds (jemalloc `stats.allocated`) and bytes of physically resident
/// allocator pages (`stats.resident`), refreshed on each call; 0 and 0 if jemalloc is not the
/// process's allocator. Returns 1 when jemalloc answered.
int cairn_allocator_stats(uint64_t *allocated, uint64_t *resident, uint64_t *retained);

/// Whether malloc in this process is jemalloc (checked by asking it, not assumed from linking).
int cairn_allocator_is_jemalloc(void);

#endif
