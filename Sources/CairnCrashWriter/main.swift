// Child process of the RocksDB crash test (Tests/CairnStorageTests/CrashConsistencyTests.swift).
//
// Usage: CairnCrashWriter DB_PATH
// Opens the database, resumes after the last batch it finds, and writes numbered batches forever:
// batch n puts 8 keys "b/<n>/<k>" and sets "last" = n, in one synced WriteBatch. After each write
// returns it prints "ACK n" and flushes, so the parent knows batch n was acknowledged as durable.
// The parent kills it with SIGKILL at a random moment and checks that every acknowledged batch is
// complete and no batch is partial.
import CairnStorage
import Foundation

let arguments = CommandLine.arguments
guard arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: CairnCrashWriter DB_PATH\n".utf8))
    exit(2)
}
do {
    let database = try Database(path: arguments[1], columnFamilies: ["crash"])
    var next = (try database.get("crash", Array("last".utf8)).flatMap(StorageKey.uint64(from:)) ?? 0) + 1
    FileHandle.standardOutput.write(Data("START \(next)\n".utf8))
    while true {
        var batch = WriteBatch()
        for k in 0 ..< 8 {
            // Values are large enough that a batch spans several WAL blocks.
            batch.put("crash", Array("b/\(next)/\(k)".utf8), [UInt8](repeating: UInt8(truncatingIfNeeded: next &+ UInt64(k)), count: 512))
        }
        batch.put("crash", Array("last".utf8), StorageKey.uint64(next))
        try database.write(batch, sync: true)
        FileHandle.standardOutput.write(Data("ACK \(next)\n".utf8))
        next += 1
    }
} catch {
    FileHandle.standardError.write(Data("CairnCrashWriter: \(error)\n".utf8))
    exit(1)
}
