public import Foundation

/// A seeded mutation driver for fuzz targets that cannot be built with libFuzzer here (they need
/// Yams or SwiftNIO, built by SwiftPM): it mutates the committed seeds (flips, deletions,
/// duplications, splices, interesting bytes) and calls `body` with each input.
///
/// Runs `RUNNEL_FUZZ_SECONDS` seconds when set (`scripts/fuzz`), else `iterations` inputs, so that
/// the unit tests stay short and repeatable. The seed is fixed unless `RUNNEL_FUZZ_SEED` is set;
/// a failing input is printed in hex so that it can become a regression case.
public struct MutationFuzzer {
    public var seeds: [[UInt8]]
    public var iterations: Int
    public var seed: UInt64

    /// Seeds from a folder of the repository (`Fuzz/<target>/seeds`).
    public init(seedFolder: String, iterations: Int = 2_000) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: seedFolder).sorted()
        seeds = try names.map { Array(try Data(contentsOf: URL(fileURLWithPath: seedFolder + "/" + $0))) }
        self.iterations = iterations
        seed = ProcessInfo.processInfo.environment["RUNNEL_FUZZ_SEED"].flatMap { UInt64($0) } ?? 13
    }

    /// Calls `body` with every seed, then with mutated inputs; returns how many inputs ran.
    @discardableResult
    public func run(_ body: ([UInt8]) throws -> Void) rethrows -> Int {
        var rng = SeededGenerator(seed: seed)
        let seconds = ProcessInfo.processInfo.environment["RUNNEL_FUZZ_SECONDS"].flatMap { Double($0) }
        let deadline = seconds.map { Date().addingTimeInterval($0) }
        var count = 0
        for s in seeds {
            try body(s)
            count += 1
        }
        while deadline.map({ Date() < $0 }) ?? (count < iterations) {
            var input = seeds[Int(rng.next() % UInt64(seeds.count))]
            for _ in 0...(rng.next() % 4) { mutate(&input, &rng) }
            try body(input)
            count += 1
        }
        return count
    }

    private static let interesting: [[UInt8]] = [
        [0], [0x09], [0x0A], [0x0D, 0x0A], [0xFF], [0xC3, 0x28], Array("\"".utf8), Array("${".utf8), Array(": ".utf8),
        Array("- ".utf8), Array("{".utf8), Array("[".utf8), Array("&a".utf8), Array("*a".utf8), Array("-1".utf8),
        Array("99999999999999999999".utf8), Array("\r\n".utf8), Array("*".utf8), Array("$".utf8),
    ]

    private func mutate(_ input: inout [UInt8], _ rng: inout SeededGenerator) {
        let at = input.isEmpty ? 0 : Int(rng.next() % UInt64(input.count + 1))
        switch rng.next() % 6 {
        case 0 where !input.isEmpty:  // flip a bit
            let i = min(at, input.count - 1)
            input[i] ^= UInt8(1 << (rng.next() % 8))
        case 1 where !input.isEmpty:  // delete a range
            let n = Int(rng.next() % 16) + 1
            input.removeSubrange(at..<min(input.count, at + n))
        case 2:  // insert an interesting token
            input.insert(contentsOf: Self.interesting[Int(rng.next() % UInt64(Self.interesting.count))], at: at)
        case 3 where !input.isEmpty:  // duplicate a range
            let n = Int(rng.next() % 64) + 1
            let range = at..<min(input.count, at + n)
            input.insert(contentsOf: Array(input[range]), at: range.upperBound)
        case 4:  // splice in part of another seed
            let other = seeds[Int(rng.next() % UInt64(seeds.count))]
            if !other.isEmpty {
                let from = Int(rng.next() % UInt64(other.count))
                input.insert(contentsOf: other[from..<min(other.count, from + Int(rng.next() % 128))], at: at)
            }
        default:  // overwrite a byte
            if !input.isEmpty { input[min(at, input.count - 1)] = UInt8(truncatingIfNeeded: rng.next()) }
        }
    }

    /// Hex, for printing a failing input.
    public static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}
