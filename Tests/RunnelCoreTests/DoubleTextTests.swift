import RunnelTesting
import Testing
@testable import RunnelCore

/// `DoubleText.writeShort` must write exactly `Double.description` whenever it writes anything:
/// JSON part files are compared by their bytes on replay, and COPY text must read back to the
/// same double.
@Suite struct DoubleTextTests {
    private func short(_ d: Double) -> String? {
        var out: [UInt8] = []
        guard DoubleText.writeShort(d, into: &out) else {
            #expect(out.isEmpty, "nothing is written when the fast path declines \(d)")
            return nil
        }
        return String(decoding: out, as: UTF8.self)
    }

    @Test func writesWhatDescriptionWritesOrDeclines() {
        var rng = SeededGenerator(seed: 11)
        var taken = 0
        var tried = 0
        func check(_ d: Double) {
            tried += 1
            if let text = short(d) {
                taken += 1
                #expect(text == d.description, "\(d.bitPattern)")
                #expect(Double(text) == d)
            }
        }
        for _ in 0..<60_000 {
            // Decimal-looking values (cents, rates, measures) of every size around the bounds.
            let digits = rng.below(7)
            let m = Double(Int64(rng.next() >> 20) % 100_000_000_000_000)
            let scale = [1.0, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e10][rng.below(10)]
            check((rng.below(2) == 0 ? 1 : -1) * m / scale / Double(1 << digits))
            check(Double(rng.below(10_000_000)) / [1, 10, 100, 1000, 1e4][rng.below(5)])
            // Arbitrary bit patterns: mostly declined, never wrong.
            check(Double(bitPattern: rng.next()))
            // Computed values that are not short decimals (sums, products, thirds).
            check(Double(rng.below(100_000)) / 100 * 1.1 + 0.1 * Double(rng.below(10)))
        }
        for d in [1e-4, 0.00012, 9.9999e-5, 1e8, 99_999_999.999999, 1e8 - 1, 0.1, 0.2 + 0.1, 5.0, -5.0, 1.0 / 3.0, 123.45, -0.001] {
            check(d)
        }
        #expect(short(0) == nil && short(-0.0) == nil && short(.nan) == nil && short(.infinity) == nil)
        #expect(short(123.45) == "123.45" && short(-0.001) == "-0.001" && short(7) == "7.0")
        // The fast path is the common path for decimal data, not a corner.
        #expect(taken * 3 > tried, "\(taken) of \(tried)")
    }
}
