/// A deterministic random number generator (SplitMix64), so that randomized tests — fuzzed
/// inputs, kill instants — fail the same way every time and a failure can be replayed.
public struct SeededGenerator: RandomNumberGenerator {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<bound`, for tests that draw many small choices.
    public mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
