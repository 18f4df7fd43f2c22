import CRocksDB

/// glibc's allocator keeps freed memory in per-thread arenas and returns little of it to the
/// system, so a long-running node's resident set creeps up with fragmentation even when what it
/// holds is bounded (tools/soak-memory). A node caps the arenas at start and hands free pages
/// back once a minute.
public enum ProcessMemory {
    /// At most `arenas` malloc arenas (glibc's default is 8 per core); call before threads start.
    public static func limitArenas(_ arenas: Int32 = 2) {
        _ = mallopt(M_ARENA_MAX, arenas)
    }

    /// Returns free heap pages to the system (a few milliseconds).
    public static func releaseFreePages() {
        _ = malloc_trim(0)
    }
}
