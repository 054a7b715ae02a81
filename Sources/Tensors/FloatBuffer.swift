/// Owned, 64-byte aligned float32 storage: weights converted at load time, scratch space.
///
/// Immutable once filled when used for weights, which is why it may cross threads.
public final class FloatBuffer: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    public init(count: Int) {
        self.count = count
        let raw = PageAllocation.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { PageAllocation.deallocate(UnsafeMutableRawPointer(pointer), byteCount: max(count, 1) * MemoryLayout<Float>.stride) }

    public var buffer: UnsafeMutableBufferPointer<Float> { .init(start: pointer, count: count) }
    public var array: [Float] { Array(buffer) }
}

/// Scratch memory that grows to the largest request and is then reused, so that steady-state
/// inference does not allocate.
public struct ScratchBuffer {
    private var storage = FloatBuffer(count: 0)

    public init() {}

    /// A pointer to at least `count` floats; contents are unspecified.
    public mutating func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if storage.count < count {
            // Grow with headroom so ragged batches do not reallocate every step.
            storage = FloatBuffer(count: max(count, storage.count + storage.count / 2))
        }
        return storage.pointer
    }
}
