/// Where serializers append bytes: a `[UInt8]`, or a `ByteSink` in per-row loops.
public protocol ByteOutput: ~Copyable {
    mutating func append(_ byte: UInt8)
    mutating func append(bytes: UnsafeBufferPointer<UInt8>)
}

extension Array: ByteOutput where Element == UInt8 {
    @inline(__always)
    public mutating func append(bytes: UnsafeBufferPointer<UInt8>) { append(contentsOf: bytes) }
}

/// A growable byte buffer for writers that append a few bytes at a time, millions of times: an
/// append is a capacity check and a copy. `Array.append(contentsOf:)` goes through the generic
/// sequence path (a uniqueness check, a capacity reservation, an initialization from the
/// sequence, a check for leftovers), which measured ~100 instructions for a three-byte key.
///
/// Not copyable, so its memory has one owner; the bytes are handed over with `write(to:)`.
public struct ByteSink: ~Copyable, ByteOutput {
    private var base: UnsafeMutablePointer<UInt8>
    public private(set) var count = 0
    private var capacity: Int

    public init(capacity: Int) {
        self.capacity = max(64, capacity)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    @inline(__always)
    public mutating func append(_ byte: UInt8) {
        if count == capacity { grow(to: count + 1) }
        base[count] = byte
        count += 1
    }

    @inline(__always)
    public mutating func append(bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress else { return }
        let n = bytes.count
        if capacity - count < n { grow(to: count + n) }
        copyBytes(to: UnsafeMutableRawPointer(base + count), from: UnsafeRawPointer(source), n)
        count += n
    }

    private mutating func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        bigger.update(from: base, count: count)
        base.deallocate()
        base = bigger
        capacity = newCapacity
    }

    /// Appends the bytes written so far to `out`.
    public func write(to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: base, count: count))
    }
}

/// Copies `n` bytes between regions that do not overlap. Fields and keys are short: up to 32
/// bytes are copied inline, by overlapping loads and stores, instead of a call to `memcpy`.
@inline(__always)
func copyBytes(to destination: UnsafeMutableRawPointer, from source: UnsafeRawPointer, _ n: Int) {
    if n > 32 {
        destination.copyMemory(from: source, byteCount: n)
    } else if n > 16 {
        let a = source.loadUnaligned(as: UInt64.self)
        let b = source.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        let c = source.loadUnaligned(fromByteOffset: n - 16, as: UInt64.self)
        let d = source.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        destination.storeBytes(of: a, as: UInt64.self)
        destination.storeBytes(of: b, toByteOffset: 8, as: UInt64.self)
        destination.storeBytes(of: c, toByteOffset: n - 16, as: UInt64.self)
        destination.storeBytes(of: d, toByteOffset: n - 8, as: UInt64.self)
    } else if n >= 8 {
        destination.storeBytes(of: source.loadUnaligned(as: UInt64.self), as: UInt64.self)
        (destination + n - 8).storeBytes(of: (source + n - 8).loadUnaligned(as: UInt64.self), as: UInt64.self)
    } else if n >= 4 {
        destination.storeBytes(of: source.loadUnaligned(as: UInt32.self), as: UInt32.self)
        (destination + n - 4).storeBytes(of: (source + n - 4).loadUnaligned(as: UInt32.self), as: UInt32.self)
    } else {
        for i in 0..<n { destination.storeBytes(of: source.load(fromByteOffset: i, as: UInt8.self), toByteOffset: i, as: UInt8.self) }
    }
}
