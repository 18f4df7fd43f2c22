import CairnAllocator

/// The process's allocator as the node sees it: jemalloc, linked in by CairnAllocator (D44), with
/// its statistics for `/metrics`. Under glibc malloc these report nothing.
public enum ProcessMemory {
    /// "jemalloc" when malloc answers jemalloc's control interface, else "system".
    public static var allocator: String { cairn_allocator_is_jemalloc() == 1 ? "jemalloc" : "system" }

    public struct Stats: Sendable {
        /// Bytes handed out to the program.
        public var allocated: UInt64
        /// Bytes of allocator pages resident in memory (allocated plus not yet purged).
        public var resident: UInt64
        /// Address space kept mapped but returned to the system.
        public var retained: UInt64
    }

    public static func stats() -> Stats? {
        var allocated: UInt64 = 0, resident: UInt64 = 0, retained: UInt64 = 0
        guard cairn_allocator_stats(&allocated, &resident, &retained) == 1 else { return nil }
        return Stats(allocated: allocated, resident: resident, retained: retained)
    }
}
