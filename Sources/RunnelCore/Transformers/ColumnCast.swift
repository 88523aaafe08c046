#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The common casts of one column row, done on its bytes without making a `Value`: plain
/// integers, decimals and timestamps from strings. Anything else returns false and takes
/// `CastTransformer.convert`, so both paths accept exactly the same input.
enum ColumnCast {
    /// Appends row `row` of `column` cast to `target` to `out`; false when this fast path does
    /// not decide (the caller then converts the row's value).
    @inline(__always)
    static func append(_ column: Column, _ row: Int, as target: CastTransformer.Target, to out: inout ColumnBuilder) -> Bool {
        guard column.kind == .string else { return false }
        switch target {
        case .int:
            guard let i = column.withBytes(row, { parseInt($0) }) else { return false }
            out.appendInt(i)
            return true
        case .double:
            guard let d = column.withBytes(row, { parseDouble($0) }) else { return false }
            out.appendDouble(d)
            return true
        case .timestamp(let format):
            guard let t = column.withBytes(row, { format.parse(utf8: $0) }) else { return false }
            out.appendTimestamp(t)
            return true
        case .string:
            out.append(from: column, row: row)
            return true
        case .bool:
            return false
        }
    }

    /// `[-+]?[0-9]{1,18}`: what needs no overflow check; longer or other text takes the slow path.
    @inline(__always)
    static func parseInt(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0
        var negative = false
        if b.count > 0, b[0] == UInt8(ascii: "-") || b[0] == UInt8(ascii: "+") {
            negative = b[0] == UInt8(ascii: "-")
            i = 1
        }
        let digits = b.count - i
        guard digits > 0, digits <= 18 else { return nil }
        var v: Int64 = 0
        while i < b.count {
            let d = b[i] &- UInt8(ascii: "0")
            guard d < 10 else { return nil }
            v = v * 10 + Int64(d)
            i += 1
        }
        return negative ? -v : v
    }

    /// A finite decimal number with nothing around it, parsed by the C library as Swift's
    /// `Double(String)` is; nil (slow path) for anything else.
    @inline(__always)
    static func parseDouble(_ b: UnsafeBufferPointer<UInt8>) -> Double? {
        guard b.count > 0, b.count < 64 else { return nil }
        let first = b[0]
        // Leading whitespace, "inf", "nan" and hex floats are left to the slow path.
        guard (first &- UInt8(ascii: "0")) < 10 || first == UInt8(ascii: "-") || first == UInt8(ascii: "+")
            || first == UInt8(ascii: ".")
        else { return nil }
        if let d = exactDecimal(b) { return d }
        for c in b {
            let ok = (c &- UInt8(ascii: "0")) < 10 || c == UInt8(ascii: ".") || c == UInt8(ascii: "-")
                || c == UInt8(ascii: "+") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E")
            guard ok else { return nil }
        }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buf -> Double? in
            for k in 0..<b.count { buf[k] = CChar(bitPattern: b[k]) }
            buf[b.count] = 0
            var end: UnsafeMutablePointer<CChar>?
            let d = strtod(buf.baseAddress!, &end)
            guard let end, end == buf.baseAddress! + b.count, d.isFinite else { return nil }
            return d
        }
    }

    /// `[-]digits[.digits]` with at most 18 digits, a significand up to 2^53 and at most 22
    /// decimals: both the significand and the power of ten are exact doubles, so one IEEE division
    /// gives the correctly rounded value, the one `strtod` gives (Clinger's fast path). Nil for
    /// anything else.
    @inline(__always)
    static func exactDecimal(_ b: UnsafeBufferPointer<UInt8>) -> Double? {
        var j = 0
        let n = b.count
        let negative = b[0] == UInt8(ascii: "-")
        if negative { j = 1 }
        var significand: UInt64 = 0
        var digits = 0
        while j < n, b[j] &- UInt8(ascii: "0") < 10 {
            significand = significand &* 10 &+ UInt64(b[j] &- UInt8(ascii: "0"))
            digits += 1
            j += 1
        }
        guard digits > 0 else { return nil }
        var fractionDigits = 0
        if j < n, b[j] == UInt8(ascii: ".") {
            j += 1
            while j < n, b[j] &- UInt8(ascii: "0") < 10 {
                significand = significand &* 10 &+ UInt64(b[j] &- UInt8(ascii: "0"))
                digits += 1
                fractionDigits += 1
                j += 1
            }
            guard fractionDigits > 0 else { return nil }
        }
        guard j == n, digits <= 18, significand <= 1 << 53, fractionDigits <= 22 else { return nil }
        let d = Double(significand) / JSONParser.powersOfTen[fractionDigits]
        return negative ? -d : d
    }
}
