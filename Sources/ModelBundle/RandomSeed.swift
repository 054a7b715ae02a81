/// Seeds drawn when a request does not choose one (or asks for `-1`, as A1111 and sd.cpp do).
public enum RandomSeed {
    /// Exclusive bound: 2^53, so the seed survives JavaScript numbers and `jq`, which hold
    /// integers exactly only up to 2^53, and a client can reproduce the image from what it read.
    public static let bound: UInt64 = 1 << 53

    /// A fresh seed below `bound`, from the system's random source.
    public static func draw() -> UInt64 { UInt64.random(in: 0..<bound) }
}
