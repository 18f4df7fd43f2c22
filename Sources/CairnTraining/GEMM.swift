import CBLAS

/// Every `cblas_*` call of the codebase (training, evaluation, `cairn bench`), behind shape checks: OpenBLAS prints a message and
/// returns on a bad leading dimension instead of trapping, which would leave stale numbers in the
/// output. BLAS results are not bit-reproducible across kernels or thread counts, so nothing that
/// enters ledger state goes through here (aggregation has its own fixed-order loops).
public enum GEMM {
    /// `c[m×n] = a' · b' + beta · c`, all row-major, where `a'` is `a[m×k]` or, transposed, `a` stored
    /// as `[k×m]`; likewise `b'` is `b[k×n]` or `b` stored as `[n×k]`.
    public static func multiply(
        _ a: UnsafePointer<Float>, transposeA: Bool,
        _ b: UnsafePointer<Float>, transposeB: Bool,
        into c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, beta: Float = 0
    ) {
        precondition(m > 0 && n > 0 && k > 0 && m <= Int(Int32.max) && n <= Int(Int32.max) && k <= Int(Int32.max),
                     "GEMM shape \(m)×\(n)×\(k) out of range")
        // Leading dimension = the row length of each matrix as stored.
        let lda = transposeA ? m : k
        let ldb = transposeB ? k : n
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), beta, c, Int32(n))
    }

    /// OpenBLAS threads for this process. A node evaluates on one thread per evaluation and runs
    /// several in parallel; a single local training run may use every core.
    public static func setThreads(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, min(count, 256))))
    }
}

public enum BLASThreads {
    /// Sets OpenBLAS's thread count for the whole process (call before training starts).
    public static func set(_ count: Int) { GEMM.setThreads(count) }
}
