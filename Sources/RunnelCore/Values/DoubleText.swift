/// Writes a double exactly as `Double.description` spells it, without building a `String`, for
/// the values data mostly holds: amounts, rates and measures with a few decimals. Building the
/// description costs ~600 instructions and an allocation, more than the rest of a JSON field.
///
/// Why the output is the description's: for 1e-4 ≤ |d| < 1e8 the description is plain decimal
/// with the fewest digits that read back to `d`. The loop finds the fewest fractional digits k
/// (at most 6) for which an integer m makes m / 10^k read back to `d`: m (below 2^53) and 10^k are exact
/// doubles, so the division is correctly rounded, as reading the text "m / 10^k" is. That m is
/// the only candidate with k digits: 10^-k ≥ 1e-6 is wider than the spacing of doubles below 1e8
/// (2^-26), so no two k-digit decimals round to the same double. Fewer digits do not read back
/// (smaller k failed), so the description has these digits. Everything else — more digits, larger
/// or smaller magnitudes (`e` notation), zero (its sign), NaN and infinities — is left to the caller.
public enum DoubleText {
    /// Appends `d` as `d.description` would and returns true, or appends nothing and returns false.
    @inline(__always)
    public static func writeShort<Out: ByteOutput & ~Copyable>(_ d: Double, into out: inout Out) -> Bool {
        let magnitude = d.magnitude
        // NaN fails both comparisons.
        guard magnitude >= 1e-4, magnitude < 1e8 else { return false }
        var scale = 1.0
        for k in 0...6 {
            // The product is off by at most a few hundredths of a unit, so rounding it finds the
            // one candidate m when there is one.
            let m = roundedHalfAway(magnitude * scale)
            if m / scale == magnitude {
                write(UInt64(m), fractionDigits: k, negative: d < 0, into: &out)
                return true
            }
            scale *= 10
        }
        return false
    }

    /// `x.rounded()` for 0 ≤ x < 2^53, without the call to libm's `round` (the conversion
    /// truncates, and `x - t` is exact in that range). Through `Int64`: one instruction each
    /// way on x86-64, where `UInt64` takes a dozen.
    @inline(__always)
    static func roundedHalfAway(_ x: Double) -> Double {
        let t = Double(Int64(x))
        return x - t >= 0.5 ? t + 1 : t
    }

    /// `m / 10^k` in plain decimal: `123.45`, `0.0012`, `5.0` (an integral value keeps `.0`).
    @inline(__always)
    static func write<Out: ByteOutput & ~Copyable>(_ m: UInt64, fractionDigits k: Int, negative: Bool, into out: inout Out) {
        // m < 1e14: at most 14 digits, with room for a leading `0.000…`.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { buf in
            var n = 24
            var v = m
            var written = 0
            if k == 0 {
                n -= 2
                buf[n] = UInt8(ascii: ".")
                buf[n + 1] = UInt8(ascii: "0")
            }
            while v > 0 || written <= k {
                if written == k, k > 0 {
                    n -= 1
                    buf[n] = UInt8(ascii: ".")
                }
                let (q, r) = v.quotientAndRemainder(dividingBy: 10)
                n -= 1
                buf[n] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: r)
                v = q
                written += 1
            }
            if negative {
                n -= 1
                buf[n] = UInt8(ascii: "-")
            }
            out.append(bytes: UnsafeBufferPointer(rebasing: buf[n...]))
        }
    }
}
