import Logging
import PostgresNIO
import RunnelCore

extension PostgresConnection {
    enum CopyFormat: String { case text, binary }

    /// `COPY name (columns) FROM STDIN WITH (FORMAT …)`, the data being what `encode` sends.
    ///
    /// The data is encoded whole before the statement is sent and goes to the server in one
    /// write. postgres-nio (1.33) loses a write that waits for the socket to drain when the
    /// server's error arrives meanwhile (`ExtendedQueryStateMachine`: the `.error` state drops the
    /// pending promise), so a COPY written in chunks hangs for good when a row past the first
    /// chunk fails: a key that exists in the middle of a batch on the insert path, a value the
    /// server refuses. With one write there is no second wait; the error comes back from the
    /// `CopyDone`. The buffer is one batch's COPY data, which the batch's bounds bound.
    ///
    /// `name` is quoted already (`"schema"."table"` or `"table"`). postgres-nio's `copyFrom`
    /// quotes a single name and writes only `FORMAT text`; it builds its statement as
    /// `COPY "<table>" FROM STDIN WITH (FORMAT text)`, with `table` inserted as passed (so
    /// documented). We pass the statement's head after the opening quote and end it with a
    /// comment, which the server skips together with the rest of the line. Every name in the head
    /// is quoted by `PostgresSQL.quote`, so nothing from a spec can end the comment or the
    /// statement. The PostgreSQL suite COPies both formats into a schema-qualified table.
    func copy(
        into name: String, columns: [String], format: CopyFormat, logger: Logger,
        encode: (_ send: ([UInt8]) async throws -> Void) async throws -> Void
    ) async throws {
        precondition(name.hasPrefix("\""), "copy(into:) takes a quoted name")
        var data = ByteBuffer()
        try await encode { data.writeBytes($0) }
        let head =
            name + " (" + columns.map(PostgresSQL.quote).joined(separator: ", ") + ") FROM STDIN WITH (FORMAT "
            + format.rawValue + ") --"
        try await copyFrom(table: String(head.dropFirst()), columns: [], logger: logger) { writer in
            try await writer.write(data)
        }
    }
}

extension PostgresLoader {
    /// COPYs the batch's rows into `name` (quoted; with `ordinal`, the staging table, whose first
    /// column is the row's ordinal): in the binary format when the batch is columnar and every
    /// column has a binary encoding for its target type, as text otherwise.
    @discardableResult
    static func copy(
        _ batch: Batch, _ p: Prepared, into name: String, ordinal: Bool, on conn: PostgresConnection, logger: Logger,
        messages: Logger
    ) async throws -> PostgresConnection.CopyFormat {
        let names = ordinal ? p.stagingColumns : p.columns
        if let data = batch.columnar {
            let positions = p.columns.map { batch.schema.index(of: $0) }
            switch CopyBinaryColumns.plan(data, positions: positions, names: p.columns, types: p.columns.map { p.types[$0] }) {
            case .success(let encodings):
                try await conn.copy(into: name, columns: names, format: .binary, logger: logger) { send in
                    try await CopyBinaryColumns.write(data, positions: positions, encodings: encodings, ordinal: ordinal, chunk: 1 << 18, send: send)
                }
                return .binary
            case .failure(let reason):
                messages.debug("COPY as text: \(reason)", metadata: ["runnel.table": "\(name)"])
            }
        }
        try await conn.copy(into: name, columns: names, format: .text, logger: logger) { send in
            try await writeCopyText(batch, columns: p.columns, ordinal: ordinal, send: send)
        }
        return .text
    }
}
