import CSQLite
public import RunnelCore

/// Binds a columnar batch to a prepared statement, by column kind: integers and doubles straight
/// from the column, text without a copy per value (SQLITE_STATIC over the views' buffers, which
/// live for the whole batch), timestamps formatted into scratch memory, and a column that is
/// absent or entirely null bound once. Bindings are not cleared between rows: every parameter is
/// rebound or was bound once for the batch.
///
/// A statement may take several rows (`VALUES (…), (…)`): row `tuple` of a statement is bound to
/// parameters `tuple × columns + 1 …`, and each tuple formats its timestamps into scratch of its
/// own, since all of them are read when the statement steps.
///
/// The columns are read through `ColumnViews` (plain pointers over the columns' own buffers):
/// reading a `Column` per row would retain and release its arrays per value, which costs more
/// than binding it.
struct SQLiteColumnBinding: ~Copyable {
    private let views: UnsafeBufferPointer<ColumnViews.View>
    private let columns: [Column?]
    /// Where each timestamp column's value is formatted for binding, 48 bytes per column and
    /// tuple: SQLite reads bound text when the statement steps (SQLITE_STATIC), so neither columns
    /// nor the rows of one statement can share it.
    private let scratch: UnsafeMutableBufferPointer<UInt8>
    private static let scratchWidth = 48
    /// What an empty string binds: a view of an empty column may have no address.
    private static let empty: StaticString = ""

    /// `columns[i]` is bound to parameter i + 1 of each tuple (nil: the field is not in the
    /// batch); the views are `columns`' (`ColumnViews.borrowing`), valid while the binding is used.
    private init(_ views: UnsafeBufferPointer<ColumnViews.View>, _ columns: [Column?], tuples: Int) {
        self.views = views
        self.columns = columns
        scratch = .allocate(capacity: max(1, columns.count) * max(1, tuples) * Self.scratchWidth)
    }

    /// A binding of `columns` for the duration of `body`, for statements of up to `tuples` rows.
    static func with<R>(
        _ columns: [Column?], tuples: Int = 1, _ body: (borrowing SQLiteColumnBinding) throws -> R
    ) rethrows -> R {
        try ColumnViews.borrowing(columns) { views in try body(SQLiteColumnBinding(views, columns, tuples: tuples)) }
    }

    deinit { scratch.deallocate() }

    /// Binds the parameters that stay the same for every row, in each of `tuples` rows.
    func bindConstants(_ s: SQLiteStatement, tuples: Int = 1) {
        for tuple in 0..<tuples {
            for (i, view) in views.enumerated() where view.kind == .null {
                sqlite3_bind_null(s.handle, Int32(tuple * views.count + i + 1))
            }
        }
    }

    /// Binds physical row `row` of every column as row `tuple` of the statement.
    func bind(row: Int, tuple: Int = 0, to s: SQLiteStatement) {
        let h = s.handle
        // Each view read in place: a `View` copied per column per row costs more than binding.
        guard let first = views.baseAddress else { return }
        let firstParameter = tuple * views.count
        do {
            for i in 0..<views.count {
                let view = UnsafePointer(first + i).pointee
                let index = Int32(firstParameter + i + 1)
                if view.kind == .null { continue }
                if view.kind == .mixed {
                    s.bind(columns[i]!.value(row), at: index)
                    continue
                }
                if view.isNull(row) {
                    sqlite3_bind_null(h, index)
                    continue
                }
                switch view.kind {
                case .int, .bool: sqlite3_bind_int64(h, index, view.int(row))
                case .double:
                    // ±infinity is a REAL in SQLite (as the row path binds it); NaN SQLite stores as NULL.
                    sqlite3_bind_double(h, index, view.double(row))
                case .timestamp:
                    let slot = (firstParameter + i) * Self.scratchWidth
                    let mine = UnsafeMutableBufferPointer(rebasing: scratch[slot..<(slot + Self.scratchWidth)])
                    let n = view.timestamp(row).writeISO8601(into: mine)
                    sqlite3_bind_text(h, index, UnsafeRawPointer(mine.baseAddress!).assumingMemoryBound(to: CChar.self), Int32(n), nil)
                case .string:
                    let text = view.text(row)
                    let base = text.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) } ?? UnsafeRawPointer(Self.empty.utf8Start).assumingMemoryBound(to: CChar.self)
                    sqlite3_bind_text(h, index, base, Int32(text.count), nil)
                case .null, .mixed: continue
                }
            }
        }
    }
}

extension SQLiteStatement {
    /// Resets the statement for the next row, keeping its bindings.
    func resetKeepingBindings() { sqlite3_reset(handle) }
}
