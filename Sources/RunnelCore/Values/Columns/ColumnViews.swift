/// A batch's columns as plain pointers, for per-row loops in writers and loaders: the typed
/// buffers are copied once per batch into memory these views own, so reading a value costs no
/// reference counting. (A `Column` passed or read per value retains and releases its five
/// arrays: in a JSON writer that measured ~1,300 instructions a record, more than the writing.)
///
/// `mixed` columns are not copied: their rows are `Value`s, read from `columns` as before.
public struct ColumnViews: ~Copyable {
    /// One column: its kind and, by kind, the buffers its rows are in.
    public struct View {
        public let kind: Column.Kind
        /// int, double (bits), bool, timestamp (µs).
        public let fixed: UnsafeMutableBufferPointer<Int64>?
        /// string: the row's bytes are `bytes[offsets[row]..<offsets[row + 1]]`.
        public let bytes: UnsafeMutableBufferPointer<UInt8>?
        public let offsets: UnsafeMutableBufferPointer<Int>?
        /// Nil when no row is null.
        public let valid: UnsafeMutableBufferPointer<Bool>?

        @inlinable @inline(__always) public func isNull(_ row: Int) -> Bool {
            kind == .null || (valid.map { !$0[row] } ?? false)
        }
        @inlinable @inline(__always) public func int(_ row: Int) -> Int64 { fixed.unsafelyUnwrapped[row] }
        @inlinable @inline(__always) public func double(_ row: Int) -> Double { Double(bitPattern: UInt64(bitPattern: fixed.unsafelyUnwrapped[row])) }
        @inlinable @inline(__always) public func bool(_ row: Int) -> Bool { fixed.unsafelyUnwrapped[row] != 0 }
        @inlinable @inline(__always) public func timestamp(_ row: Int) -> Timestamp { Timestamp(microseconds: fixed.unsafelyUnwrapped[row]) }
        /// A string row's UTF-8 bytes.
        @inlinable @inline(__always) public func text(_ row: Int) -> UnsafeBufferPointer<UInt8> {
            let offsets = offsets.unsafelyUnwrapped
            let start = offsets[row]
            return UnsafeBufferPointer(start: bytes.unsafelyUnwrapped.baseAddress.map { $0 + start }, count: offsets[row + 1] - start)
        }
    }

    public let views: [View]
    /// The columns as given, for `mixed` rows.
    public let columns: [Column?]

    /// Views of `columns` (nil: a field the batch lacks, a view of kind `.null`).
    public init(_ columns: [Column?]) {
        self.columns = columns
        views = columns.map { column in
            guard let column, column.kind != .null else {
                return View(kind: .null, fixed: nil, bytes: nil, offsets: nil, valid: nil)
            }
            let valid = column.kind == .mixed || column.validity.isEmpty ? nil : Self.copy(column.validity)
            switch column.kind {
            case .int, .double, .bool, .timestamp:
                return View(kind: column.kind, fixed: Self.copy(column.fixed), bytes: nil, offsets: nil, valid: valid)
            case .string:
                return View(kind: .string, fixed: nil, bytes: Self.copy(column.bytes), offsets: Self.copy(column.offsets), valid: valid)
            case .mixed, .null:
                return View(kind: column.kind, fixed: nil, bytes: nil, offsets: nil, valid: nil)
            }
        }
    }

    public init(_ columns: [Column]) { self.init(columns.map { Optional($0) }) }

    private static func copy<T>(_ a: [T]) -> UnsafeMutableBufferPointer<T> {
        let p = UnsafeMutableBufferPointer<T>.allocate(capacity: max(1, a.count))
        _ = p.initialize(from: a)
        return p
    }

    deinit {
        for v in views {
            v.fixed?.deallocate()
            v.bytes?.deallocate()
            v.offsets?.deallocate()
            v.valid?.deallocate()
        }
    }

    /// The views as a buffer, for loops that read them per row without copying the array.
    public func withViews<R>(_ body: (UnsafeBufferPointer<View>) throws -> R) rethrows -> R {
        try views.withUnsafeBufferPointer(body)
    }
}

extension ColumnViews {
    /// Views of `columns` over the columns' own buffers, valid inside `body`: for loops that
    /// need not outlive the call (a synchronous writer or loader), the copy `init` makes is
    /// saved. Each column's arrays are borrowed by nesting their `withUnsafeBufferPointer`
    /// calls, so the nesting is a recursion per column; columns past `borrowedColumns` are
    /// copied as `init` copies them. The views are read-only (their pointer types are mutable
    /// only because the copies' are).
    public static func borrowing<R>(_ columns: [Column?], _ body: (UnsafeBufferPointer<View>) throws -> R) rethrows -> R {
        var views: [View] = []
        views.reserveCapacity(columns.count)
        return try borrow(columns, 0, &views, body)
    }

    /// Columns borrowed by recursion (a few frames each); wider batches copy the rest.
    static let borrowedColumns = 64

    private static func borrow<R>(
        _ columns: [Column?], _ i: Int, _ views: inout [View], _ body: (UnsafeBufferPointer<View>) throws -> R
    ) rethrows -> R {
        if i == columns.count { return try views.withUnsafeBufferPointer(body) }
        if i == borrowedColumns {
            let rest = ColumnViews(Array(columns[i...]))
            views += rest.views
            // `rest` owns the copies: kept alive until `body` is done with them.
            return try withExtendedLifetime(rest) { try views.withUnsafeBufferPointer(body) }
        }
        guard let column = columns[i], column.kind != .null, column.kind != .mixed else {
            views.append(View(kind: columns[i]?.kind == .mixed ? .mixed : .null, fixed: nil, bytes: nil, offsets: nil, valid: nil))
            return try borrow(columns, i + 1, &views, body)
        }
        return try column.validity.withUnsafeBufferPointer { valid in
            let valid = column.validity.isEmpty ? nil : UnsafeMutableBufferPointer(mutating: valid)
            if column.kind == .string {
                return try column.bytes.withUnsafeBufferPointer { bytes in
                    try column.offsets.withUnsafeBufferPointer { offsets in
                        views.append(
                            View(kind: .string, fixed: nil, bytes: UnsafeMutableBufferPointer(mutating: bytes),
                                 offsets: UnsafeMutableBufferPointer(mutating: offsets), valid: valid))
                        return try borrow(columns, i + 1, &views, body)
                    }
                }
            }
            return try column.fixed.withUnsafeBufferPointer { fixed in
                views.append(View(kind: column.kind, fixed: UnsafeMutableBufferPointer(mutating: fixed), bytes: nil, offsets: nil, valid: valid))
                return try borrow(columns, i + 1, &views, body)
            }
        }
    }
}
