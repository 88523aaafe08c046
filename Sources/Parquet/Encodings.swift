// Value and level encodings: the RLE/bit-packing hybrid, DELTA_BINARY_PACKED, the delta byte-array
// encodings and BYTE_STREAM_SPLIT. Every decoder checks lengths against its buffer before it
// allocates and takes the number of values it must produce from the caller (which bounds it by
// the page's declared count), so corrupt input ends in a `ParquetError`.

struct ByteCursor {
    let bytes: [UInt8]
    var position: Int
    let end: Int

    init(_ bytes: [UInt8], start: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.position = start
        self.end = min(end ?? bytes.count, bytes.count)
    }

    var remaining: Int { end - position }

    mutating func byte() throws(ParquetError) -> UInt8 {
        guard position < end else { throw .corrupt("page data ends early") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func uleb() throws(ParquetError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw .corrupt("varint too long") }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func zigzag() throws(ParquetError) -> Int64 {
        let v = try uleb()
        return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }

    mutating func uint32LE() throws(ParquetError) -> UInt32 {
        guard remaining >= 4 else { throw .corrupt("page data ends early") }
        let p = position
        position += 4
        return UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
    }

    mutating func take(_ n: Int) throws(ParquetError) -> Range<Int> {
        guard n >= 0, n <= remaining else { throw .corrupt("page data ends early") }
        defer { position += n }
        return position..<position + n
    }

    /// Little-endian unsigned value of `width` bytes (up to 8).
    func loadLE(_ at: Int, _ width: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<width { v |= UInt64(bytes[at + i]) << (8 * UInt64(i)) }
        return v
    }
}

func bitWidth(_ max: UInt64) -> Int { max == 0 ? 0 : 64 - max.leadingZeroBitCount }

/// Decodes `count` values of the RLE/bit-packing hybrid with `width` bits each.
func decodeHybrid(_ c: inout ByteCursor, width: Int, count: Int) throws(ParquetError) -> [UInt32] {
    guard width >= 0, width <= 32 else { throw .corrupt("bit width \(width) out of range") }
    var out: [UInt32] = []
    out.reserveCapacity(count)
    let byteWidth = (width + 7) / 8
    while out.count < count {
        let header = try c.uleb()
        if header & 1 == 0 {
            let run = Int(clamping: header >> 1)
            let r = try c.take(byteWidth)
            let v = UInt32(truncatingIfNeeded: c.loadLE(r.lowerBound, byteWidth))
            if width < 32 && v >> UInt32(width) != 0 { throw .corrupt("RLE value wider than \(width) bits") }
            let n = min(run, count - out.count)
            if run == 0 { throw .corrupt("empty RLE run") }
            out.append(contentsOf: repeatElement(v, count: n))
        } else {
            let groups = Int(clamping: header >> 1)
            if groups == 0 { throw .corrupt("empty bit-packed run") }
            let needed = min(groups, (count - out.count + 7) / 8 + 1)
            // A writer may pad the last run: read only the groups present and those needed.
            let available = c.remaining / max(width, 1)
            let readGroups = width == 0 ? needed : min(needed, groups, available)
            if width > 0 && readGroups == 0 { throw .corrupt("bit-packed run ends early") }
            let r = try c.take(readGroups * width)
            if groups > readGroups, width > 0 {
                // Skip the rest of the run when its bytes are present (they hold no needed values).
                // A header may claim any number of groups: compared before multiplying, so that
                // a corrupt one moves to the end instead of overflowing.
                let rest = groups - readGroups
                c.position += rest > c.remaining / width ? c.remaining : rest * width
            }
            let mask: UInt64 = width == 32 ? 0xFFFF_FFFF : (1 << UInt64(width)) - 1
            var bitPos = 0
            let base = r.lowerBound
            for _ in 0..<(readGroups * 8) where out.count < count {
                if width == 0 {
                    out.append(0)
                    continue
                }
                let byteIndex = base + bitPos >> 3
                let shift = bitPos & 7
                let span = min(8, r.upperBound - byteIndex)
                let word = c.loadLE(byteIndex, span)
                out.append(UInt32((word >> UInt64(shift)) & mask))
                bitPos += width
            }
        }
    }
    return out
}

/// Encodes levels or dictionary indices with the RLE/bit-packing hybrid.
struct HybridEncoder {
    let width: Int
    var out: [UInt8] = []
    private var pending: [UInt32] = []  // up to 8 values not yet emitted as a bit-packed group
    private var packed: [UInt8] = []  // bit-packed groups of the open run
    private var packedGroups = 0
    private var runValue: UInt32 = 0
    private var runLength = 0

    init(width: Int) { self.width = width }

    private mutating func writeUleb(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    private mutating func flushPacked() {
        guard packedGroups > 0 else { return }
        writeUleb(UInt64(packedGroups) << 1 | 1)
        out.append(contentsOf: packed)
        packed.removeAll(keepingCapacity: true)
        packedGroups = 0
    }

    private mutating func flushRun() {
        guard runLength > 0 else { return }
        flushPacked()
        writeUleb(UInt64(runLength) << 1)
        let bytes = (width + 7) / 8
        for i in 0..<bytes { out.append(UInt8(truncatingIfNeeded: runValue >> (8 * UInt32(i)))) }
        runLength = 0
    }

    private mutating func packGroup(_ values: [UInt32]) {
        var acc: UInt64 = 0
        var bits = 0
        for i in 0..<8 {
            let v = i < values.count ? UInt64(values[i]) : 0
            acc |= v << UInt64(bits)
            bits += width
            while bits >= 8 {
                packed.append(UInt8(truncatingIfNeeded: acc))
                acc >>= 8
                bits -= 8
            }
        }
        if bits > 0 { packed.append(UInt8(truncatingIfNeeded: acc)) }
        packedGroups += 1
        if packedGroups == 63 { flushPacked() }
    }

    mutating func append(_ v: UInt32) {
        if runLength > 0 {
            if v == runValue {
                runLength += 1
                return
            }
            flushRun()
        }
        pending.append(v)
        // Eight equal values at the end of the pending group start a run once the group is aligned.
        if pending.count == 8 {
            if pending.allSatisfy({ $0 == pending[0] }) {
                runValue = pending[0]
                runLength = 8
            } else {
                packGroup(pending)
            }
            pending.removeAll(keepingCapacity: true)
        }
    }

    mutating func finish() -> [UInt8] {
        flushRun()
        if !pending.isEmpty {
            packGroup(pending)
            pending.removeAll()
        }
        flushPacked()
        return out
    }
}

/// DELTA_BINARY_PACKED: `count` values (bounded by the caller), as Int64 (INT32 values wrap to 32 bits).
func decodeDeltaBinaryPacked(_ c: inout ByteCursor, count: Int, thirtyTwo: Bool) throws(ParquetError) -> [Int64] {
    let blockSize = try c.uleb()
    let miniblocks = try c.uleb()
    let total = try c.uleb()
    var value = try c.zigzag()
    guard blockSize > 0, blockSize % 128 == 0, blockSize <= 1 << 20, miniblocks > 0, blockSize % miniblocks == 0,
        (blockSize / miniblocks) % 32 == 0
    else { throw .corrupt("invalid DELTA_BINARY_PACKED header") }
    guard total >= UInt64(count) else {
        throw .corrupt("DELTA_BINARY_PACKED holds \(total) values, the page needs \(count)")
    }
    let perMini = Int(blockSize / miniblocks)
    var out: [Int64] = []
    out.reserveCapacity(count)
    if count > 0 { out.append(thirtyTwo ? Int64(Int32(truncatingIfNeeded: value)) : value) }
    while out.count < count {
        let minDelta = try c.zigzag()
        let widths = try c.take(Int(miniblocks))
        for m in 0..<Int(miniblocks) {
            if out.count >= count { break }
            let w = Int(c.bytes[widths.lowerBound + m])
            guard w <= 64 else { throw .corrupt("DELTA_BINARY_PACKED bit width \(w)") }
            // The last miniblock may be cut short after its last value by some writers.
            let full = perMini * w / 8
            let minimal = (min(perMini, count - out.count) * w + 7) / 8
            let r = try c.take(c.remaining >= full ? full : (c.remaining >= minimal ? c.remaining : full))
            var bitPos = 0
            for _ in 0..<perMini {
                if out.count >= count { break }
                var delta: UInt64 = 0
                if w > 0 {
                    // Gather w bits starting at bitPos (may span 9 bytes for w up to 64).
                    var got = 0
                    var pos = bitPos
                    while got < w {
                        let byte = UInt64(c.bytes[r.lowerBound + pos >> 3])
                        let shift = pos & 7
                        let take = min(8 - shift, w - got)
                        delta |= ((byte >> UInt64(shift)) & ((1 << UInt64(take)) - 1)) << UInt64(got)
                        got += take
                        pos += take
                    }
                    bitPos += w
                }
                value = value &+ minDelta &+ Int64(bitPattern: delta)
                if thirtyTwo { value = Int64(Int32(truncatingIfNeeded: value)) }
                out.append(value)
            }
        }
    }
    return out
}

/// BYTE_ARRAY lengths then bytes (DELTA_LENGTH_BYTE_ARRAY).
func decodeDeltaLengthByteArray(_ c: inout ByteCursor, count: Int) throws(ParquetError) -> ByteArrays {
    let lengths = try decodeDeltaBinaryPacked(&c, count: count, thirtyTwo: true)
    var total = 0
    for l in lengths {
        guard l >= 0 else { throw .corrupt("negative byte array length") }
        total += Int(l)
        guard total <= c.remaining else { throw .corrupt("DELTA_LENGTH_BYTE_ARRAY lengths exceed the page") }
    }
    var out = ByteArrays()
    out.reserveCapacity(values: count, bytes: total)
    for l in lengths {
        let r = try c.take(Int(l))
        out.append(c.bytes[r])
    }
    return out
}

/// DELTA_BYTE_ARRAY: prefix lengths, then suffixes as DELTA_LENGTH_BYTE_ARRAY.
func decodeDeltaByteArray(_ c: inout ByteCursor, count: Int, limit: Int) throws(ParquetError) -> ByteArrays {
    let prefixes = try decodeDeltaBinaryPacked(&c, count: count, thirtyTwo: true)
    let suffixes = try decodeDeltaLengthByteArray(&c, count: count)
    var out = ByteArrays()
    var prevStart = 0
    var prevLength = 0
    var prefix: [UInt8] = []
    for i in 0..<count {
        let p = Int(prefixes[i])
        guard p >= 0, p <= prevLength else { throw .corrupt("DELTA_BYTE_ARRAY prefix longer than the previous value") }
        guard out.bytes.count + p + suffixes[i].count <= limit else {
            throw .corrupt("DELTA_BYTE_ARRAY values exceed the page's bound")
        }
        let start = out.bytes.count
        prefix.removeAll(keepingCapacity: true)
        prefix.append(contentsOf: out.bytes[prevStart..<prevStart + p])
        out.bytes.append(contentsOf: prefix)
        out.bytes.append(contentsOf: suffixes[i])
        out.offsets.append(out.bytes.count)
        prevStart = start
        prevLength = out.bytes.count - start
    }
    return out
}

/// BYTE_STREAM_SPLIT: `width`-byte values whose bytes are stored one stream per byte position.
func decodeByteStreamSplit(_ c: inout ByteCursor, count: Int, width: Int) throws(ParquetError) -> [UInt8] {
    let all = c.remaining
    guard width > 0, all % width == 0, all / width >= count else {
        throw .corrupt("BYTE_STREAM_SPLIT data does not match the value count")
    }
    let streams = all / width
    let r = try c.take(all)
    var out = [UInt8](repeating: 0, count: count * width)
    for i in 0..<count {
        for b in 0..<width { out[i * width + b] = c.bytes[r.lowerBound + b * streams + i] }
    }
    return out
}
