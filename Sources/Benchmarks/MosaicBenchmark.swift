import DurationSeconds
import Imaging

/// Times mosaic preview frames (render and PNG encode) of a simulated generation, for `enat bench`.
public enum MosaicBenchmark {
    /// Per-frame cost of mosaic previews, averaged over a simulated generation.
    public struct Result: Sendable, CustomStringConvertible {
        public let frames: Int
        /// Mean time to render one frame, milliseconds.
        public let renderMilliseconds: Double
        /// Mean time to PNG-encode one frame, milliseconds.
        public let encodeMilliseconds: Double
        /// Mean encoded frame size, bytes.
        public let meanBytes: Int

        /// Render plus encode, milliseconds per frame.
        public var frameMilliseconds: Double { renderMilliseconds + encodeMilliseconds }

        public var description: String {
            // Microsecond resolution, three decimals.
            func format(_ value: Double) -> String {
                let micros = Int(value * 1000 + 0.5)
                let fraction = String(micros % 1000)
                return "\(micros / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
            }
            return "\(frames) frames: render \(format(renderMilliseconds)) ms + encode "
                + "\(format(encodeMilliseconds)) ms = \(format(frameMilliseconds)) ms/frame, \(meanBytes) bytes"
        }
    }

    /// Times `frames` preview frames of a simulated generation: random codes revealed in a
    /// random order, more each frame, as the sampler does. Deterministic input, so runs are
    /// comparable. For the CLI; build in release mode for meaningful numbers.
    public static func run(
        outputSize: Int = 256, gridSide: Int = 16, codebookSize: Int = 1024, frames: Int = 200,
        compression: PNGCompression = MosaicRenderer.previewCompression
    ) throws(PNGError) -> Result {
        precondition(frames > 0 && codebookSize > 0, "need at least one frame and one code")
        let renderer = MosaicRenderer(
            colors: .hashed(codebookSize: codebookSize),
            gridSide: gridSide, outputSize: outputSize)
        let cells = gridSide * gridSide
        var random: UInt64 = 0x5EED
        func next() -> Int {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: random >> 33)
        }
        let tokens = (0..<cells).map { _ in Int32(next() % codebookSize) }
        var order = Array(0..<cells)
        for index in stride(from: cells - 1, to: 0, by: -1) {
            order.swapAt(index, next() % (index + 1))
        }

        let clock = ContinuousClock()
        var renderTime = Duration.zero, encodeTime = Duration.zero
        var totalBytes = 0
        var revealed = [Bool](repeating: false, count: cells)
        for frame in 0..<frames {
            for index in order.prefix((frame + 1) * cells / frames) { revealed[index] = true }
            let renderStart = clock.now
            let image = renderer.render(tokens: tokens, revealed: revealed)
            let encodeStart = clock.now
            let png = try PNGEncoder.encode(image, compression: compression)
            let encodeEnd = clock.now
            renderTime += encodeStart - renderStart
            encodeTime += encodeEnd - encodeStart
            totalBytes += png.count
        }
        func meanMilliseconds(_ duration: Duration) -> Double { duration.inSeconds * 1e3 / Double(frames) }
        return Result(
            frames: frames, renderMilliseconds: meanMilliseconds(renderTime), encodeMilliseconds: meanMilliseconds(encodeTime),
            meanBytes: totalBytes / frames)
    }
}
