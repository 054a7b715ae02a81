// Mirrors the official ENAT transformer forward (LeapLabTHU/ENAT `libs/nat.py`), see
// spec/enat-model.md: encoder on visible (or newly revealed) tokens, decoder on masked ones.
import Tensors

/// The ENAT transformer, run on ragged batches: every item of a batch may sit at a different
/// sampler step, with or without reuse state. Each linear layer runs as ONE GEMM over the
/// tokens of all items; attention runs per item.
///
/// Owned by one inference thread: it keeps scratch buffers and caches between calls.
public final class ENATTransformer {
    public let weights: ENATWeights
    public var config: ENATConfiguration { weights.config }

    /// Dispatch workers for the element-wise passes (norms, modulation, GELU, softmax) between
    /// GEMMs, while OpenBLAS's own threads are idle.
    public var elementwiseThreads: Int = 2 {
        didSet { workspace = GEMMWorkspace(threads: elementwiseThreads) }
    }

    /// bf16 GEMMs' rounded inputs, and their worker count (`elementwiseThreads`).
    private var workspace = GEMMWorkspace(threads: 2)

    /// adaLN modulations per label, `[depth, 8D]`: a function of the label only, so computed once.
    private var modulationCache: [Int: FloatBuffer] = [:]
    private static let modulationCacheLimit = 256

    // Scratch memory, grown to the largest batch and then reused.
    private var encoderTokens = ScratchBuffer()  // [rows, D] self tokens of the encoder
    private var encoderContext = ScratchBuffer()  // [rows, D] projected previous features
    private var decoderTokens = ScratchBuffer()  // [rows, D] masked tokens
    private var visibleTokens = ScratchBuffer()  // [rows, D] decoder context
    private var normed = ScratchBuffer()
    private var normedContext = ScratchBuffer()
    private var contextNorm = ScratchBuffer()
    private var queries = ScratchBuffer()
    private var contextKeyValues = ScratchBuffer()
    private var textContextKeyValues = ScratchBuffer()  // caption models: [T | context] keys/values per item
    private var attended = ScratchBuffer()
    private var hidden = ScratchBuffer()
    private var scores = ScratchBuffer()
    private var headInput = ScratchBuffer()
    private var logitBuffer = ScratchBuffer()

    /// Floating-point operations issued so far (2 per multiply-add, GEMMs and attention):
    /// what `enat bench` reports GFLOP/s from.
    public private(set) var operationCount: Double = 0

    public init(weights: ENATWeights) {
        self.weights = weights
    }

    /// Where one item's rows sit in the concatenated buffers.
    struct Plan {
        var visible: [Int] = []  // positions not masked now, in order
        var masked: [Int] = []  // positions masked now
        var old: [Int] = []  // reuse: visible before (context of the encoder)
        var new: [Int] = []  // reuse: visible now, masked before; without reuse: = visible
        var encoderStart = 0, contextStart = 0, decoderStart = 0, visibleStart = 0
        var logitPositions: [Int] = []
        var logitStart = 0
        var modulation: UnsafePointer<Float>! = nil
    }

    /// Validates and plans a batch; throws before any state is touched.
    private func plan(_ items: [ForwardItem]) throws(ENATError) -> [Plan] {
        let c = config, mask = c.maskToken
        var plans: [Plan] = []
        plans.reserveCapacity(items.count)
        var encoderRows = 0, contextRows = 0, decoderRows = 0, visibleRows = 0, logitRows = 0
        for (index, item) in items.enumerated() {
            guard item.ids.count == c.tokenCount else {
                throw .invalidInput("item \(index) has \(item.ids.count) ids, expected \(c.tokenCount)")
            }
            if let text = item.text {
                guard text.owner == ObjectIdentifier(self), text.hiddenSize == c.hiddenSize, text.depth == c.depth else {
                    throw .invalidInput("item \(index) has a text condition made by another transformer")
                }
            } else if weights.isCaptionModel {
                throw .invalidInput("item \(index) has no text condition, which a caption model needs")
            } else {
                guard (0...c.numClasses).contains(item.label) else {
                    throw .invalidInput("item \(index) has label \(item.label), expected 0...\(c.numClasses)")
                }
            }
            guard item.state.tokenCount == c.tokenCount, item.state.hiddenSize == c.hiddenSize else {
                throw .invalidInput("item \(index) has a stream state of another model shape")
            }
            var p = Plan()
            let reuse = item.state.isValid
            for (position, id) in item.ids.enumerated() {
                guard id >= 0 && id <= mask else { throw .invalidInput("item \(index) has token id \(id) at \(position)") }
                if id == mask {
                    p.masked.append(position)
                    if reuse && !item.state.masking[position] {
                        throw .invalidInput("item \(index): position \(position) is masked again after being revealed")
                    }
                } else {
                    p.visible.append(position)
                    if reuse && !item.state.masking[position] { p.old.append(position) } else { p.new.append(position) }
                }
            }
            p.encoderStart = encoderRows; encoderRows += p.new.count
            p.contextStart = contextRows; contextRows += p.old.count
            p.decoderStart = decoderRows; decoderRows += p.masked.count
            p.visibleStart = visibleRows; visibleRows += p.visible.count
            switch item.logits {
            case .none: p.logitPositions = []
            case .masked: p.logitPositions = p.masked
            case .all: p.logitPositions = Array(0..<c.tokenCount)
            }
            p.logitStart = logitRows; logitRows += p.logitPositions.count
            plans.append(p)
        }
        return plans
    }

    /// Runs one forward over a ragged batch. Each item's state is read as `prev` when valid and
    /// replaced by this forward's features and masking. Returns each item's logits.
    public func forward(_ items: [ForwardItem]) throws(ENATError) -> [LogitsView] {
        var plans = try plan(items)
        // bf16: the linear layers' workers and the attention heads' own the cores; OpenBLAS
        // (attention's small GEMMs) runs in the calling worker, so no spinning pool competes.
        let blasThreads = BLAS.threads
        if weights.precision == .bf16 && blasThreads != 1 { BLAS.setThreads(1) }
        defer { if BLAS.threads != blasThreads { BLAS.setThreads(blasThreads) } }
        let c = config, d = c.hiddenSize
        let w = weights

        // Labels' modulations: the missing ones in one GEMM per block; the buffers are held
        // here so that no cache eviction can free them during this forward.
        let labelModulations = modulations(for: items.compactMap { $0.text == nil ? $0.label : nil })
        for index in plans.indices {
            plans[index].modulation =
                items[index].text.map { UnsafePointer($0.modulations.pointer) }
                ?? UnsafePointer(labelModulations[items[index].label]!.pointer)
        }
        let encoderRows = plans.last.map { $0.encoderStart + $0.new.count } ?? 0
        let contextRows = plans.last.map { $0.contextStart + $0.old.count } ?? 0
        let decoderRows = plans.last.map { $0.decoderStart + $0.masked.count } ?? 0
        let visibleRows = plans.last.map { $0.visibleStart + $0.visible.count } ?? 0

        let enc = encoderTokens.reserve(encoderRows * d)
        let ctx = encoderContext.reserve(contextRows * d)
        let dec = decoderTokens.reserve(decoderRows * d)
        let vis = visibleTokens.reserve(visibleRows * d)

        // 1. Embeddings of the tokens that enter blocks; previous features of reused ones.
        for (item, p) in zip(items, plans) {
            embed(ids: item.ids, positions: p.new, into: enc + p.encoderStart * d)
            embed(ids: item.ids, positions: p.masked, into: dec + p.decoderStart * d)
            let features = UnsafePointer(item.state.features.pointer)
            for (row, position) in p.old.enumerated() {
                (ctx + (p.contextStart + row) * d).update(from: features + position * d, count: d)
            }
        }
        if contextRows > 0 { previousProjection(ctx, rows: contextRows) }

        // 2. Encoder on new tokens, with the previous visible tokens as context when reusing.
        if encoderRows > 0 {
            let segments = plans.map {
                Segment(
                    selfStart: $0.encoderStart, selfCount: $0.new.count, contextStart: $0.contextStart, contextCount: $0.old.count,
                    modulation: $0.modulation)
            }.enumerated().map { $1.with(text: items[$0].text) }
            let normalized = contextNorm.reserve(contextRows * d)
            parallelLayerNorm(ctx, rows: contextRows, into: normalized)
            for k in 0..<c.encoderDepth {
                runBlock(k, tokens: enc, rows: encoderRows, normalizedContext: normalized, contextRows: contextRows, segments: segments)
            }
        }

        // 3. Visible tokens in position order: encoder output at new positions, context at old.
        for p in plans {
            var newIndex = 0, oldIndex = 0
            for (row, position) in p.visible.enumerated() {
                let target = vis + (p.visibleStart + row) * d
                if newIndex < p.new.count && p.new[newIndex] == position {
                    target.update(from: enc + (p.encoderStart + newIndex) * d, count: d)
                    newIndex += 1
                } else {
                    target.update(from: ctx + (p.contextStart + oldIndex) * d, count: d)
                    oldIndex += 1
                }
            }
        }

        // 4. Decoder on masked tokens with all visible tokens as context.
        if decoderRows > 0 {
            let segments = plans.map {
                Segment(
                    selfStart: $0.decoderStart, selfCount: $0.masked.count, contextStart: $0.visibleStart, contextCount: $0.visible.count,
                    modulation: $0.modulation)
            }.enumerated().map { $1.with(text: items[$0].text) }
            let normalized = contextNorm.reserve(visibleRows * d)
            parallelLayerNorm(vis, rows: visibleRows, into: normalized)
            for k in c.encoderDepth..<c.depth {
                runBlock(k, tokens: dec, rows: decoderRows, normalizedContext: normalized, contextRows: visibleRows, segments: segments)
            }
        }

        // 5. Features back at their positions: the state for the next step.
        for (item, p) in zip(items, plans) {
            let features = item.state.features.pointer
            for (row, position) in p.visible.enumerated() {
                (features + position * d).update(from: vis + (p.visibleStart + row) * d, count: d)
            }
            for (row, position) in p.masked.enumerated() {
                (features + position * d).update(from: dec + (p.decoderStart + row) * d, count: d)
            }
            item.state.masking = item.ids.map { $0 == c.maskToken }
            item.state.isValid = true
        }

        // 6. The MLM head on the rows asked for.
        let logitRows = plans.last.map { $0.logitStart + $0.logitPositions.count } ?? 0
        let v = c.codebookSize
        let logits = logitBuffer.reserve(logitRows * v)
        if logitRows > 0 {
            let input = headInput.reserve(logitRows * d)
            for (item, p) in zip(items, plans) {
                let features = UnsafePointer(item.state.features.pointer)
                for (row, position) in p.logitPositions.enumerated() {
                    (input + (p.logitStart + row) * d).update(from: features + position * d, count: d)
                }
            }
            let h = hidden.reserve(logitRows * d)
            layerNorm(input, rows: logitRows, dim: d, eps: 1e-5, weight: w.finalNorm.weight.pointer, bias: w.finalNorm.bias.pointer, into: input)
            apply(w.mlmFC, input, rows: logitRows, into: h)
            Activation.geluErf(h, count: logitRows * d)
            layerNorm(h, rows: logitRows, dim: d, eps: 1e-5, weight: w.mlmNorm.weight.pointer, bias: w.mlmNorm.bias.pointer, into: h)
            // Tied output embedding; the mask token's column is dropped by computing only V columns.
            if let head = w.packedHead {
                head.apply(h, rows: logitRows, into: logits, workspace: workspace)
            } else {
                for r in 0..<logitRows { (logits + r * v).update(from: w.mlmBias.pointer, count: v) }
                BLAS.gemm(
                    transposeB: true, m: logitRows, n: v, k: d,
                    a: h, lda: d, b: w.wordEmbeddings.pointer, ldb: d, beta: 1, c: logits, ldc: v, weightB: true)
            }
            operationCount += 2 * Double(logitRows) * Double(d) * Double(v)
        }
        return plans.map {
            LogitsView(
                positions: $0.logitPositions,
                values: UnsafeBufferPointer(start: logits + $0.logitStart * v, count: $0.logitPositions.count * v),
                vocabulary: v)
        }
    }

    /// A linear layer over `rows` rows, counted.
    @inline(__always)
    private func apply(_ layer: LinearLayer, _ input: UnsafePointer<Float>, rows: Int, into output: UnsafeMutablePointer<Float>) {
        layer.linear.apply(input, rows: rows, into: output, workspace: workspace)
        operationCount += 2 * Double(rows) * Double(layer.linear.inFeatures) * Double(layer.linear.outFeatures)
    }

    /// `LN_affine(word[id] + position[p], 1e-6)` for the given positions.
    private func embed(ids: [Int32], positions: [Int], into output: UnsafeMutablePointer<Float>) {
        let d = config.hiddenSize, w = weights
        for (row, position) in positions.enumerated() {
            let target = output + row * d
            let word = w.wordEmbeddings.pointer + Int(ids[position]) * d
            let place = w.positionEmbeddings.pointer + position * d
            for i in 0..<d { target[i] = word[i] + place[i] }
        }
        layerNorm(output, rows: positions.count, dim: d, eps: 1e-6, weight: w.embedNorm.weight.pointer, bias: w.embedNorm.bias.pointer, into: output)
    }

    /// `prev_proj(z) = z + MLP(LN_affine(z, 1e-6))`, in place.
    private func previousProjection(_ z: UnsafeMutablePointer<Float>, rows: Int) {
        let d = config.hiddenSize, w = weights
        let n = normed.reserve(rows * d)
        let h = hidden.reserve(rows * config.mlpHidden)
        layerNorm(z, rows: rows, dim: d, eps: 1e-6, weight: w.prevNorm.weight.pointer, bias: w.prevNorm.bias.pointer, into: n)
        apply(w.prevFC1, n, rows: rows, into: h)
        Activation.geluTanh(h, count: rows * config.mlpHidden, threads: elementwiseThreads)
        apply(w.prevFC2, h, rows: rows, into: n)
        for i in 0..<(rows * d) { z[i] += n[i] }
    }

    /// The modulation vectors `[depth, 8D]` of each label: `adaLN_modulation.1(SiLU(c))` per
    /// block. Labels not cached yet are computed together, one GEMM per block (each block's
    /// adaLN weights are 8D x D: read once for all new labels instead of once per label).
    func modulations(for labels: [Int]) -> [Int: FloatBuffer] {
        var result: [Int: FloatBuffer] = [:]
        var missing: [Int] = []
        for label in labels where result[label] == nil {
            if let cached = modulationCache[label] { result[label] = cached } else if !missing.contains(label) { missing.append(label) }
        }
        guard !missing.isEmpty else { return result }
        let d = config.hiddenSize, n = missing.count
        if modulationCache.count + n > Self.modulationCacheLimit { modulationCache.removeAll(keepingCapacity: true) }
        let condition = FloatBuffer(count: n * d)
        for (row, label) in missing.enumerated() {
            // `plan` admits labels only on class models, which have the table.
            (condition.pointer + row * d).update(from: weights.classEmbeddings!.pointer + label * d, count: d)
        }
        Activation.silu(condition.pointer, count: n * d)
        let buffers = missing.map { _ in FloatBuffer(count: config.depth * 8 * d) }
        let blockOutput = FloatBuffer(count: n * 8 * d)
        for (k, block) in weights.blocks.enumerated() {
            apply(block.adaLN, condition.pointer, rows: n, into: blockOutput.pointer)
            for row in 0..<n { (buffers[row].pointer + k * 8 * d).update(from: blockOutput.pointer + row * 8 * d, count: 8 * d) }
        }
        for (label, buffer) in zip(missing, buffers) {
            modulationCache[label] = buffer
            result[label] = buffer
        }
        return result
    }

    /// One item's rows inside a block's concatenated inputs.
    struct Segment {
        let selfStart: Int, selfCount: Int
        let contextStart: Int, contextCount: Int
        let modulation: UnsafePointer<Float>  // [depth, 8D]
        /// Caption models: the text tokens that come first in this item's context.
        var text: TextCondition? = nil

        func with(text: TextCondition?) -> Segment {
            var copy = self
            copy.text = text
            return copy
        }
    }

    /// Block `k` on `tokens` (updated in place), with optional context rows.
    private func runBlock(
        _ k: Int, tokens x: UnsafeMutablePointer<Float>, rows: Int,
        normalizedContext: UnsafePointer<Float>, contextRows: Int, segments: [Segment]
    ) {
        let d = config.hiddenSize, block = weights.blocks[k]
        let hiddenWidth = config.mlpHidden
        // Modulation chunks, in the official order.
        let shift1 = 0, scale1 = d, shiftContext = 2 * d, scaleContext = 3 * d, gate1 = 4 * d
        let shift2 = 5 * d, scale2 = 6 * d, gate2 = 7 * d

        let h = normed.reserve(rows * d)
        forSegmentRows(segments, rows: rows, context: false) { s, range in
            let m = s.modulation + k * 8 * d
            normalizeModulate(
                x + range.lowerBound * d, rows: range.count, dim: d, shift: m + shift1, scale: m + scale1, into: h + range.lowerBound * d)
        }
        let qkv = queries.reserve(rows * 3 * d)  // rows of [q | k | v]
        apply(block.queryKeyValue, h, rows: rows, into: qkv)

        var contextKV: UnsafeMutablePointer<Float>? = nil
        if contextRows > 0 {
            // The context's layer norm is shared by all blocks; its modulation is not.
            // Every context row belongs to one segment: modulated out of place, no copy first.
            let cn = normedContext.reserve(contextRows * d)
            forSegmentRows(segments, rows: contextRows, context: true) { s, range in
                let m = s.modulation + k * 8 * d
                let offset = range.lowerBound * d
                modulate(normalizedContext + offset, rows: range.count, dim: d, shift: m + shiftContext, scale: m + scaleContext, into: cn + offset)
            }
            let ckv = contextKeyValues.reserve(contextRows * 2 * d)
            apply(block.kvContext, cn, rows: contextRows, into: ckv)
            contextKV = ckv
        }

        // Caption models: each item's text keys/values (precomputed per condition) go first,
        // then its context's; class items keep their rows where they are.
        var contextStarts = segments.map(\.contextStart), contextCounts = segments.map(\.contextCount)
        if segments.contains(where: { $0.text != nil }) {
            let total = segments.reduce(0) { $0 + ($1.text?.tokenCount ?? 0) + $1.contextCount }
            let combined = textContextKeyValues.reserve(total * 2 * d)
            var offset = 0
            for (index, s) in segments.enumerated() {
                contextStarts[index] = offset
                if let text = s.text {
                    (combined + offset * 2 * d).update(from: text.keyValues(block: k), count: text.tokenCount * 2 * d)
                    offset += text.tokenCount
                }
                if s.contextCount > 0, let contextKV {
                    (combined + offset * 2 * d).update(from: contextKV + s.contextStart * 2 * d, count: s.contextCount * 2 * d)
                    offset += s.contextCount
                }
                contextCounts[index] = offset - contextStarts[index]
            }
            contextKV = combined
        }

        let a = attended.reserve(rows * d)
        var largest = 0
        for (index, s) in segments.enumerated() { largest = max(largest, s.selfCount * (s.selfCount + contextCounts[index])) }
        let scoreBuffer = scores.reserve(largest * config.numHeads)
        for (index, s) in segments.enumerated() where s.selfCount > 0 {
            let contextCount = contextCounts[index]
            multiHeadAttention(
                queries: qkv + s.selfStart * 3 * d, rows: s.selfCount, queryStride: 3 * d,
                context: contextKV.map { UnsafePointer($0 + contextStarts[index] * 2 * d) }, contextRows: contextCount, contextStride: 2 * d,
                selfKeyValues: qkv + s.selfStart * 3 * d + d, selfRows: s.selfCount, selfStride: 3 * d,
                heads: config.numHeads, headDim: config.headDim,
                scores: scoreBuffer, into: a + s.selfStart * d, outputStride: d, threads: elementwiseThreads,
                headThreads: weights.precision == .bf16 ? elementwiseThreads : 1)
            operationCount += 4 * Double(s.selfCount) * Double(s.selfCount + contextCount) * Double(d)
        }
        apply(block.proj, a, rows: rows, into: h)
        // Gated residual, then norm2 and its modulation, in one pass over each row.
        forSegmentRows(segments, rows: rows, context: false) { s, range in
            let m = s.modulation + k * 8 * d
            let offset = range.lowerBound * d
            addGated(h + offset, gate: m + gate1, rows: range.count, dim: d, into: x + offset)
            normalizeModulate(x + offset, rows: range.count, dim: d, shift: m + shift2, scale: m + scale2, into: h + offset)
        }
        let f = hidden.reserve(rows * hiddenWidth)
        apply(block.fc1, h, rows: rows, into: f)
        Activation.geluTanh(f, count: rows * hiddenWidth, threads: elementwiseThreads)
        apply(block.fc2, f, rows: rows, into: h)
        forSegmentRows(segments, rows: rows, context: false) { s, range in
            let offset = range.lowerBound * d
            addGated(h + offset, gate: s.modulation + k * 8 * d + gate2, rows: range.count, dim: d, into: x + offset)
        }
    }

    /// Runs `body` on the rows of each segment (self rows, or context rows), the rows split over
    /// the element-wise workers; a range never straddles two segments.
    private func forSegmentRows(_ segments: [Segment], rows: Int, context: Bool, _ body: (Segment, Range<Int>) -> Void) {
        Parallel.ranges(rows, threads: elementwiseThreads, elementsPerItem: config.hiddenSize) { range in
            for s in segments {
                let start = context ? s.contextStart : s.selfStart, count = context ? s.contextCount : s.selfCount
                let lower = max(range.lowerBound, start), upper = min(range.upperBound, start + count)
                if lower < upper { body(s, lower..<upper) }
            }
        }
    }

    /// `LN(x, 1e-6)` without affine, rows split over the element-wise workers.
    private func parallelLayerNorm(_ x: UnsafePointer<Float>, rows: Int, into output: UnsafeMutablePointer<Float>) {
        let d = config.hiddenSize
        Parallel.ranges(rows, threads: elementwiseThreads, elementsPerItem: d) { range in
            let offset = range.lowerBound * d
            layerNorm(x + offset, rows: range.count, dim: d, eps: 1e-6, into: output + offset)
        }
    }
}

/// `x = x * (1 + scale) + shift` on each row.
@inline(__always)
func modulate(_ x: UnsafeMutablePointer<Float>, rows: Int, dim: Int, shift: UnsafePointer<Float>, scale: UnsafePointer<Float>) {
    modulate(x, rows: rows, dim: dim, shift: shift, scale: scale, into: x)
}

/// `y = x * (1 + scale) + shift` on each row (`x` and `y` may be the same memory).
@inline(__always)
func modulate(
    _ x: UnsafePointer<Float>, rows: Int, dim: Int, shift: UnsafePointer<Float>, scale: UnsafePointer<Float>,
    into y: UnsafeMutablePointer<Float>
) {
    for r in 0..<rows {
        let xr = x + r * dim, yr = y + r * dim
        for i in 0..<dim { yr[i] = xr[i] * (1 + scale[i]) + shift[i] }
    }
}

/// `y = modulate(LN(x, 1e-6, no affine), shift, scale)` on each row in one pass: the same
/// operations, in the same order, as the layer norm followed by `modulate`.
@inline(__always)
func normalizeModulate(
    _ x: UnsafePointer<Float>, rows: Int, dim: Int, shift: UnsafePointer<Float>, scale: UnsafePointer<Float>,
    into y: UnsafeMutablePointer<Float>
) {
    for r in 0..<rows {
        let xr = x + r * dim, yr = y + r * dim
        let mean = vectorSum(xr, count: dim) / Float(dim)
        let sq = vectorSquaredDeviation(xr, count: dim, mean: mean)
        let inv = 1 / (sq / Float(dim) + 1e-6).squareRoot()
        for i in 0..<dim { yr[i] = ((xr[i] - mean) * inv) * (1 + scale[i]) + shift[i] }
    }
}

/// `x += gate * y` on each row.
@inline(__always)
func addGated(_ y: UnsafePointer<Float>, gate: UnsafePointer<Float>, rows: Int, dim: Int, into x: UnsafeMutablePointer<Float>) {
    for r in 0..<rows {
        let xr = x + r * dim, yr = y + r * dim
        for i in 0..<dim { xr[i] += gate[i] * yr[i] }
    }
}
