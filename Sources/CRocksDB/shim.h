#include <rocksdb/c.h>
// glibc's allocator controls (mallopt, malloc_trim) for CairnStorage's ProcessMemory: RocksDB's
// memtables and block cache are most of what a node allocates.
#include <malloc.h>
