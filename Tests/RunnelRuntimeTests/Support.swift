import Foundation
import RunnelCore
import RunnelSQLite
import RunnelTesting

/// The repository root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

let batchBinary = CommandRunner.binary("runnel-batch")

/// A copy of the quickstart in a temporary folder, with its spec's batch size changed.
func quickstartCopy(maxRecords: Int = 5000) throws -> String {
    let dir = try CommandRunner.temporaryDirectory("runnel-e2e")
    let fm = FileManager.default
    try fm.createDirectory(atPath: dir + "/data", withIntermediateDirectories: true)
    try fm.copyItem(atPath: repositoryRoot + "/examples/quickstart/data/orders.csv", toPath: dir + "/data/orders.csv")
    let spec = try String(contentsOfFile: repositoryRoot + "/examples/quickstart/pipeline.yaml", encoding: .utf8)
        .replacingOccurrences(of: "max_records: 5000", with: "max_records: \(maxRecords)")
    try spec.write(toFile: dir + "/pipeline.yaml", atomically: true, encoding: .utf8)
    return dir
}

/// Rows of a query on an SQLite file, as text, for comparing whole tables.
func dump(_ dbPath: String, _ sql: String) throws -> [[String]] {
    let db = SQLiteDatabase(.init(path: dbPath))
    return try db.withConnection { try $0.query(sql) }.map { $0.map(\.text) }
}

/// The parsed `--summary-json` line of a run.
func summary(_ output: CommandRunner.Output) throws -> [String: Any] {
    let line = output.stdout.split(separator: "\n").last.map(String.init) ?? ""
    guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
        throw CocoaError(.coderInvalidValue)
    }
    return object
}

func write(_ text: String, to path: String) throws {
    try text.write(toFile: path, atomically: true, encoding: .utf8)
}
