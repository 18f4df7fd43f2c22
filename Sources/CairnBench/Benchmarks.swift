import CairnCore
import CairnCrypto
import CairnLedger
import CairnStorage
import CairnTraining
import ConsensusSimulator
import Foundation

/// One measured figure next to the physical limit ARCHITECTURE §12 gives for this machine type.
public struct BenchmarkResult: Encodable, Sendable {
    public var name: String
    public var value: Double
    public var unit: String
    /// ARCHITECTURE §12's figure for this machine type, in the same unit (nil: none given).
    public var reference: Double?
    /// true when smaller is better (latencies).
    public var lowerIsBetter: Bool
    public var iterations: Int

    /// value ÷ reference, oriented so that 1.0 means "at the reference" and > 1 is better.
    public var ratioToReference: Double? {
        guard let reference, reference > 0, value > 0 else { return nil }
        return lowerIsBetter ? reference / value : value / reference
    }

    enum CodingKeys: String, CodingKey {
        case name, value, unit, reference, lowerIsBetter = "lower_is_better", iterations
        case ratioToReference = "ratio_to_reference"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(value, forKey: .value)
        try c.encode(unit, forKey: .unit)
        try c.encodeIfPresent(reference, forKey: .reference)
        try c.encode(lowerIsBetter, forKey: .lowerIsBetter)
        try c.encode(iterations, forKey: .iterations)
        try c.encodeIfPresent(ratioToReference, forKey: .ratioToReference)
    }
}

/// Micro-benchmarks behind `cairn bench crypto|storage|compute`. Each runs an operation until
/// `seconds` have passed (after a short warm-up) and reports the rate on one core.
public struct Benchmarks: Sendable {
    public var seconds: Double

    public init(seconds: Double = 1.0) { self.seconds = seconds }

    /// Runs `body` in rounds of `batch` calls until the time budget is spent; returns (calls, seconds).
    func measure(batch: Int = 1, _ body: () throws -> Void) rethrows -> (Int, Double) {
        let clock = ContinuousClock()
        for _ in 0 ..< max(1, batch / 4) { try body() }  // warm-up
        let start = clock.now
        var calls = 0
        var elapsed = 0.0
        repeat {
            for _ in 0 ..< batch { try body() }
            calls += batch
            let d = clock.now - start
            elapsed = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        } while elapsed < seconds
        return (calls, elapsed)
    }

    func rate(_ name: String, unit: String = "ops/s", reference: Double?, batch: Int = 1,
              _ body: () throws -> Void) rethrows -> BenchmarkResult {
        let (calls, elapsed) = try measure(batch: batch, body)
        return BenchmarkResult(name: name, value: Double(calls) / elapsed, unit: unit, reference: reference,
                               lowerIsBetter: false, iterations: calls)
    }

    func latency(_ name: String, reference: Double?, _ body: () throws -> Void) rethrows -> BenchmarkResult {
        let (calls, elapsed) = try measure(body)
        return BenchmarkResult(name: name, value: elapsed / Double(calls) * 1e6, unit: "µs", reference: reference,
                               lowerIsBetter: true, iterations: calls)
    }

    // MARK: Crypto

    public func crypto() throws -> [BenchmarkResult] {
        var results: [BenchmarkResult] = []
        let key = SigningKey.generate()
        let message = secureRandomBytes(128)
        results.append(rate("ed25519 sign (128-byte message)", reference: 40_000, batch: 64) {
            _ = key.sign(message)
        })
        let signature = key.sign(message)
        results.append(rate("ed25519 verify (128-byte message)", reference: 15_000, batch: 64) {
            precondition(key.publicKey.verify(signature, for: message))
        })

        let mebibyte = secureRandomBytes(1 << 20)
        let sha = rate("sha256 (1 MiB buffers)", unit: "GB/s", reference: 1.7, batch: 16) {
            _ = SHA256.hash(mebibyte)
        }
        results.append(BenchmarkResult(name: sha.name, value: sha.value * Double(1 << 20) / 1e9, unit: "GB/s",
                                       reference: 1.7, lowerIsBetter: false, iterations: sha.iterations))
        let small = secureRandomBytes(64)
        results.append(rate("sha256 (64-byte messages)", unit: "hashes/s", reference: nil, batch: 1024) {
            _ = SHA256.hash(small)
        })

        // The state root over 10,000 account-sized entries as a Merkle tree (D58), against one
        // SHA-256 pass over the same bytes (the flat root it replaced), measured in the same run.
        let entries = (0 ..< 10_000).map { _ in (key: Array("a/".utf8) + secureRandomBytes(32), value: secureRandomBytes(17)) }
            .sorted { $0.key.lexicographicallyPrecedes($1.key) }
        let flat = rate("state root, flat SHA-256 pass (10,000 entries)", unit: "roots/s", reference: nil) {
            let hasher = SHA256Hasher()
            for (key, value) in entries {
                var writer = CanonicalWriter(reservingCapacity: key.count + value.count + 8)
                writer.writeBytes(key)
                writer.writeBytes(value)
                hasher.update(writer.bytes)
            }
            _ = hasher.finalize()
        }
        results.append(flat)
        results.append(rate("state root, Merkle tree (10,000 entries)", unit: "roots/s", reference: flat.value) {
            _ = StateMerkle.root(entries)
        })

        // n = 7, f = 2: combine uses f+1 = 3 shares, the configuration ARCHITECTURE §3 quotes.
        let deal = try ThresholdCoin.deal(validators: 7, threshold: 3)
        let coin = try ThresholdCoin(chainID: "bench", threshold: 3, publicShares: deal.publicShares,
                                     commitments: deal.commitments)
        var wave: UInt64 = 1
        results.append(try latency("coin share + DLEQ proof", reference: 130) {
            wave += 1
            _ = try coin.makeShare(wave: wave, secret: deal.secretShares[0])
        })
        let shares = try deal.secretShares.prefix(3).map { try coin.makeShare(wave: 7, secret: $0) }
        results.append(try latency("coin share verify", reference: 210) {
            try coin.verify(shares[1], wave: 7)
        })
        results.append(try latency("coin combine (f+1 = 3 shares)", reference: 290) {
            _ = try coin.combine(shares, wave: 7)
        })
        return results
    }

    // MARK: Storage

    /// RocksDB rates with 32-byte keys and 256-byte values in batches of 100, as ARCHITECTURE §12 measured.
    public func storage(directory: String) throws -> [BenchmarkResult] {
        let path = directory + "/bench-\(UInt64.random(in: 0 ... .max))"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let database = try Database(path: path, columnFamilies: ["bench"])
        defer { database.close() }
        var counter: UInt64 = 0
        let value = [UInt8](repeating: 0xab, count: 256)
        func batchOf100() -> WriteBatch {
            var batch = WriteBatch()
            for _ in 0 ..< 100 {
                counter += 1
                batch.put("bench", SHA256.hash(StorageKey.uint64(counter)).bytes, value)
            }
            return batch
        }
        var results: [BenchmarkResult] = []
        results.append(try rate("rocksdb synced batches (100 puts each)", unit: "batches/s", reference: 1_300) {
            try database.write(batchOf100(), sync: true)
        })
        let unsynced = try rate("rocksdb unsynced puts (batches of 100)", unit: "puts/s", reference: 250_000, batch: 8) {
            try database.write(batchOf100(), sync: false)
        }
        results.append(BenchmarkResult(name: unsynced.name, value: unsynced.value * 100, unit: "puts/s",
                                       reference: 250_000, lowerIsBetter: false, iterations: unsynced.iterations * 100))
        results.append(try rate("rocksdb unsynced single puts", unit: "puts/s", reference: nil, batch: 256) {
            counter += 1
            try database.put("bench", SHA256.hash(StorageKey.uint64(counter)).bytes, value)
        })
        let probe = SHA256.hash(StorageKey.uint64(counter / 2)).bytes
        results.append(try rate("rocksdb point gets", unit: "gets/s", reference: nil, batch: 256) {
            _ = try database.get("bench", probe)
        })
        return results
    }

    // MARK: Compute

    /// OpenBLAS single-precision matrix multiply (512³) on one thread: the training engine's
    /// ceiling (ARCHITECTURE §12: 88–101 GFLOP/s per core).
    public func compute() -> [BenchmarkResult] {
        GEMM.setThreads(1)
        let n = 512
        let a = (0 ..< n * n).map { Float($0 % 7) * 0.25 }
        let b = (0 ..< n * n).map { Float($0 % 5) * 0.5 }
        var c = [Float](repeating: 0, count: n * n)
        let result = rate("sgemm 512 (OpenBLAS, 1 thread)", unit: "GFLOP/s", reference: 90) {
            GEMM.multiply(a, transposeA: false, b, transposeB: false, into: &c, m: n, n: n, k: n)
        }
        let flops = 2 * Double(n) * Double(n) * Double(n)
        return [BenchmarkResult(name: result.name, value: result.value * flops / 1e9, unit: "GFLOP/s",
                                reference: 90, lowerIsBetter: false, iterations: result.iterations)]
    }
}

// MARK: Consensus

extension Benchmarks {
    /// Certified vertices ordered per second of core CPU time, per validator, in an honest network
    /// with no loss or partitions (`seconds` of wall time caps the rounds run).
    public func consensus(validators sizes: [Int], rounds: UInt64) -> [BenchmarkResult] {
        sizes.map { n in
            var config = SimulationConfig(validators: n, byzantine: 0, behaviour: .honest, rounds: rounds, seed: 1)
            config.lossRate = 0
            config.allowPartitions = false
            config.recordsPerTick = 4
            var simulation = Simulation(config: config)
            let result = simulation.run()
            // Every validator orders every vertex: core seconds per validator vs vertices per validator.
            let perValidatorVertices = Double(result.verticesDelivered) / Double(n)
            let perValidatorSeconds = result.coreSeconds / Double(n)
            return BenchmarkResult(name: "DAG-Rider core, n = \(n) (vertices ordered per core-second)",
                                   value: perValidatorVertices / perValidatorSeconds, unit: "vertices/s", reference: nil,
                                   lowerIsBetter: false, iterations: Int(perValidatorVertices))
        }
    }
}
