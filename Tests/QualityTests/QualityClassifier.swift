import Foundation
import ModelFiles
import Tensors

/// The quality classifier of the demo models (`Models/quality-classifier`, trained by
/// `tools/train/classifier.py` on real images of the same procedural generator): it names the
/// shape, colour, size and position of a 64x64 image.
///
/// Network: the image's [0, 1] RGB values averaged over 2x2 blocks to 32x32x3, flattened in
/// (y, x, channel) order, then `fc1` 3072->256, ReLU, `fc2` 256->128, ReLU, `fc3` 128->14; the 14
/// outputs are the logits of the heads shape (4), colour (3), size (2), position (5).
struct QualityClassifier {
    /// What the classifier sees in one image: indices into `QualityClassifier.shapes`, ...
    struct Prediction: Equatable {
        let shape: Int
        let colour: Int
        let size: Int
        let position: Int
        /// The demo class label (`shape * 3 + colour`, the order of the bundle's class names).
        var classLabel: Int { shape * QualityClassifier.colours.count + colour }
    }

    static let shapes = ["circle", "square", "triangle", "cross"]
    static let colours = ["red", "green", "blue"]
    static let sizes = ["small", "large"]
    static let positions = ["top left", "top right", "bottom left", "bottom right", "center"]
    static let side = 64

    private struct Layer {
        let weight: [Float]  // [out, in]
        let bias: [Float]
        let inFeatures: Int
        let outFeatures: Int
    }

    private let layers: [Layer]

    init(folder: URL) throws {
        let file = try SafeTensorsFile(path: folder.appendingPathComponent("classifier.safetensors").path)
        var layers: [Layer] = []
        var inFeatures = 3 * (Self.side / 2) * (Self.side / 2)
        for (name, outFeatures) in [("fc1", 256), ("fc2", 128), ("fc3", 14)] {
            _ = try file.require(name + ".weight", shape: [outFeatures, inFeatures])
            _ = try file.require(name + ".bias", shape: [outFeatures])
            layers.append(
                Layer(
                    weight: try file.readFloats(name + ".weight"), bias: try file.readFloats(name + ".bias"),
                    inFeatures: inFeatures, outFeatures: outFeatures))
            inFeatures = outFeatures
        }
        self.layers = layers
    }

    /// Predictions for `count` decoder outputs `[count, 3, 64, 64]` (before clamping). Pixels are
    /// clamped and rounded to 8 bits first, as in the PNG a client receives.
    func predict(decoded: [Float], count: Int) -> [Prediction] {
        let side = Self.side, half = side / 2, plane = side * side
        precondition(decoded.count == count * 3 * plane, "expected \(count) images of 3x\(side)x\(side)")
        var x = [Float](repeating: 0, count: count * 3 * half * half)
        for image in 0..<count {
            for channel in 0..<3 {
                let base = (image * 3 + channel) * plane
                for y in 0..<half {
                    for column in 0..<half {
                        var sum: Float = 0
                        for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                            let v = decoded[base + (2 * y + dy) * side + 2 * column + dx]
                            sum += (min(max(v, 0), 1) * 255).rounded() / 255
                        }
                        x[image * 3 * half * half + (y * half + column) * 3 + channel] = sum / 4
                    }
                }
            }
        }
        for (index, layer) in layers.enumerated() {
            var y = [Float](repeating: 0, count: count * layer.outFeatures)
            let linear = Linear(
                weight: FloatBuffer(layer.weight), bias: FloatBuffer(layer.bias), inFeatures: layer.inFeatures, outFeatures: layer.outFeatures)
            x.withUnsafeBufferPointer { input in
                y.withUnsafeMutableBufferPointer { output in
                    linear.apply(input.baseAddress!, rows: count, into: output.baseAddress!)
                }
            }
            if index < layers.count - 1 { y = y.map { max($0, 0) } }
            x = y
        }
        let heads = [Self.shapes.count, Self.colours.count, Self.sizes.count, Self.positions.count]
        let width = heads.reduce(0, +)
        return (0..<count).map { image in
            var picks: [Int] = []
            var offset = image * width
            for size in heads {
                let logits = x[offset..<offset + size]
                picks.append(logits.indices.max { logits[$0] < logits[$1] }! - offset)
                offset += size
            }
            return Prediction(shape: picks[0], colour: picks[1], size: picks[2], position: picks[3])
        }
    }
}
