/// Causal self-attention (CLIP's text tower): row `i` attends to rows `0...i`.
public func causalSelfAttention(
    queries: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
    rows: Int, stride: Int, heads: Int, headDim: Int,
    scores: UnsafeMutablePointer<Float>,  // at least rows * rows
    into output: UnsafeMutablePointer<Float>, outputStride: Int
) {
    guard rows > 0 else { return }
    let scale = 1 / Float(headDim).squareRoot()
    for h in 0..<heads {
        BLAS.gemm(
            transposeB: true, m: rows, n: rows, k: headDim, alpha: scale,
            a: queries + h * headDim, lda: stride, b: keys + h * headDim, ldb: stride,
            c: scores, ldc: rows)
        for i in 0..<rows {
            let row = scores + i * rows
            for j in (i + 1)..<max(i + 1, rows) { row[j] = -.infinity }
        }
        softmaxRows(scores, rows: rows, cols: rows)
        BLAS.gemm(
            m: rows, n: headDim, k: rows,
            a: scores, lda: rows, b: values + h * headDim, ldb: stride,
            c: output + h * headDim, ldc: outputStride)
    }
}

/// Multi-head attention of one sample: queries of its "self" tokens against keys and values
/// of an optional context part followed by the self part (ENAT's `kv.A` / `kv.B` split).
///
/// Key/value rows hold `[k | v]` (each `heads * headDim` wide) at the given row strides. The two
/// parts are never copied together: each head computes its score matrix in two column blocks.
/// The heads' score matrices lie side by side. With `headThreads` 1 the score GEMMs of all heads
/// run first (OpenBLAS's own threads split each), then ONE softmax pass over every head's rows
/// (split over `threads` Dispatch workers while BLAS is idle), then the value GEMMs. With
/// `headThreads` > 1 (OpenBLAS single-threaded, as in bf16 mode) the heads are split over that
/// many workers, each running its heads' GEMMs and softmax.
public func multiHeadAttention(
    queries: UnsafePointer<Float>, rows: Int, queryStride: Int,
    context: UnsafePointer<Float>?, contextRows: Int, contextStride: Int,
    selfKeyValues: UnsafePointer<Float>, selfRows: Int, selfStride: Int,
    heads: Int, headDim: Int,
    scores: UnsafeMutablePointer<Float>,  // at least heads * rows * (contextRows + selfRows)
    into output: UnsafeMutablePointer<Float>, outputStride: Int,
    threads: Int, headThreads: Int = 1
) {
    let width = heads * headDim
    let total = contextRows + selfRows
    guard rows > 0, total > 0 else { return }
    let scale = 1 / Float(headDim).squareRoot()
    let perHead = rows * total
    func scoreGEMMs(_ h: Int) {
        let q = queries + h * headDim, s = scores + h * perHead
        if let context, contextRows > 0 {
            BLAS.gemm(
                transposeB: true, m: rows, n: contextRows, k: headDim, alpha: scale,
                a: q, lda: queryStride, b: context + h * headDim, ldb: contextStride,
                c: s, ldc: total)
        }
        if selfRows > 0 {
            BLAS.gemm(
                transposeB: true, m: rows, n: selfRows, k: headDim, alpha: scale,
                a: q, lda: queryStride, b: selfKeyValues + h * headDim, ldb: selfStride,
                c: s + contextRows, ldc: total)
        }
    }
    func valueGEMMs(_ h: Int) {
        let s = scores + h * perHead, o = output + h * headDim
        var beta: Float = 0
        if let context, contextRows > 0 {
            BLAS.gemm(
                m: rows, n: headDim, k: contextRows,
                a: s, lda: total, b: context + width + h * headDim, ldb: contextStride,
                c: o, ldc: outputStride)
            beta = 1
        }
        if selfRows > 0 {
            BLAS.gemm(
                m: rows, n: headDim, k: selfRows,
                a: s + contextRows, lda: total, b: selfKeyValues + width + h * headDim, ldb: selfStride,
                beta: beta, c: o, ldc: outputStride)
        }
    }
    if headThreads > 1 {
        // Each worker owns whole heads: their score blocks and output columns are disjoint.
        Parallel.ranges(heads, threads: headThreads, elementsPerItem: max(1, rows * total * headDim / 16)) { range in
            for h in range { scoreGEMMs(h) }
            softmaxRows(scores + range.lowerBound * perHead, rows: range.count * rows, cols: total)
            for h in range { valueGEMMs(h) }
        }
        return
    }
    for h in 0..<heads { scoreGEMMs(h) }
    softmaxRows(scores, rows: heads * rows, cols: total, threads: threads)
    for h in 0..<heads { valueGEMMs(h) }
}
