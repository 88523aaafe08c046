import Foundation
import Parquet

/// Paths, the Python helper (`scripts/parquet-tool.py`) and the canonical cell text it shares
/// with these tests.
enum Support {
    static let root: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// `<package root>/../shared/testdata/parquet-testing` where CI lays it (or two levels up, for a
    /// worktree under `wt/`), or `RUNNEL_PARQUET_TESTING`.
    static let parquetTesting: String? = {
        if let env = ProcessInfo.processInfo.environment["RUNNEL_PARQUET_TESTING"] { return env }
        for up in ["../shared", "../../shared"] {
            let p = URL(fileURLWithPath: root).appendingPathComponent(up + "/testdata/parquet-testing")
                .standardizedFileURL.path
            if FileManager.default.fileExists(atPath: p + "/data") { return p }
        }
        return nil
    }()

    struct Output {
        var status: Int32
        var stdout: Data
        var stderr: String
    }

    static func run(_ arguments: [String]) throws -> Output {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = arguments
        let out = Pipe()
        let errURL = FileManager.default.temporaryDirectory.appendingPathComponent(
            "parquet-tool-\(UUID().uuidString).err")
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let err = try FileHandle(forWritingTo: errURL)
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        try? err.close()
        let stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: errURL)
        return Output(status: p.terminationStatus, stdout: data, stderr: stderr)
    }

    static func tool(_ arguments: [String]) throws -> Output {
        try run(["python3", root + "/scripts/parquet-tool.py"] + arguments)
    }

    /// Python modules that are missing, or nil when all import.
    static func missingPython(_ modules: [String]) -> String? {
        let missing = modules.filter { m in ((try? run(["python3", "-c", "import \(m)"]))?.status ?? 1) != 0 }
        return missing.isEmpty ? nil : missing.joined(separator: ", ")
    }

    struct Dump {
        var columns: [(name: String, category: String)]
        var rows: [[String?]]
    }

    /// The file as `engine` (pyarrow, duckdb, polars) reads it; nil with the error when it cannot.
    static func dump(_ path: String, engine: String = "pyarrow") throws -> (Dump?, String) {
        let out = try tool(["dump", path, engine])
        guard out.status == 0 else { return (nil, out.stderr.split(separator: "\n").last.map(String.init) ?? "failed") }
        var lines = out.stdout.split(separator: UInt8(ascii: "\n"))
        guard !lines.isEmpty else { return (nil, "no output") }
        let head = try JSONSerialization.jsonObject(with: Data(lines.removeFirst())) as? [String: Any]
        let columns = (head?["columns"] as? [[String]] ?? []).map { (name: $0[0], category: $0[1]) }
        var rows: [[String?]] = []
        rows.reserveCapacity(lines.count)
        for line in lines {
            let cells = try JSONSerialization.jsonObject(with: Data(line)) as? [Any] ?? []
            rows.append(cells.map { $0 as? String })
        }
        return (Dump(columns: columns, rows: rows), "")
    }

    static func parseDump(_ data: Data) throws -> Dump? {
        var lines = data.split(separator: UInt8(ascii: "\n"))
        guard !lines.isEmpty else { return nil }
        let head = try JSONSerialization.jsonObject(with: Data(lines.removeFirst())) as? [String: Any]
        let columns = (head?["columns"] as? [[String]] ?? []).map { (name: $0[0], category: $0[1]) }
        var rows: [[String?]] = []
        rows.reserveCapacity(lines.count)
        for line in lines {
            let cells = try JSONSerialization.jsonObject(with: Data(line)) as? [Any] ?? []
            rows.append(cells.map { $0 as? String })
        }
        return Dump(columns: columns, rows: rows)
    }

    /// Many files through one Python process (importing pyarrow takes a second each time).
    static func dumpMany(_ paths: [String], engine: String = "pyarrow") throws -> [(Dump?, String)] {
        let dir = try temporaryDirectory("dumps")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = try tool(["dump-many", dir, engine] + paths)
        guard out.status == 0 else { throw DumpFailure(message: out.stderr) }
        return try paths.indices.map { i in
            if let data = FileManager.default.contents(atPath: "\(dir)/\(i).jsonl") { return (try parseDump(data), "") }
            let err = (try? String(contentsOfFile: "\(dir)/\(i).err", encoding: .utf8)) ?? "no output"
            return (nil, err)
        }
    }

    struct DumpFailure: Error { var message: String }

    static func category(_ kind: ColumnKind) -> String {
        switch kind {
        case .boolean: return "boolean"
        case .int32, .int64, .uint64: return "int"
        case .float, .double: return "float"
        case .string, .json: return "string"
        case .binary: return "binary"
        case .date: return "date"
        default:
            let unit = kind.timeUnit.map { ["millis": "ms", "micros": "us", "nanos": "ns"]["\($0)"]! } ?? "?"
            if kind.isTimestamp { return "timestamp[\(unit)]" }
            if kind.isDecimal { return "decimal" }
            return "time[\(unit)]"
        }
    }

    static func floatText(_ d: Double) -> String { d.isNaN ? "nan" : "f:\(d.bitPattern)" }

    /// One canonical text per row, nil for nulls.
    static func cells(_ column: ParquetColumn, _ kind: ColumnKind) -> [String?] {
        (0..<column.count).map { row -> String? in
            if column.isNull(row) { return nil }
            switch column.values {
            case .boolean(let v): return v[row] ? "true" : "false"
            case .int32(let v): return String(v[row])
            case .int64(let v): return kind == .uint64 ? String(UInt64(bitPattern: v[row])) : String(v[row])
            case .float(let v): return floatText(Double(v[row]))
            case .double(let v): return floatText(v[row])
            case .byteArrays(let v):
                if kind == .binary { return "b:" + v[row].map { String(format: "%02x", $0) }.joined() }
                return v.string(at: row)
            }
        }
    }

    /// Columns read by the module against a dump; empty when they agree.
    static func compare(schema: [ParquetField], groups: [[ParquetColumn]], with dump: Dump) -> [String] {
        var problems: [String] = []
        guard schema.count == dump.columns.count else {
            return ["\(schema.count) columns, the reference \(dump.columns.count)"]
        }
        for (i, f) in schema.enumerated() {
            let expected = dump.columns[i]
            if f.name != expected.name {
                problems.append("column \(i) is '\(f.name)', the reference '\(expected.name)'")
            }
            if category(f.kind) != expected.category {
                problems.append(
                    "column '\(f.name)' is \(category(f.kind)) (\(f.kind)), the reference \(expected.category)")
            }
        }
        var row = 0
        for columns in groups {
            let n = columns.first?.count ?? 0
            let cellColumns = zip(schema, columns).map { cells($1, $0.kind) }
            for r in 0..<n {
                guard row < dump.rows.count else {
                    problems.append("more rows than the reference's \(dump.rows.count)")
                    return problems
                }
                for c in cellColumns.indices where cellColumns[c][r] != dump.rows[row][c] {
                    if problems.count < 5 {
                        problems.append(
                            "row \(row) column '\(schema[c].name)': \(cellColumns[c][r] ?? "null") ≠ reference \(dump.rows[row][c] ?? "null")"
                        )
                    }
                }
                row += 1
            }
        }
        if row != dump.rows.count { problems.append("\(row) rows, the reference \(dump.rows.count)") }
        return problems
    }

    /// Reads every row group of a file.
    static func readAll(_ path: String) async throws -> (schema: [ParquetField], groups: [[ParquetColumn]]) {
        let reader = try await ParquetReader.open(ParquetFileSource(path: path))
        var groups: [[ParquetColumn]] = []
        for g in 0..<reader.rowGroupCount { groups.append(try await reader.readRowGroup(g)) }
        return (reader.schema, groups)
    }

    static func temporaryDirectory(_ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("parquet-\(name)-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}

extension String {
    func padded(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}
