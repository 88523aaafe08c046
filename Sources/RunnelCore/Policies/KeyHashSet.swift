/// A set of 64-bit hashes: open addressing with linear probing in flat arrays of 8-byte slots,
/// instead of the standard `Set`, which grows to the next power of two. The hashes are spread over
/// 256 segments (by their low byte) that grow one at a time by half when 80% full, so the set is
/// 53–80% full and growing never holds two copies of the whole table: about 10–15 bytes per key.
struct KeyHashSet {
    private var segments: [[UInt64]] = Array(repeating: Array(repeating: 0, count: 64), count: 256)
    private var counts = [Int](repeating: 0, count: 256)
    /// How many hashes the set holds.
    private(set) var count = 0

    /// Inserts `hash`; false if it was already there.
    mutating func insert(_ hash: UInt64) -> Bool {
        // 0 marks an empty slot; the one hash that is 0 shares a value with 1 (a 2⁻⁶⁴ collision).
        let h = hash == 0 ? 1 : hash
        let s = Int(h & 0xFF)
        if (counts[s] &+ 1) &* 5 > segments[s].count &* 4 { grow(s) }
        // The probe through the segment's buffer: one access to it, not one per slot.
        let inserted = segments[s].withUnsafeMutableBufferPointer { slots in
            let size = slots.count
            var i = Self.index(h, size)
            while true {
                let slot = slots[i]
                if slot == 0 {
                    slots[i] = h
                    return true
                }
                if slot == h { return false }
                i &+= 1
                if i == size { i = 0 }
            }
        }
        if inserted {
            counts[s] &+= 1
            count &+= 1
        }
        return inserted
    }

    /// The hashes in ascending order (a hash of 0 is held, and listed, as 1).
    func sorted() -> [UInt64] {
        var out: [UInt64] = []
        out.reserveCapacity(count)
        for segment in segments { for h in segment where h != 0 { out.append(h) } }
        out.sort()
        return out
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
