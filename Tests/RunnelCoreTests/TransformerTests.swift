import RunnelTesting
import Testing
@testable import RunnelCore

private func batch(_ fields: [String], _ rows: [[Value]]) -> Batch {
    Batch(schema: Schema(fields), rows: rows, origins: rows.indices.map { Origin(source: "t", line: $0 + 1) })
}

@Suite struct TransformerTests {
    @Test func castGivesTypesAndRejectsWhatCannotBeCast() throws {
        var b = batch(["id", "amount", "day", "ok"], [
            ["1", "12.50", "2024-02-29", "yes"],
            ["x", "1.0", "2024-01-01", "no"],
            ["3", "12,50", "2024-01-01", "true"],
            ["4", "1", "2023-02-29", "false"],
            [.null, .null, .null, .null],
        ])
        let cast = CastTransformer([
            ("id", .int), ("amount", .double), ("day", .timestamp(try TimestampFormat(spec: "%Y-%m-%d"))), ("ok", .bool),
        ])
        try cast.apply(to: &b)
        #expect(b.records.count == 2)
        #expect(b.records[0].values == [.int(1), .double(12.5), .timestamp(Timestamp(seconds: 1_709_164_800)), .bool(true)])
        #expect(b.records[1].values == [.null, .null, .null, .null])
        #expect(b.rejections.map(\.error.field) == ["id", "amount", "day"])
        #expect(b.rejections.map(\.ordinal) == [1, 2, 3])
        #expect(b.rejections[2].error.message.contains("2023-02-29"))
    }

    /// A record that fails several casts is rejected once, with its first failing field in the
    /// spec's order, in both layouts; the other records keep their values.
    @Test(arguments: [false, true])
    func aRecordFailingSeveralCastsIsRejectedAtTheFirst(columnar: Bool) throws {
        let rows: [[Value]] = [["x", "y", "1"], ["2", "z", "2"], ["3", "3.5", "q"], ["4", "4.5", "4"]]
        var b = batch(["id", "amount", "n"], rows)
        if columnar {
            b = Batch(
                schema: b.schema, columns: (0..<3).map { i in Column(rows.map { $0[i] }) },
                origins: rows.indices.map { Origin(source: "t", line: $0 + 1) })
        }
        try CastTransformer([("id", .int), ("amount", .double), ("n", .int)]).apply(to: &b)
        #expect(b.rejections.map(\.ordinal) == [0, 1, 2])
        #expect(b.rejections.map(\.error.field) == ["id", "amount", "n"])
        #expect(b.records.map(\.values) == [[.int(4), .double(4.5), .int(4)]])
    }

    @Test(arguments: [
        ("2024-03-01T12:30:00Z", Int64(1_709_296_200_000_000)),
        ("2024-03-01 12:30:00.25+02:00", Int64(1_709_289_000_250_000)),
        ("2024-03-01", Int64(1_709_251_200_000_000)),
    ])
    func iso8601Parses(_ text: String, _ micros: Int64) {
        #expect(TimestampFormat.iso8601.parse(text) == Timestamp(microseconds: micros))
    }

    @Test(arguments: ["2024-02-30", "2024-13-01", "2024-01-01T25:00:00Z", "2024-1-1", "yesterday", ""])
    func impossibleTimestampsAreRejected(_ text: String) {
        #expect(TimestampFormat.iso8601.parse(text) == nil)
    }

    @Test func timestampsRoundTripThroughISO8601() {
        for micros: Int64 in [0, 1, -1, 951_782_400_000_000, -62_135_596_800_000_000, 4_102_444_799_999_999] {
            let t = Timestamp(microseconds: micros)
            #expect(TimestampFormat.iso8601.parse(t.iso8601) == t, "\(t.iso8601)")
        }
    }

    @Test(arguments: [
        (Int64(1_357_034_400_000_000), "2013-01-01T10:00:00Z"),
        (Int64(1_357_034_400_250_000), "2013-01-01T10:00:00.25Z"),
        (Int64(1_357_034_400_100_000), "2013-01-01T10:00:00.1Z"),
        (Int64(1_357_034_400_000_001), "2013-01-01T10:00:00.000001Z"),
        (Int64(1_357_034_400_123_450), "2013-01-01T10:00:00.12345Z"),
    ])
    func timestampsAreWrittenInTheirShortestExactForm(_ micros: Int64, _ text: String) {
        let t = Timestamp(microseconds: micros)
        #expect(t.iso8601 == text)
        #expect(TimestampFormat.iso8601.parse(t.iso8601) == t)
        #expect(t.iso8601FixedWidth.count == 27)
    }

    @Test func shapeTransformersRenameSelectDropAndSet() throws {
        var b = batch(["a", "b", "c"], [[1, 2, 3], [4, .null, 6]])
        try RenameTransformer([("a", "x")]).apply(to: &b)
        try DropTransformer(fields: ["c"]).apply(to: &b)
        try SetTransformer([("b", 0), ("d", "new")], onlyIfNull: true).apply(to: &b)
        try SelectTransformer(fields: ["d", "x", "b"]).apply(to: &b)
        #expect(b.schema.fields == ["d", "x", "b"])
        #expect(b.records.map(\.values) == [["new", 1, 2], ["new", 4, 0]])
    }

    /// A declared header (CSV) that lacks a named field is a contract error naming the columns;
    /// self-describing records read it as null (`MissingFieldTests`).
    @Test func aMissingFieldOfADeclaredHeaderIsAContractErrorNamingTheFields() {
        var b = batch(["a"], [[1]])
        b.closedSchema = true
        #expect {
            try CastTransformer([("nope", .int)]).apply(to: &b)
        } throws: { error in
            let e = error as? RunnelError
            return e?.code == .dataContract && e!.message.contains("'nope'") && e!.message.contains("columns: a")
        }
    }

    @Test func nullIfTrimCaseAndHash() throws {
        var b = batch(["s", "e"], [["  NA ", "Ada@Example.com"], [" x ", "abc"]])
        try MapTransformer(.trim, fields: ["s"]).apply(to: &b)
        try NullIfTransformer(fields: ["s"], values: ["NA"]).apply(to: &b)
        try MapTransformer(.lowercase, fields: ["e"]).apply(to: &b)
        #expect(b.records[0].values == [.null, "ada@example.com"])
        try MapTransformer(.hash, fields: ["e"]).apply(to: &b)
        // FIPS 180-2 test vector: SHA-256("abc").
        #expect(b.records[1].values[1] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func sha256MatchesKnownVectors() {
        #expect(SHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let long = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        #expect(SHA256.hex(long) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func filterKeepsMatchingRecordsWithoutRejecting() throws {
        var b = batch(["n", "s"], [[1, "a"], [5, "b"], [10, "c"], [.null, "d"]])
        let f = FilterTransformer(.all([.compare(field: "n", op: .gte, value: 5), .any([.compare(field: "s", op: .in, value: .array(["b", "c"]))])]))
        try f.apply(to: &b)
        #expect(b.records.map { $0.values[1] } == ["b", "c"])
        #expect(b.rejections.isEmpty)
    }

    @Test func fieldRulesRejectWithTheirCheckName() throws {
        var b = batch(["v"], [[5], [-1], [100], [.null], ["x"]])
        try FieldRules(field: "v", required: true, type: "int", min: 0, max: 10).apply(to: &b)
        #expect(b.records.map { $0.values[0] } == [5])
        #expect(b.rejections.map(\.error.code) == ["min", "max", "required", "type"])

        var c = batch(["s"], [["ok"], ["bad!"], ["toolongvalue"]])
        try FieldRules(field: "s", pattern: "^[a-z]+$", maxLength: 5).apply(to: &c)
        #expect(c.rejections.map(\.error.code) == ["pattern", "max_length"])

        var d = batch(["s"], [["a"], ["z"]])
        try FieldRules(field: "s", oneOf: ["a", "b"]).apply(to: &d)
        #expect(d.rejections.map(\.error.code) == ["one_of"])
    }
}

/// A field that a whole batch lacks used to fail the run with exit 2, so the same records passed
/// in batches of 10 and failed in batches of 1.
@Suite struct MissingFieldTests {
    private func stages() throws -> [any Transformer] {
        [
            RenameTransformer([(from: "note", to: "comment")]),
            MapTransformer(.trim, fields: ["discount"]),
            NullIfTransformer(fields: ["discount"], values: ["NA"]),
            CastTransformer([("id", .int), ("discount", .double)]),
            FilterTransformer(.compare(field: "discount", op: .isNull, value: .null)),
            SelectTransformer(fields: ["id", "discount", "comment"]),
        ]
    }

    @Test func aFieldNoRecordOfTheBatchHasIsNullForSelfDescribingRecords() throws {
        var b = batch(["id"], [["1"]])
        for t in try stages() { try t.apply(to: &b) }
        try FieldRules(field: "discount", type: "double", min: .double(0)).apply(to: &b)
        #expect(b.rejections.isEmpty)
        #expect(b.schema.fields == ["id", "discount", "comment"])
        #expect(b.records.map(\.values) == [[.int(1), .null, .null]])
    }

    @Test func aHeaderWithoutANamedColumnIsAContractErrorNamingFileAndColumn() throws {
        var b = batch(["id"], [["1"]])
        b.closedSchema = true
        #expect {
            try CastTransformer([("id", .int), ("discount", .double)]).apply(to: &b)
        } throws: { error in
            guard let e = error as? RunnelError else { return false }
            return e.code.exitCode == 3 && e.description.contains("the header of t has no column 'discount'")
        }
    }
}

/// The cast's exact decimal path must give the double the C library gives, bit for bit.
@Suite struct ExactDecimalTests {
    @Test func exactDecimalsEqualStrtod() {
        var rng = SeededGenerator(seed: 42)
        func next(_ bound: UInt64) -> UInt64 { rng.next() % bound }
        var taken = 0
        for k in 0..<50_000 {
            let whole = String(next(k % 3 == 0 ? 1_000_000_000_000 : 100_000))
            let fraction = String(next(1_000_000_000)).prefix(Int(next(12)))
            let text = (next(2) == 0 ? "-" : "") + whole + (fraction.isEmpty ? "" : "." + fraction)
            let bytes = Array(text.utf8)
            guard let fast = bytes.withUnsafeBufferPointer({ ColumnCast.exactDecimal($0) }) else { continue }
            taken += 1
            #expect(fast.bitPattern == Double(text)!.bitPattern, "\(text)")
        }
        #expect(taken > 40_000)
        for text in ["1.", ".5", "1e5", "12345678901234567890", "9007199254740993", "-", "", "1.2.3"] {
            #expect(Array(text.utf8).withUnsafeBufferPointer { $0.isEmpty ? nil : ColumnCast.exactDecimal($0) } == nil, "\(text)")
        }
    }
}

/// The timestamp fast paths (ISO 8601 read at fixed positions, written two digits at a time)
/// must agree with the general scanner and with a plain formatter on every input.
@Suite struct TimestampFastPathTests {
    @Test func theCanonicalReaderAgreesWithTheScanner() {
        var rng = SeededGenerator(seed: 3)
        func next(_ bound: Int) -> Int { rng.below(bound) }
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        var taken = 0
        for _ in 0..<60_000 {
            // Mostly valid, some impossible (month 13, day 31 in a short month, hour 24, second 60),
            // some with a stray character, fractions of 0 to 10 digits, other zones and separators.
            var text = "\(1000 + next(9000))-\(two(1 + next(13)))-\(two(1 + next(31)))"
            text += ["T", "T", "T", " ", "t"][next(5)]
            text += "\(two(next(25))):\(two(next(60))):\(two(next(61)))"
            let digits = next(11)
            if digits > 0 { text += "." + String((0..<digits).map { _ in Character(String(next(10))) }) }
            text += ["Z", "Z", "Z", "z", "+02:00", ""][next(6)]
            var bytes = Array(text.utf8)
            if next(20) == 0 { bytes[next(bytes.count)] = [UInt8(ascii: "x"), UInt8(ascii: "/"), 0xC3][next(3)] }
            bytes.withUnsafeBufferPointer { b in
                let fast = TimestampFormat.canonicalISO8601(b)
                let scanned = TimestampFormat.scanISO8601(b)
                if fast != nil { taken += 1 }
                #expect(fast == nil || fast == scanned, "\(String(decoding: b, as: UTF8.self))")
                #expect(TimestampFormat.iso8601.parse(utf8: b) == scanned, "\(String(decoding: b, as: UTF8.self))")
            }
        }
        #expect(taken > 10_000)
    }

    @Test func theTableWriterAgreesWithAPlainFormatter() {
        var rng = SeededGenerator(seed: 5)
        func next() -> Int64 { Int64.random(in: -400_000_000_000_000_000...400_000_000_000_000_000, using: &rng) }
        func reference(_ t: Timestamp, fixed: Bool) -> String {
            let (y, m, d, s, micros) = t.components
            func pad(_ v: Int64, _ w: Int) -> String { String(repeating: "0", count: max(0, w - String(v).count)) + String(v) }
            var text = y < 0 ? "-" + pad(-y, 4) : pad(y, 4)
            text += "-\(pad(Int64(m), 2))-\(pad(Int64(d), 2))T\(pad(s / 3600, 2)):\(pad(s / 60 % 60, 2)):\(pad(s % 60, 2))"
            if micros != 0 || fixed {
                var f = pad(micros, 6)
                if !fixed { while f.hasSuffix("0") { f.removeLast() } }
                text += "." + f
            }
            return text + "Z"
        }
        let edges: [Int64] = [0, 1, -1, 999_999, 1_000_000, 86_399_999_999, 253_402_300_799_999_999, -62_135_596_800_000_000]
        for micros in edges + (0..<20_000).map({ _ in next() }) + (0..<20_000).map({ _ in next() / 1_000_000 * 1_000_000 }) {
            let t = Timestamp(microseconds: micros)
            #expect(t.iso8601 == reference(t, fixed: false))
            #expect(t.iso8601FixedWidth == reference(t, fixed: true))
        }
    }
}
