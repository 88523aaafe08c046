/// The string bytes a `ColumnBuilder` appends, until the column is finished: an append is a
/// capacity check, a uniqueness check and a copy. `Array.append(contentsOf:)` on the column's
/// `[UInt8]` took the generic sequence path, ~180 instructions for a ten-byte field (measured),
/// which for a CSV row of nine fields cost more than finding the fields.
///
/// The state is kept in the struct (no class property is mutated per append, so no dynamic
/// exclusivity check); the class only owns the memory. A builder copied and then appended to
/// on both sides stays correct: an append to shared memory copies it first.
struct TextBuffer: Sendable {
    private final class Owner: @unchecked Sendable {
        let base: UnsafeMutablePointer<UInt8>
        init(capacity: Int) { base = .allocate(capacity: capacity) }
        deinit { base.deallocate() }
    }

    private var owner: Owner?
    private(set) var count = 0
    private var capacity = 0

    init() {}

    @inline(__always)
    mutating func append(_ source: UnsafeRawPointer, _ n: Int) {
        if capacity &- count < n || !isKnownUniquelyReferenced(&owner) { reallocate(atLeast: count &+ n) }
        let target = UnsafeMutableRawPointer(owner.unsafelyUnwrapped.base + count)
        copyBytes(to: target, from: source, n)
        count &+= n
    }

    /// Makes room for `n` more bytes (a string whose size is known) and lets `body` write them.
    @inline(__always)
    mutating func append(count n: Int, _ body: (UnsafeMutableRawPointer) -> Void) {
        if capacity &- count < n || !isKnownUniquelyReferenced(&owner) { reallocate(atLeast: count &+ n) }
        body(UnsafeMutableRawPointer(owner.unsafelyUnwrapped.base + count))
        count &+= n
    }

    private mutating func reallocate(atLeast needed: Int) {
        var newCapacity = max(256, capacity)
        while newCapacity < needed { newCapacity *= 2 }
        let bigger = Owner(capacity: newCapacity)
        if let owner { bigger.base.update(from: owner.base, count: count) }
        owner = bigger
        capacity = newCapacity
    }

    /// Appends the bytes to `bytes` and empties the buffer.
    mutating func move(into bytes: inout [UInt8]) {
        if let owner, count > 0 { bytes.append(contentsOf: UnsafeBufferPointer(start: owner.base, count: count)) }
        self = TextBuffer()
    }
}
