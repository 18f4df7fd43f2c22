// Cairn's memory allocator: jemalloc instead of glibc malloc (docs/DECISIONS.md, D44).
//
// Under steady load glibc's arenas keep freed RocksDB blocks and Swift objects resident in
// partly used pages, and the node's resident set crept up for an hour even though everything it
// holds is bounded (tools/soak-memory). jemalloc (RocksDB's recommended allocator) sorts
// allocations by size class and returns unused pages to the system after a decay time.
//
// Linking libjemalloc into the executable makes its malloc/free the process's: the executable's
// own libraries come before libc in symbol lookup. `malloc_conf` is read by jemalloc at its first
// allocation.
#include <jemalloc/jemalloc.h>
#include <string.h>
#include "cairn_allocator.h"

// - background_thread: a jemalloc thread purges unused pages, so an idle node shrinks too.
// - dirty_decay_ms / muzzy_decay_ms: freed pages go back to the system within about a second
//   (default 10 s), which keeps the resident set close to what is allocated.
// - narenas: 2 per core is plenty for a node whose hot threads are a few NIO loops and RocksDB.
const char *malloc_conf = "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0,narenas:4";

int cairn_allocator_is_jemalloc(void) {
    const char *version = NULL;
    size_t size = sizeof(version);
    return mallctl("version", &version, &size, NULL, 0) == 0 && version != NULL;
}

int cairn_allocator_stats(uint64_t *allocated, uint64_t *resident, uint64_t *retained) {
    *allocated = 0;
    *resident = 0;
    *retained = 0;
    uint64_t epoch = 1;
    size_t epoch_size = sizeof(epoch);
    if (mallctl("epoch", &epoch, &epoch_size, &epoch, epoch_size) != 0) return 0;
    size_t value = 0, size = sizeof(value);
    if (mallctl("stats.allocated", &value, &size, NULL, 0) != 0) return 0;
    *allocated = value;
    size = sizeof(value);
    if (mallctl("stats.resident", &value, &size, NULL, 0) != 0) return 0;
    *resident = value;
    size = sizeof(value);
    if (mallctl("stats.retained", &value, &size, NULL, 0) != 0) return 0;
    *retained = value;
    return 1;
}
