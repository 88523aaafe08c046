/// What a run does with a record whose key an earlier record of the same run already had
/// (`key_policy` in the spec). Across runs, the loader's upsert (and version guard) decides.
public struct KeyPolicy: Sendable, Hashable, CustomStringConvertible {
    private enum Base: String, Sendable, Hashable {
        case lastWins = "last_wins", firstWins = "first_wins", reject
    }
    private let base: Base
    private init(_ base: Base) { self.base = base }

    /// Every record is written; the later one overwrites (subject to the version guard). The
    /// earlier ones are counted as superseded. The default.
    public static let lastWins = KeyPolicy(.lastWins)
    /// The first record of a key is written; later ones are left out and counted as superseded.
    public static let firstWins = KeyPolicy(.firstWins)
    /// A later record of a key is rejected with code `duplicate_key` (to the dead letter queue).
    public static let reject = KeyPolicy(.reject)

    /// The policy a spec names (`last_wins`, `first_wins`, `reject`), or nil.
    public init?(name: String) {
        guard let base = Base(rawValue: name) else { return nil }
        self.base = base
    }

    public static let names = ["last_wins", "first_wins", "reject"]

    public var description: String { base.rawValue }
}

/// The run-wide "seen this key" knowledge behind `KeyPolicy`: a set of 64-bit hashes of the key
/// values, not the keys, so that memory stays at 10–15 bytes per distinct key whatever the keys
/// hold (4M keys: 40–60 MiB); with a loader that has no key there is none.
///
/// Two different keys with the same hash would be taken for one: the later record counted as
/// superseded (last_wins: it is still written, only the count is off by one), left out
/// (first_wins) or dead-lettered as `duplicate_key` (reject, where the dead letter shows it). With
/// a 64-bit hash the chance of any such collision in a run of n keys is about n²/2⁶⁵: 4·10⁻⁷ for
/// 4M keys.
///
/// A streaming run never ends, so there the knowledge is kept per batch (`perBatch`), which bounds
/// memory; a batch run keeps it for the whole run.
final class KeyTracker {
    let policy: KeyPolicy
    let key: [String]
    let perBatch: Bool
    private var seen = KeyHashSet()

    init(policy: KeyPolicy, key: [String], perBatch: Bool) {
        self.policy = policy
        self.key = key
        self.perBatch = perBatch
    }

    /// Finds the records of `batch` whose key an earlier record had and applies the policy.
    func apply(to batch: inout Batch) {
        if perBatch { seen = KeyHashSet() }
        let positions = key.map { batch.schema.index(of: $0) }
        // A batch without the key fields is the loader's to report (prepare checks the columns).
        guard !key.isEmpty, positions.allSatisfy({ $0 != nil }) else { return }
        var duplicates: [Int] = []
        for (i, record) in batch.records.enumerated() {
            var hasher = Hasher()
            var hasNull = false
            for p in positions {
                let v = record.values.indices.contains(p!) ? record.values[p!] : .null
                if v == .null { hasNull = true }
                v.hash(into: &hasher)
            }
            // A null key matches nothing (as in SQL); the loader rejects or keeps it.
            if hasNull { continue }
            if !seen.insert(UInt64(bitPattern: Int64(hasher.finalize()))) { duplicates.append(i) }
        }
        guard !duplicates.isEmpty else { return }
        batch.superseded += duplicates.count
        if policy == .lastWins {
            batch.supersededWritten += duplicates.count
            return
        }
        if policy == .reject {
            for i in duplicates {
                let record = batch.records[i]
                let shown = zip(key, positions).map { "\($0)=\(record.values[$1!].text)" }.joined(separator: ", ")
                batch.reject(
                    ordinal: record.ordinal, stage: "load",
                    error: RecordError(
                        code: "duplicate_key",
                        message: "key (\(shown)) was already read in this run (key_policy: reject)",
                        field: key.joined(separator: ",")))
            }
            batch.superseded -= duplicates.count
        }
        var next = 0
        var kept: [Record] = []
        kept.reserveCapacity(batch.records.count - duplicates.count)
        for (i, r) in batch.records.enumerated() {
            if next < duplicates.count, duplicates[next] == i { next += 1 } else { kept.append(r) }
        }
        batch.records = kept
    }
}

/// A set of 64-bit hashes: open addressing with linear probing in flat arrays of 8-byte slots,
/// instead of the standard `Set`, which grows to the next power of two. The hashes are spread over
/// 256 segments (by their low byte) that grow one at a time by half when 80% full, so the set is
/// 53–80% full and growing never holds two copies of the whole table: about 10–15 bytes per key.
struct KeyHashSet {
    private var segments: [[UInt64]] = Array(repeating: Array(repeating: 0, count: 64), count: 256)
    private var counts = [Int](repeating: 0, count: 256)

    /// Inserts `hash`; false if it was already there.
    mutating func insert(_ hash: UInt64) -> Bool {
        // 0 marks an empty slot; the one hash that is 0 shares a value with 1 (a 2⁻⁶⁴ collision).
        let h = hash == 0 ? 1 : hash
        let s = Int(h & 0xFF)
        if (counts[s] + 1) * 5 > segments[s].count * 4 { grow(s) }
        let size = segments[s].count
        var i = Self.index(h, size)
        while true {
            let slot = segments[s][i]
            if slot == 0 {
                segments[s][i] = h
                counts[s] += 1
                return true
            }
            if slot == h { return false }
            i += 1
            if i == size { i = 0 }
        }
    }

    /// Multiply-shift onto any table size ("fastrange", the hash's high bits), so that the size
    /// need not be a power of two and the slot does not depend on the low byte that picked the segment.
    private static func index(_ h: UInt64, _ size: Int) -> Int {
        Int(h.multipliedFullWidth(by: UInt64(size)).high)
    }

    private mutating func grow(_ s: Int) {
        let old = segments[s]
        segments[s] = []
        var slots = [UInt64](repeating: 0, count: old.count + old.count / 2)
        for h in old where h != 0 {
            var i = Self.index(h, slots.count)
            while slots[i] != 0 {
                i += 1
                if i == slots.count { i = 0 }
            }
            slots[i] = h
        }
        segments[s] = slots
    }
}
