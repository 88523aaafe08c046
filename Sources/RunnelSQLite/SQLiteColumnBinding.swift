import CSQLite
public import RunnelCore

/// Binds a columnar batch to a prepared statement, one plan per column chosen once per batch:
/// integers and doubles straight from the column, text without a copy per value (SQLITE_STATIC
/// over one buffer per string column that lives for the whole batch), timestamps formatted into
/// scratch memory, and a column that is absent or entirely null bound once. Bindings are not
/// cleared between rows: every parameter is rebound or was bound once for the batch.
///
/// Each plan holds plain pointers to buffers it owns for the batch (one copy of each column's
/// arrays, made once): reading a `Column` per row would retain and release its arrays per value,
/// which costs more than binding it.
struct SQLiteColumnBinding: ~Copyable {
    private enum Kind {
        case constantNull, int, double, timestamp, text, value
    }

    private struct Plan {
        var kind: Kind
        var fixed: UnsafeMutableBufferPointer<Int64>?
        var bytes: UnsafeMutableBufferPointer<UInt8>?
        var offsets: UnsafeMutableBufferPointer<Int>?
        /// Nil when no row is null.
        var valid: UnsafeMutableBufferPointer<Bool>?
        /// `mixed` columns: the column itself, bound through `Value` (rare: nested or varying types).
        var column: Column?

        @inline(__always) func isNull(_ row: Int) -> Bool { valid.map { !$0[row] } ?? false }
    }

    private var plans: [Plan] = []

    /// `columns[i]` is bound to parameter i + 1 (nil: the field is not in the batch).
    init(_ columns: [Column?]) {
        for column in columns {
            guard let column, column.kind != .null else {
                plans.append(Plan(kind: .constantNull))
                continue
            }
            var plan: Plan
            switch column.kind {
            case .int, .bool: plan = Plan(kind: .int, fixed: Self.copy(column.fixed))
            case .double: plan = Plan(kind: .double, fixed: Self.copy(column.fixed))
            case .timestamp:
                plan = Plan(kind: .timestamp, fixed: Self.copy(column.fixed), bytes: .allocate(capacity: 48))
            case .string:
                plan = Plan(kind: .text, bytes: Self.copy(column.bytes), offsets: Self.copy(column.offsets))
            case .mixed, .null:
                plan = Plan(kind: .value, column: column)
            }
            if column.kind != .mixed, !column.validity.isEmpty { plan.valid = Self.copy(column.validity) }
            plans.append(plan)
        }
    }

    private static func copy<T>(_ a: [T]) -> UnsafeMutableBufferPointer<T> {
        let p = UnsafeMutableBufferPointer<T>.allocate(capacity: max(1, a.count))
        _ = p.initialize(from: a)
        return p
    }

    deinit {
        for plan in plans {
            plan.fixed?.deallocate()
            plan.bytes?.deallocate()
            plan.offsets?.deallocate()
            plan.valid?.deallocate()
        }
    }

    /// Binds the parameters that stay the same for every row.
    func bindConstants(_ s: SQLiteStatement) {
        for (i, plan) in plans.enumerated() where plan.kind == .constantNull {
            sqlite3_bind_null(s.handle, Int32(i + 1))
        }
    }

    /// Binds physical row `row` of every column.
    func bind(row: Int, to s: SQLiteStatement) {
        let h = s.handle
        plans.withUnsafeBufferPointer { plans in
            for i in 0..<plans.count {
                let plan = plans[i]
                let index = Int32(i + 1)
                if plan.kind == .constantNull { continue }
                if plan.isNull(row) {
                    sqlite3_bind_null(h, index)
                    continue
                }
                switch plan.kind {
                case .constantNull: continue
                case .int: sqlite3_bind_int64(h, index, plan.fixed![row])
                case .double:
                    // ±infinity is a REAL in SQLite (as the row path binds it); NaN SQLite stores as NULL.
                    sqlite3_bind_double(h, index, Double(bitPattern: UInt64(bitPattern: plan.fixed![row])))
                case .timestamp:
                    let scratch = plan.bytes!
                    let n = Timestamp(microseconds: plan.fixed![row]).writeISO8601(into: scratch)
                    sqlite3_bind_text(h, index, UnsafeRawPointer(scratch.baseAddress!).assumingMemoryBound(to: CChar.self), Int32(n), nil)
                case .text:
                    let start = plan.offsets![row]
                    let n = plan.offsets![row + 1] - start
                    sqlite3_bind_text(
                        h, index, UnsafeRawPointer(plan.bytes!.baseAddress! + start).assumingMemoryBound(to: CChar.self), Int32(n), nil)
                case .value:
                    s.bind(plan.column!.value(row), at: index)
                }
            }
        }
    }
}

extension SQLiteStatement {
    /// Resets the statement for the next row, keeping its bindings.
    func resetKeepingBindings() { sqlite3_reset(handle) }
}
