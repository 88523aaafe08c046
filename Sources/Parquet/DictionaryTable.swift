#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The distinct values of a column chunk, for dictionary encoding: an open-addressing table of
/// dictionary indices under a cheap multiplicative hash. `Dictionary` with `Hasher` (SipHash)
/// cost more than all the rest of the encoder (~600 instructions a value, measured).
///
/// The dictionary's order is the order of first appearance, whatever the hash, so the file's
/// bytes do not depend on it; the hash is seeded per process, so input crafted to collide under
/// one seed does not collide under another.
struct DictionaryTable {
    /// Per slot: 0 when empty, else dictionary index + 1.
    private var slots: [UInt32]
    /// Per slot: the hash of its entry (compared before the values are).
    private var hashes: [UInt64]
    private var mask: Int
    private(set) var count = 0

    static let seed: UInt64 = {
        var g = SystemRandomNumberGenerator()
        return g.next() | 1
    }()

    init(expected: Int) {
        var capacity = 16
        while capacity < expected * 2 { capacity <<= 1 }
        slots = [UInt32](repeating: 0, count: capacity)
        hashes = [UInt64](repeating: 0, count: capacity)
        mask = capacity - 1
    }

    /// The index of the value with `hash` for which `equals(index)` holds, or a new index
    /// (`count` before the call) with `inserted` true.
    @inline(__always)
    mutating func index(hash: UInt64, equals: (Int) -> Bool) -> (index: Int, inserted: Bool) {
        if (count + 1) * 2 > slots.count { grow() }
        var i = Int(truncatingIfNeeded: hash >> 7) & mask
        while true {
            let s = slots[i]
            if s == 0 {
                slots[i] = UInt32(count + 1)
                hashes[i] = hash
                count += 1
                return (count - 1, true)
            }
            if hashes[i] == hash, equals(Int(s - 1)) { return (Int(s - 1), false) }
            i = (i + 1) & mask
        }
    }

    private mutating func grow() {
        let old = (slots, hashes)
        slots = [UInt32](repeating: 0, count: old.0.count * 2)
        hashes = [UInt64](repeating: 0, count: old.0.count * 2)
        mask = slots.count - 1
        for k in old.0.indices where old.0[k] != 0 {
            var i = Int(truncatingIfNeeded: old.1[k] >> 7) & mask
            while slots[i] != 0 { i = (i + 1) & mask }
            slots[i] = old.0[k]
            hashes[i] = old.1[k]
        }
    }

    @inline(__always)
    static func hash(_ v: UInt64) -> UInt64 {
        var h = (v ^ seed) &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 32
        return h &* 0xD6E8_FEB8_6659_FD93
    }

    /// A word at a time, then the tail: enough for a dictionary's keys.
    @inline(__always)
    static func hash(_ p: UnsafeRawPointer?, _ n: Int) -> UInt64 {
        var h = seed ^ (UInt64(n) &* 0x9E37_79B9_7F4A_7C15)
        guard let p else { return hash(h) }
        var i = 0
        while i + 8 <= n {
            h = (h ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 29
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n {
            tail |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << shift
            shift += 8
            i += 1
        }
        return hash(h ^ tail)
    }
}
