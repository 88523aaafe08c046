import Foundation
import RunnelTesting
import Testing

/// A memory cgroup (v1, as this project's CI machine has it) the test can create and put a
/// process in; nil where the cgroup file system is not writable.
private struct MemoryCgroup {
    let path: String

    static let root = "/sys/fs/cgroup/memory"
    static var available: Bool { FileManager.default.isWritableFile(atPath: root) && FileManager.default.fileExists(atPath: root + "/cgroup.procs") }

    init(limit: Int) throws {
        path = Self.root + "/runnel-test-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        try "\(limit)".write(toFile: path + "/memory.limit_in_bytes", atomically: false, encoding: .utf8)
    }

    /// Runs `arguments` inside the cgroup: a shell moves itself in, then becomes the program.
    func run(_ binary: String, _ arguments: [String]) throws -> CommandRunner.Output {
        try CommandRunner.run("/bin/sh", ["-c", "echo $$ > \(path)/cgroup.procs && exec \"$@\"", "sh", binary] + arguments)
    }

    func value(_ file: String) -> String {
        (try? String(contentsOfFile: path + "/" + file, encoding: .utf8)) ?? ""
    }

    func remove() { rmdir(path) }
}

/// The quickstart spec over `rows` generated orders (every 40th row updates an earlier order).
private func largeQuickstart(rows: Int) throws -> String {
    let dir = try quickstartCopy()
    var csv = "order_id,customer_name,customer_email,country,status,amount,discount,ordered_at,updated_at\n"
    csv.reserveCapacity(rows * 110)
    let statuses = ["pending", "paid", "shipped", "cancelled", "refunded"]
    var id = 0
    for r in 0..<rows {
        let order: Int
        if r % 40 == 39 { order = id / 2 + 1 } else { id += 1; order = id }
        let day = 1 + r % 28
        csv += "\(order),Customer \(r),c\(r)@example.com,DE,\(statuses[r % 5]),\(Double(r % 9_000) / 4),\(r % 7 == 0 ? "NA" : String(r % 30)),"
        csv += "2024-03-\(day < 10 ? "0" : "")\(day),2024-03-\(day < 10 ? "0" : "")\(day)T10:\(r % 60 < 10 ? "0" : "")\(r % 60):00Z\n"
    }
    try write(csv, to: dir + "/data/orders.csv")
    return dir
}

/// Peak RSS (KiB) of one command, by Python's getrusage over its one child.
private func peakRSS(_ binary: String, _ arguments: [String], dir: String) throws -> (CommandRunner.Output, Int) {
    let wrapper = "import resource,subprocess,sys; r=subprocess.run(sys.argv[1:]); "
        + "open('\(dir)/rss', 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); sys.exit(r.returncode)"
    let out = try CommandRunner.run("/usr/bin/env", ["python3", "-c", wrapper, binary] + arguments)
    return (out, Int(try String(contentsOfFile: dir + "/rss", encoding: .utf8)) ?? 0)
}

@Suite(.serialized) struct MemoryLimitTests {
    /// 200,000 orders into SQLite take about 80 MiB without a limit (a 16 MiB page cache among
    /// it). Under a 32 MiB limit the window (16 MiB) sizes the page cache, the key memory and the
    /// batches down and the run finishes with the same table; the same run told to ignore the
    /// limit (`memory.max_bytes: 256MiB`) is killed by the kernel, which shows the limit is real.
    @Test(.enabled(if: MemoryCgroup.available, "needs a writable cgroup v1 memory controller"))
    func aRunUnderALimitBelowItsUnlimitedPeakFinishesWithTheSameTable() throws {
        let free = try largeQuickstart(rows: 200_000)
        let (plain, peak) = try peakRSS(batchBinary, ["run", free + "/pipeline.yaml", "--summary-json"], dir: free)
        #expect(plain.exitCode == 0, "\(plain.stderr)")
        let table = try dump(free + "/out/quickstart.db", "SELECT * FROM orders ORDER BY order_id")
        #expect(table.count == 195_000)
        let limit = 32 << 20
        #expect(peak * 1024 > limit, "the unlimited run peaked at \(peak) KiB")

        let cgroup = try MemoryCgroup(limit: limit)
        defer { cgroup.remove() }
        let limited = try largeQuickstart(rows: 200_000)
        let validate = try cgroup.run(batchBinary, ["validate", limited + "/pipeline.yaml"])
        #expect(validate.stdout.contains("memory window: 16 MiB (50% of the cgroup v1 limit, 32 MiB)"), "\(validate.stdout)")
        let run = try cgroup.run(batchBinary, ["run", limited + "/pipeline.yaml", "--summary-json"])
        #expect(run.exitCode == 0, "\(run.stderr) \(cgroup.value("memory.oom_control"))")
        #expect(try dump(limited + "/out/quickstart.db", "SELECT * FROM orders ORDER BY order_id") == table)

        let ignoring = try largeQuickstart(rows: 200_000)
        try (try String(contentsOfFile: ignoring + "/pipeline.yaml", encoding: .utf8) + "\nmemory: {max_bytes: 256MiB}\n")
            .write(toFile: ignoring + "/pipeline.yaml", atomically: true, encoding: .utf8)
        let killed = try cgroup.run(batchBinary, ["run", ignoring + "/pipeline.yaml"])
        #expect(killed.exitCode != 0, "without the window the run should not fit in \(limit) bytes")
    }
}

extension MemoryLimitTests {
    /// CSV → Parquet parts, 200,000 orders (about 20 MiB of input, more in parts than the window)
    /// under a 32 MiB cgroup limit: the run finishes, and the rows read back from the parts equal
    /// those of the same run without a limit.
    @Test(.enabled(if: MemoryCgroup.available, "needs a writable cgroup v1 memory controller"))
    func parquetPartsUnderALimitHoldTheSameRows() throws {
        func setUp() throws -> String {
            let dir = try largeQuickstart(rows: 200_000)
            try """
            pipeline: parquet-memory
            extract: {type: csv, path: \(dir)/data/orders.csv}
            transform:
              - {type: null_if, fields: [discount], values: [NA]}
              - {type: cast, fields: {order_id: int, amount: double, discount: double, updated_at: timestamp}}
            load: {type: parquet, path: \(dir)/parts}
            checkpoint: {type: file, path: \(dir)/state}
            dead_letter: {type: jsonl, path: \(dir)/state}
            """.write(toFile: dir + "/to-parquet.yaml", atomically: true, encoding: .utf8)
            try """
            pipeline: parquet-back
            extract: {type: parquet, path: "\(dir)/parts/*.parquet"}
            load: {type: jsonl, path: \(dir)/back}
            validate: {on_invalid: fail}
            """.write(toFile: dir + "/back.yaml", atomically: true, encoding: .utf8)
            return dir
        }
        func rowsBack(_ dir: String) throws -> [Substring] {
            let out = try CommandRunner.run(batchBinary, ["run", dir + "/back.yaml", "--no-progress"])
            #expect(out.exitCode == 0, "\(out.stderr)")
            var lines: [Substring] = []
            for name in try FileManager.default.contentsOfDirectory(atPath: dir + "/back") {
                lines += try String(contentsOfFile: dir + "/back/" + name, encoding: .utf8).split(separator: "\n")
            }
            return lines.sorted()
        }
        let free = try setUp()
        let plain = try CommandRunner.run(batchBinary, ["run", free + "/to-parquet.yaml", "--no-progress"])
        #expect(plain.exitCode == 0, "\(plain.stderr)")
        let expected = try rowsBack(free)
        #expect(expected.count == 200_000)

        let cgroup = try MemoryCgroup(limit: 32 << 20)
        defer { cgroup.remove() }
        let limited = try setUp()
        let run = try cgroup.run(batchBinary, ["run", limited + "/to-parquet.yaml", "--no-progress"])
        #expect(run.exitCode == 0, "\(run.stderr) \(cgroup.value("memory.oom_control"))")
        let bytes = try FileManager.default.contentsOfDirectory(atPath: limited + "/parts").reduce(0) { sum, name in
            sum + ((try FileManager.default.attributesOfItem(atPath: limited + "/parts/" + name)[.size] as? Int) ?? 0)
        }
        #expect(bytes > 0)
        #expect(try rowsBack(limited) == expected)
    }
}

extension MemoryLimitTests {
    /// Hostile wide JSON: 3.2 MB of lines with 500 keys each, every line's keys new. A batch
    /// makes at most `maximumFields` columns, each taking storage from its first value; the keys
    /// past the bound travel per record in one `_overflow` object. Under a 96 MiB cgroup the run
    /// finishes, and every key and value of every line is in the output (the row model kept the
    /// union of keys per record, rows × keys, and needed 1.9 GiB for this input).
    @Test(.enabled(if: MemoryCgroup.available, "needs a writable cgroup v1 memory controller"))
    func wideJSONWithEverNewKeysStaysBoundedAndLosesNothing() throws {
        let dir = try CommandRunner.temporaryDirectory()
        var text = ""
        var lines: [[String: Int]] = []
        while text.utf8.count < 3_200_000 {
            let n = lines.count
            let object = Dictionary(uniqueKeysWithValues: (0..<500).map { ("k\(n)_\($0)", $0 * 7 + n) })
            lines.append(object)
            text += "{" + (0..<500).map { "\"k\(n)_\($0)\":\($0 * 7 + n)" }.joined(separator: ",") + "}\n"
        }
        try text.write(toFile: dir + "/wide.jsonl", atomically: true, encoding: .utf8)
        try """
        pipeline: wide
        extract: {type: jsonl, path: \(dir)/wide.jsonl}
        load: {type: jsonl, path: \(dir)/out}
        dead_letter: {type: jsonl, path: \(dir)/dead}
        checkpoint: {type: file, path: \(dir)/state}
        """.write(toFile: dir + "/pipeline.yaml", atomically: true, encoding: .utf8)

        let cgroup = try MemoryCgroup(limit: 96 << 20)
        defer { cgroup.remove() }
        let run = try cgroup.run(batchBinary, ["run", dir + "/pipeline.yaml", "--no-progress"])
        #expect(run.exitCode == 0, "\(run.stderr) \(cgroup.value("memory.oom_control"))")

        var read: [[String: Int]] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: dir + "/out").sorted() {
            for line in try String(contentsOfFile: dir + "/out/" + name, encoding: .utf8).split(separator: "\n") {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                var values: [String: Int] = [:]
                for (key, value) in object {
                    if key == "_overflow", let rest = value as? [String: Any] {
                        for (k, v) in rest { values[k] = v as? Int }
                    } else if let v = value as? Int {
                        values[key] = v
                    }
                }
                read.append(values)
            }
        }
        #expect(read.count == lines.count)
        #expect(read == lines)
    }
}
