import CSQLite
public import RunnelCore

/// Binds a columnar batch to a prepared statement, one plan per column chosen once per batch:
/// integers and doubles straight from the column, text without a copy per value (SQLITE_STATIC
/// over one buffer per string column that lives for the whole batch), timestamps formatted into
/// scratch memory, and a column that is absent or entirely null bound once. Bindings are not
/// cleared between rows: every parameter is rebound or was bound once for the batch.
struct SQLiteColumnBinding: ~Copyable {
    private enum Plan {
        case constantNull
        case int(Column)
        case double(Column)
        case timestamp(Column, scratch: UnsafeMutableBufferPointer<UInt8>)
        case text(Column, bytes: UnsafeMutableBufferPointer<UInt8>)
        case value(Column)
    }

    private var plans: [Plan] = []

    /// `columns[i]` is bound to parameter i + 1 (nil: the field is not in the batch).
    init(_ columns: [Column?]) {
        for column in columns {
            guard let column, column.kind != .null else {
                plans.append(.constantNull)
                continue
            }
            switch column.kind {
            case .int, .bool: plans.append(.int(column))
            case .double: plans.append(.double(column))
            case .timestamp: plans.append(.timestamp(column, scratch: .allocate(capacity: 48)))
            case .string:
                let copy = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(1, column.bytes.count))
                _ = copy.initialize(from: column.bytes)
                plans.append(.text(column, bytes: copy))
            case .mixed, .null: plans.append(.value(column))
            }
        }
    }

    deinit {
        for plan in plans {
            switch plan {
            case .timestamp(_, let scratch): scratch.deallocate()
            case .text(_, let bytes): bytes.deallocate()
            default: break
            }
        }
    }

    /// Binds the parameters that stay the same for every row.
    func bindConstants(_ s: SQLiteStatement) {
        for (i, plan) in plans.enumerated() {
            if case .constantNull = plan { sqlite3_bind_null(s.handle, Int32(i + 1)) }
        }
    }

    /// Binds physical row `row` of every column.
    func bind(row: Int, to s: SQLiteStatement) {
        let h = s.handle
        for (i, plan) in plans.enumerated() {
            let index = Int32(i + 1)
            switch plan {
            case .constantNull:
                continue
            case .int(let c):
                if c.isNull(row) { sqlite3_bind_null(h, index) } else { sqlite3_bind_int64(h, index, c.int(row)) }
            case .double(let c):
                let d = c.double(row)
                if c.isNull(row) || !d.isFinite { sqlite3_bind_null(h, index) } else { sqlite3_bind_double(h, index, d) }
            case .timestamp(let c, let scratch):
                if c.isNull(row) {
                    sqlite3_bind_null(h, index)
                } else {
                    let n = c.timestamp(row).writeISO8601(into: scratch)
                    sqlite3_bind_text(h, index, UnsafeRawPointer(scratch.baseAddress!).assumingMemoryBound(to: CChar.self), Int32(n), nil)
                }
            case .text(let c, let bytes):
                if c.isNull(row) {
                    sqlite3_bind_null(h, index)
                } else {
                    let start = c.offsets[row]
                    let n = c.offsets[row + 1] - start
                    sqlite3_bind_text(h, index, UnsafeRawPointer(bytes.baseAddress! + start).assumingMemoryBound(to: CChar.self), Int32(n), nil)
                }
            case .value(let c):
                s.bind(c.value(row), at: index)
            }
        }
    }
}

extension SQLiteStatement {
    /// Resets the statement for the next row, keeping its bindings.
    func resetKeepingBindings() { sqlite3_reset(handle) }
}
