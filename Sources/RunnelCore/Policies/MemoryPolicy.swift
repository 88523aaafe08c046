/// How much of the container's memory a run may hold in flight (`memory:` in the spec).
public struct MemoryPolicy: Sendable, Hashable {
    /// The share of the container's memory limit the in-flight window may take. Default 0.5:
    /// the rest is for the program itself, the stores' own buffers and the allocator's slack.
    public var maxFraction: Double
    /// A fixed window instead of a share of the limit (`max_bytes: 256MiB`).
    public var maxBytes: Int?

    public init(maxFraction: Double = 0.5, maxBytes: Int? = nil) {
        self.maxFraction = maxFraction
        self.maxBytes = maxBytes
    }
}

/// The bytes a run may hold in flight, and the sizes derived from them.
///
/// Three batches are in memory at most: one being read, one handed over (the channel between the
/// reading and the loading task holds one), one being loaded. So a batch may hold a quarter of
/// the window; a single record an eighth (a reader's buffer may double while it looks for the
/// record's end); the run's key hashes and a store's page cache an eighth each. The producer cannot get ahead by more than the channel holds, so that bound is
/// the backpressure.
public struct MemoryWindow: Sendable, Hashable, CustomStringConvertible {
    /// The container's limit, nil when there is none.
    public let limit: Int?
    /// Where the limit was read (`cgroup v2 …/memory.max`), for `validate`.
    public let limitSource: String?
    public let bytes: Int
    let explicit: Bool
    let fraction: Double

    /// The window when there is no limit and the spec names none.
    public static let unboundedDefault = 256 << 20
    /// Below this the program cannot do useful work; a smaller window is raised to it.
    public static let minimum = 4 << 20

    public init(policy: MemoryPolicy = .init(), limit: ContainerMemoryLimit? = ContainerMemoryLimit.current()) {
        self.limit = limit?.bytes
        self.limitSource = limit?.source
        self.fraction = policy.maxFraction
        if let fixed = policy.maxBytes {
            bytes = max(Self.minimum, fixed)
            explicit = true
        } else if let limit {
            bytes = max(Self.minimum, Int(Double(limit.bytes) * policy.maxFraction))
            explicit = false
        } else {
            bytes = Self.unboundedDefault
            explicit = false
        }
    }

    /// The most input bytes one batch may hold.
    public var batchBytes: Int { bytes / 4 }
    /// The largest single record (its raw input bytes).
    public var recordBytes: Int { bytes / 8 }
    /// The memory the run's key hashes may take before they spill to disk (at most 4 MiB).
    public var keyBytes: Int { min(4 << 20, bytes / 8) }
    /// What a store may use for its page cache (at most 16 MiB).
    public var cacheBytes: Int { min(16 << 20, bytes / 8) }

    /// `64 MiB (50% of the cgroup v1 limit, 128 MiB)` and the like.
    public var description: String {
        let shown = ByteCount.text(bytes)
        if explicit { return "\(shown) (memory.max_bytes)" }
        if let limit, let limitSource {
            return "\(shown) (\(Int((fraction * 100).rounded()))% of the \(limitSource) limit, \(ByteCount.text(limit)))"
        }
        return "\(shown) (no container memory limit found; set memory.max_bytes to choose)"
    }
}

/// Byte counts as people write them: `256 MiB`, `1.5 GiB`, `812 KiB`.
public enum ByteCount {
    public static func text(_ n: Int) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(n) bytes" }
        let rounded = (value * 10).rounded() / 10
        let number = rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
        return "\(number) \(units[unit])"
    }
}
