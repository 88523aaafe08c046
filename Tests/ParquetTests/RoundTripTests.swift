import Foundation
import Parquet
import Testing

/// Files the module writes, read back by pyarrow, DuckDB and Polars (values, types, nulls and
/// statistics); files those tools write, read by the module.
struct RoundTripTests {
    static let schema: [ParquetField] = [
        ParquetField(name: "id", kind: .int64, nullable: false),
        ParquetField(name: "n", kind: .int64),
        ParquetField(name: "x", kind: .double),
        ParquetField(name: "flag", kind: .boolean),
        ParquetField(name: "s", kind: .string),
        ParquetField(name: "city", kind: .string, nullable: false),
        ParquetField(name: "ts", kind: .timestampMicros),
        ParquetField(name: "j", kind: .json),
        ParquetField(name: "none", kind: .int64),
    ]

    /// Rows `range` of a sample with nulls, extremes, unicode, empty strings and repeated values.
    static func sample(_ range: Range<Int>) -> [ParquetColumn] {
        let words = [
            "", "héllo", "日本語", "emoji 🎉", "plain", "a\"quote", "tab\there", String(repeating: "x", count: 300),
        ]
        let cities = ["Berlin", "Zürich", "São Paulo", "Tokyo", "Lagos"]
        let specials: [Double] = [.infinity, -.infinity, .nan, -0.0, .greatestFiniteMagnitude, .leastNonzeroMagnitude]
        var n: [Int64] = []
        var nv: [Bool] = []
        var x: [Double] = []
        var xv: [Bool] = []
        var flag: [Bool] = []
        var fv: [Bool] = []
        var s = ByteArrays()
        var sv: [Bool] = []
        var city = ByteArrays()
        var ts: [Int64] = []
        var tv: [Bool] = []
        var j = ByteArrays()
        var jv: [Bool] = []
        for i in range {
            let nNull = i % 7 == 3
            n.append(nNull ? 0 : (i == 0 ? .min : i == 1 ? .max : Int64((i * 7919) % 1000 - 500)))
            nv.append(!nNull)
            let xNull = i % 11 == 5
            x.append(xNull ? 0 : (i < specials.count ? specials[i] : Double(i) / 3))
            xv.append(!xNull)
            flag.append(i % 5 != 0 && i % 3 == 0)
            fv.append(i % 5 != 0)
            let sNull = i % 13 == 4
            s.append(sNull ? "" : words[i % words.count] + (i % 3 == 0 ? "" : String(i / 100)))
            sv.append(!sNull)
            city.append(cities[(i / 3) % cities.count])
            let tNull = i % 17 == 2
            ts.append(
                tNull
                    ? 0
                    : (i == 0
                        ? -62_135_596_800_000_000
                        : i == 1 ? 253_402_300_799_999_999 : 1_704_067_200_000_000 + Int64(i) * 3_601_000_001))
            tv.append(!tNull)
            let jNull = i % 4 == 1
            j.append(jNull ? "" : "{\"a\":[\(i),2],\"b\":\"é\(i % 10)\"}")
            jv.append(!jNull)
        }
        let count = range.count
        return [
            ParquetColumn(values: .int64(range.map(Int64.init))),
            ParquetColumn(values: .int64(n), validity: nv),
            ParquetColumn(values: .double(x), validity: xv),
            ParquetColumn(values: .boolean(flag), validity: fv),
            ParquetColumn(values: .byteArrays(s), validity: sv),
            ParquetColumn(values: .byteArrays(city)),
            ParquetColumn(values: .int64(ts), validity: tv),
            ParquetColumn(values: .byteArrays(j), validity: jv),
            ParquetColumn(
                values: .int64(Array(repeating: 0, count: count)), validity: Array(repeating: false, count: count)),
        ]
    }

    static let groups: [Range<Int>] = [0..<3000, 3000..<5000]

    static func write(_ path: String, _ configuration: ParquetWriter<ParquetFileDescriptorSink>.Configuration) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw ParquetError(code: .io, message: "cannot create \(path)") }
        defer { close(fd) }
        var writer = try ParquetWriter(
            schema: schema, sink: ParquetFileDescriptorSink(descriptor: fd), configuration: configuration)
        for g in groups { try writer.writeRowGroup(sample(g)) }
        _ = try writer.close()
    }

    /// The configurations written: each codec, and one with tiny pages and dictionary limit (many
    /// pages, dictionary falling back to PLAIN).
    static func configurations() -> [(String, ParquetWriter<ParquetFileDescriptorSink>.Configuration)] {
        var out: [(String, ParquetWriter<ParquetFileDescriptorSink>.Configuration)] = []
        for c in [ParquetCompression.zstd, .snappy, .gzip, .none] { out.append(("runnel-\(c)", .init(compression: c))) }
        var small = ParquetWriter<ParquetFileDescriptorSink>.Configuration(compression: .zstd)
        small.dataPageSize = 1024
        small.dictionaryPageSizeLimit = 32
        out.append(("runnel-smallpages-fallback", small))
        return out
    }

    @Test func moduleReadsWhatItWrites() async throws {
        let dir = try Support.temporaryDirectory("self")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, configuration) in Self.configurations() {
            let path = "\(dir)/\(name).parquet"
            try Self.write(path, configuration)
            let (schema, groups) = try await Support.readAll(path)
            #expect(schema == Self.schema, "\(name)")
            #expect(groups.count == Self.groups.count)
            for (g, range) in Self.groups.enumerated() where g < groups.count {
                let expected = Self.sample(range)
                for c in schema.indices {
                    #expect(
                        Support.cells(groups[g][c], schema[c].kind) == Support.cells(expected[c], schema[c].kind),
                        "\(name) row group \(g) column \(schema[c].name)")
                }
            }
        }
    }

    /// The written data as a reference dump (what every engine must read).
    static func expectedDump() -> Support.Dump {
        let groups = Self.groups.map(Self.sample)
        var rows: [[String?]] = []
        for columns in groups {
            let cells = zip(schema, columns).map { Support.cells($1, $0.kind) }
            for r in 0..<(columns.first?.count ?? 0) { rows.append(cells.map { $0[r] }) }
        }
        return Support.Dump(columns: schema.map { ($0.name, Support.category($0.kind)) }, rows: rows)
    }

    @Test func enginesReadWhatTheModuleWrites() throws {
        if let missing = Support.missingPython(["pyarrow", "duckdb", "polars"]) {
            print(
                "round trip to pyarrow/DuckDB/Polars: skipped — python module \(missing) missing (scripts/test installs them with pip)"
            )
            return
        }
        let dir = try Support.temporaryDirectory("engines")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let configurations = Self.configurations()
        var paths: [String] = []
        for (name, configuration) in configurations {
            paths.append("\(dir)/\(name).parquet")
            try Self.write(paths.last!, configuration)
        }
        let expected = Self.expectedDump()
        let expectedRows = Self.groups.map { Self.sample($0) }
        var table = ["file                          pyarrow  duckdb  polars   bytes"]
        for engine in ["pyarrow", "duckdb", "polars"] {
            let dumps = try Support.dumpMany(paths, engine: engine)
            for (path, (dump, error)) in zip(paths, dumps) {
                guard let dump else {
                    Issue.record("\(engine) cannot read \(path): \(error)")
                    continue
                }
                // Polars reads the JSON logical type as binary (it knows only STRING as text).
                let schema =
                    engine != "polars"
                    ? Self.schema
                    : Self.schema.map { f in
                        f.kind == .json ? ParquetField(name: f.name, kind: .binary, nullable: f.nullable) : f
                    }
                let problems = Support.compare(schema: schema, groups: expectedRows, with: dump)
                #expect(problems.isEmpty, "\(engine) reads \(path) differently: \(problems)")
                #expect(dump.rows.count == expected.rows.count)
            }
        }
        for (name, _) in configurations {
            let size = (try? FileManager.default.attributesOfItem(atPath: "\(dir)/\(name).parquet")[.size] as? Int) ?? 0
            table.append(name.padded(30) + "equal    equal   equal    \(size)")
        }
        print("module-written files read by pyarrow, DuckDB and Polars:\n" + table.joined(separator: "\n"))
    }

    /// pyarrow's statistics of a written file equal min/max/null counts computed here.
    @Test func statisticsAsPyarrowReadsThem() throws {
        if let missing = Support.missingPython(["pyarrow"]) {
            print("statistics check: skipped — python module \(missing) missing")
            return
        }
        let dir = try Support.temporaryDirectory("stats")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, configuration) in Self.configurations() {
            let path = "\(dir)/\(name).parquet"
            try Self.write(path, configuration)
            let out = try Support.tool(["stats", path])
            #expect(out.status == 0, "\(out.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: out.stdout) as? [String: Any])
            let groups = try #require(json["row_groups"] as? [[String: Any]])
            #expect(json["format_version"] as? String == "2.6" || json["format_version"] as? String == "2")
            #expect(groups.count == Self.groups.count)
            for (g, range) in Self.groups.enumerated() where g < groups.count {
                let columns = Self.sample(range)
                let stats = try #require(groups[g]["columns"] as? [[String: Any]])
                for (c, field) in Self.schema.enumerated() {
                    let st = stats[c]
                    let want = Self.expectedStatistics(columns[c], field.kind)
                    #expect(st["null_count"] as? Int == want.nulls, "\(name) \(field.name) null count")
                    #expect(st["min"] as? String == want.min, "\(name) \(field.name) min")
                    #expect(st["max"] as? String == want.max, "\(name) \(field.name) max")
                    let encodings = st["encodings"] as? [String] ?? []
                    if field.name == "city" {
                        let dictionary = encodings.contains("RLE_DICTIONARY")
                        #expect(
                            dictionary == (name != "runnel-smallpages-fallback"), "\(name) city encodings \(encodings)")
                    }
                }
                #expect(
                    (stats[0]["codec"] as? String)?.lowercased() == [
                        "runnel-zstd": "zstd", "runnel-snappy": "snappy", "runnel-gzip": "gzip",
                        "runnel-none": "uncompressed",
                    ][name] ?? "zstd")
            }
        }
    }

    /// Min and max as canonical cells (NaN left out, zero bounds signed as the format asks), and nulls.
    static func expectedStatistics(_ column: ParquetColumn, _ kind: ColumnKind) -> (
        min: String?, max: String?, nulls: Int
    ) {
        var lo: Int?
        var hi: Int?
        func less(_ a: Int, _ b: Int) -> Bool {
            switch column.values {
            case .boolean(let v): !v[a] && v[b]
            case .int32(let v): v[a] < v[b]
            case .int64(let v): v[a] < v[b]
            case .float(let v): v[a] < v[b]
            case .double(let v): v[a] < v[b]
            case .byteArrays(let v): v[a].lexicographicallyPrecedes(v[b])
            }
        }
        for r in 0..<column.count where !column.isNull(r) {
            if case .double(let v) = column.values, v[r].isNaN { continue }
            if lo == nil || less(r, lo!) { lo = r }
            if hi == nil || less(hi!, r) { hi = r }
        }
        let cells = Support.cells(column, kind)
        func bound(_ r: Int?, min: Bool) -> String? {
            guard let r else { return nil }
            if case .double(let v) = column.values, v[r] == 0 { return Support.floatText(min ? -0.0 : 0.0) }
            return cells[r]
        }
        return (bound(lo, min: true), bound(hi, min: false), column.nullCount)
    }

    @Test func moduleReadsWhatEnginesWrite() async throws {
        if let missing = Support.missingPython(["pyarrow", "duckdb"]) {
            print(
                "files written by pyarrow/DuckDB/Polars: skipped — python module \(missing) missing (scripts/test installs them with pip)"
            )
            return
        }
        let dir = try Support.temporaryDirectory("gen")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = try Support.tool(["gen", dir])
        #expect(out.status == 0, "\(out.stderr)")
        let names = String(decoding: out.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(names.count >= 30, "writers skipped: \(out.stderr)")
        var references = try Support.dumpMany(names.map { "\(dir)/\($0)" })
        // pyarrow cannot read some DuckDB files (PARQUET_VERSION v2's delta widths): DuckDB is their reference.
        let unread = references.indices.filter { references[$0].0 == nil }
        if !unread.isEmpty {
            let duck = try Support.dumpMany(unread.map { "\(dir)/\(names[$0])" }, engine: "duckdb")
            for (i, d) in zip(unread, duck) { references[i] = (d.0, references[i].1 + "; duckdb: " + d.1) }
        }
        var table = ["file                                  result"]
        for (i, (name, (reference, error))) in zip(names, references).enumerated() {
            let reference = try #require(reference, "neither pyarrow nor DuckDB reads \(name): \(error)")
            let by = unread.contains(i) ? " (reference: DuckDB; pyarrow cannot read it)" : ""
            do {
                let (schema, groups) = try await Support.readAll("\(dir)/\(name)")
                let problems = Support.compare(schema: schema, groups: groups, with: reference)
                #expect(problems.isEmpty, "\(name): \(problems)")
                table.append(
                    name.padded(38)
                        + (problems.isEmpty
                            ? "equal (\(reference.rows.count) rows)\(by)" : "MISMATCH \(problems.first!)"))
            } catch {
                Issue.record("\(name): \(error)")
                table.append(name.padded(38) + "FAIL \(error)")
            }
        }
        print("files written by pyarrow, DuckDB and Polars, read by the module:\n" + table.joined(separator: "\n"))
    }
}
