#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The run-wide "seen this key" knowledge behind `KeyPolicy`: 64-bit hashes of the key values,
/// not the keys, so that memory does not depend on what the keys hold; with a loader that has no
/// key there is none.
///
/// Two different keys with the same hash would be taken for one: the later record counted as
/// superseded (last_wins: it is still written, only the count is off by one), left out
/// (first_wins) or dead-lettered as `duplicate_key` (reject, where the dead letter shows it). With
/// a 64-bit hash the chance of any such collision in a run of n keys is about n²/2⁶⁵: 4·10⁻⁷ for
/// 4M keys.
///
/// Memory. A streaming run never ends, so there the knowledge is kept per batch (`perBatch`). A
/// batch run keeps the hashes in memory up to `memoryBudget` (10–15 bytes per key); past it,
/// with `last_wins` (the default), they go to a `KeySpill` on disk and memory starts again, so
/// that memory stays flat however many keys the input has. A key whose earlier record went to
/// disk is not seen at its own batch — with last_wins that changes no data, only when it is
/// counted: `reconcile()` counts those at the end of the run. `first_wins` and `reject` must
/// know at once whether a key was seen, so they keep every hash in memory.
final class KeyTracker {
    let policy: KeyPolicy
    let key: [String]
    let perBatch: Bool
    /// Hashes held in memory before a last_wins batch run spills them.
    let memoryCapacity: Int
    /// Where the spills go (TMPDIR, or /tmp).
    let spillDirectory: String
    private var seen = KeyHashSet()
    private var spill: KeySpill?
    /// Keys that had an earlier record in a spill, found when the memory was merged into it.
    private var lateDuplicates = 0

    /// About 4 MiB of hashes (the set holds 10–15 bytes per key).
    static let defaultMemoryBudget = 4 << 20

    init(policy: KeyPolicy, key: [String], perBatch: Bool, memoryBudget: Int = KeyTracker.defaultMemoryBudget,
         spillDirectory: String? = nil) {
        self.policy = policy
        self.key = key
        self.perBatch = perBatch
        self.memoryCapacity = max(1, memoryBudget / 16)
        self.spillDirectory = spillDirectory ?? Self.temporaryDirectory()
    }

    /// Finds the records of `batch` whose key an earlier record had and applies the policy.
    func apply(to batch: inout Batch) throws {
        if perBatch { seen = KeyHashSet() }
        let positions = key.map { batch.schema.index(of: $0) }
        // A batch without the key fields is the loader's to report (prepare checks the columns).
        guard !key.isEmpty, positions.allSatisfy({ $0 != nil }) else { return }
        if !perBatch, policy == .lastWins, seen.count >= memoryCapacity { try spillMemory() }
        // The set is mutated in a local for the loops below: through the class's stored
        // property every insert paid a dynamic exclusivity check.
        var seen = self.seen
        self.seen = KeyHashSet()
        defer { self.seen = seen }
        // `duplicates` holds positions in the batch's record order (rows, or the selection).
        var duplicates: [Int] = []
        if let c = batch.columnar, positions.count == 1, c.columns[positions[0]!].kind == .int {
            // The common key, one integer field: its hash is `KeyHash.int`, without a `Hasher`.
            let column = c.columns[positions[0]!]
            for (i, row) in c.selection.enumerated() where !column.isNull(row) {
                if !seen.insert(KeyHash.int(column.int(row))) { duplicates.append(i) }
            }
        } else if let c = batch.columnar {
            let columns = positions.map { c.columns[$0!] }
            for (i, row) in c.selection.enumerated() {
                if columns.count == 1, columns[0].kind == .mixed, case .int(let v) = columns[0].values[row] {
                    if !seen.insert(KeyHash.int(v)) { duplicates.append(i) }
                    continue
                }
                var hasher = Hasher()
                var hasNull = false
                for column in columns {
                    if column.isNull(row) { hasNull = true }
                    KeyHash.combine(column, row, into: &hasher)
                }
                if hasNull { continue }
                if !seen.insert(UInt64(bitPattern: Int64(hasher.finalize()))) { duplicates.append(i) }
            }
        } else {
            for (i, record) in batch.records.enumerated() {
                if positions.count == 1, record.values.indices.contains(positions[0]!), case .int(let v) = record.values[positions[0]!] {
                    if !seen.insert(KeyHash.int(v)) { duplicates.append(i) }
                    continue
                }
                var hasher = Hasher()
                var hasNull = false
                for p in positions {
                    let v = record.values.indices.contains(p!) ? record.values[p!] : .null
                    if v == .null { hasNull = true }
                    KeyHash.combine(v, into: &hasher)
                }
                // A null key matches nothing (as in SQL); the loader rejects or keeps it.
                if hasNull { continue }
                if !seen.insert(UInt64(bitPattern: Int64(hasher.finalize()))) { duplicates.append(i) }
            }
        }
        guard !duplicates.isEmpty else { return }
        batch.superseded += duplicates.count
        if policy == .lastWins {
            batch.supersededWritten += duplicates.count
            return
        }
        if policy == .reject {
            for i in duplicates {
                let record = batch.record(at: i)
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
        batch.remove(at: duplicates)
    }

    /// At the end of a batch run: the records superseded by a later record of the run that their
    /// own batches could not see (their key's earlier record had gone to disk). 0 without a spill.
    func reconcile() throws -> Int {
        guard let spill else { return 0 }
        defer { self.spill = nil }
        return lateDuplicates + (try spill.overlap(seen.sorted()))
    }

    private func spillMemory() throws {
        if spill == nil { spill = try KeySpill(directory: spillDirectory) }
        lateDuplicates += try spill!.merge(seen.sorted())
        seen = KeyHashSet()
    }

    private static func temporaryDirectory() -> String {
        if let t = getenv("TMPDIR"), t.pointee != 0 { return String(cString: t) }
        return "/tmp"
    }
}
