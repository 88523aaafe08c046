#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Builds a batch's columns row by row, as readers produce them: positional rows (a CSV file's
/// fields) or self-describing ones (JSON objects), whose keys become columns in order of first
/// appearance.
///
/// A key first seen late costs nothing for the rows before it: its column starts as `.null` and
/// takes storage only from its first value. At most `maximumFields` columns are made; the
/// fields of a record past that bound go, as one object, to the column `overflowField`, so that
/// hostile input with ever new keys cannot make a batch cost rows × keys, and nothing is lost.
public struct ColumnsBuilder: Sendable {
    public private(set) var names: [String]
    private var slots: [String: Int] = [:]
    private var builders: [ColumnBuilder]
    public private(set) var rowCount = 0
    private var lastKeys: [String] = []
    private var lastSlots: [Int] = []
    public let maximumFields: Int
    /// The field that holds, per record, the fields past `maximumFields`.
    public static let overflowField = "_overflow"
    private var overflowSlot: Int?
    /// The JSON fast path's state: the scanner's buffers, and per field position of the last
    /// line its key bytes and column, so that lines with the same keys map them by a compare.
    /// The scanner expects the last line's layout (`JSONFlatObject.expectLayout`): a line with
    /// its keys, in order, was checked then (distinct keys, each with its column).
    private var flat = JSONFlatObject()
    private var keyBytes: [[UInt8]] = []
    private var keySlots: [Int] = []
    private var rowMarks: [Int] = []
    private var lineSlots: [Int] = []
    /// The rows a batch is expected to hold: the first columns of objects reserve room for
    /// them (a column grown by doubling is copied again and again); keys past those grow as
    /// they fill, since hostile input may bring thousands.
    private var expectedRows = 0
    private static let reservedColumns = 64
    /// `extraSlot(_:)`'s last answer.
    private var extraName = ""
    private var extraSlotCache: Int?

    /// A builder for positional rows with these fields (CSV), or for objects when `fields` is
    /// empty; `capacity` is the rows a batch is expected to hold.
    public init(fields: [String] = [], maximumFields: Int = 1024, capacity: Int = 0) {
        names = fields
        self.maximumFields = max(maximumFields, fields.count)
        // Positional fields (a CSV header's) are in every row: room for the batch is reserved.
        // Keys of objects grow their columns as they fill: hostile input may bring thousands.
        builders = fields.map { _ in ColumnBuilder(expectedRows: capacity) }
        expectedRows = capacity
        for (i, f) in fields.enumerated() where slots[f] == nil { slots[f] = i }
    }

    /// Appends a positional row; a row shorter than the fields is padded with nulls.
    public mutating func append(fields values: [Value]) {
        for i in builders.indices {
            if i < values.count { builders[i].append(values[i]) } else { builders[i].appendNull() }
        }
        rowCount += 1
    }

    /// Appends a self-describing record; fields it lacks are null.
    public mutating func append(object o: Object) {
        if !(o.keys == lastKeys) { map(o.keys) }
        var touched = 0
        var overflow: Object?
        for (k, slot) in lastSlots.enumerated() {
            if slot >= 0 {
                builders[slot].append(o.values[k])
                touched += 1
            } else {
                if overflow == nil { overflow = Object() }
                overflow!.set(o.keys[k], o.values[k])
            }
        }
        if let overflow, let slot = overflowSlot {
            builders[slot].append(.object(overflow))
            touched += 1
        }
        rowCount += 1
        // Columns the record did not name get a null (a record naming a key twice is refused
        // by the parser, so `touched` counts distinct columns).
        if touched < builders.count {
            for i in builders.indices where builders[i].count < rowCount { builders[i].appendNull() }
        }
    }

    /// Appends a JSON Lines line that is a flat object of scalars straight into the columns;
    /// false (nothing appended) when it is not (see `JSONFlatObject`): the caller parses it.
    /// `extra` is a field the reader adds after the record's own (a stream entry's id), as
    /// `Object.set` would: its column comes after the line's new keys. A line that names it too,
    /// or whose extra field would go to the overflow column, is left to the caller.
    public mutating func append(flatJSON line: UnsafeRawBufferPointer, adding extra: (name: String, value: Value)? = nil) -> Bool {
        let b = line.bindMemory(to: UInt8.self)
        guard flat.scan(b) else { return false }
        let fieldCount = flat.count
        // The common line names the keys of the line before in the same order: they were checked
        // then (distinct, each with its column), so its values only need appending.
        if flat.keysAsExpected {
            if let extra {
                guard let extraSlot = extraSlot(extra.name) else { return false }
                for k in 0..<fieldCount where keySlots[k] == extraSlot { return false }
                builders[extraSlot].append(extra.value)
            }
            Self.append(flat, slots: keySlots, to: &builders, line)
            rowCount += 1
            if fieldCount < builders.count {
                for i in builders.indices where builders[i].count < rowCount { builders[i].appendNull() }
            }
            return true
        }
        var slots = lineSlots
        lineSlots = []
        defer { lineSlots = slots }
        slots.removeAll(keepingCapacity: true)
        slots.append(contentsOf: repeatElement(-1, count: fieldCount))
        // Map keys; a new key or a repeated one sends the line to the full parser only when
        // the bound on columns would be passed (the overflow column is the parser path's).
        for k in 0..<fieldCount {
            let key = flat[k]
            let bytes = UnsafeBufferPointer(rebasing: b[key.keyStart..<(key.keyStart + key.keyCount)])
            if k < keyBytes.count, Self.same(keyBytes[k], bytes) {
                slots[k] = keySlots[k]
                continue
            }
            let name = String(decoding: bytes, as: UTF8.self)
            if name == extra?.name { return false }
            if let s = self.slots[name] {
                slots[k] = s
            } else if names.count + (slots.filter { $0 == -2 }.count) >= maximumFields - 1 {
                return false
            } else {
                slots[k] = -2
            }
        }
        let newKeys = slots.filter { $0 == -2 }.count
        if let extra {
            if let s = self.slots[extra.name] {
                if slots.contains(s) { return false }
            } else if names.count + newKeys >= maximumFields - 1 {
                return false
            }
        }
        // A key twice in one line: the full parser's rule (first position, last value) applies.
        if rowMarks.count < builders.count + fieldCount { rowMarks += [Int](repeating: -1, count: builders.count + fieldCount - rowMarks.count) }
        for k in 0..<fieldCount where slots[k] >= 0 {
            if rowMarks[slots[k]] == rowCount { return false }
            rowMarks[slots[k]] = rowCount
        }
        var seenNew = Set<String>()
        for k in 0..<fieldCount where slots[k] == -2 {
            let key = flat[k]
            let name = String(decoding: UnsafeBufferPointer(rebasing: b[key.keyStart..<(key.keyStart + key.keyCount)]), as: UTF8.self)
            if !seenNew.insert(name).inserted { return false }
        }
        // Commit: create the new columns, remember the keys, append the values.
        for k in 0..<fieldCount {
            let key = flat[k]
            let bytes = UnsafeBufferPointer(rebasing: b[key.keyStart..<(key.keyStart + key.keyCount)])
            if slots[k] == -2 { slots[k] = addColumn(String(decoding: bytes, as: UTF8.self)) }
            if k < keyBytes.count {
                if keySlots[k] != slots[k] {
                    keyBytes[k] = Array(bytes)
                    keySlots[k] = slots[k]
                }
            } else {
                keyBytes.append(Array(bytes))
                keySlots.append(slots[k])
            }
            Self.append(key, to: &builders[slots[k]], line)
        }
        flat.expectLayout(of: b)
        if let extra { builders[slot(for: extra.name)].append(extra.value) }
        rowCount += 1
        if fieldCount < builders.count {
            for i in builders.indices where builders[i].count < rowCount { builders[i].appendNull() }
        }
        return true
    }

    /// The column of the reader's extra field, when it has one that is not the overflow column.
    @inline(__always)
    private mutating func extraSlot(_ name: String) -> Int? {
        if name != extraName {
            extraName = name
            extraSlotCache = slots[name]
        }
        if extraSlotCache == nil { extraSlotCache = slots[name] }
        return extraSlotCache
    }

    /// Appends the scanned line's fields, field k to column `slots[k]`. Static, with the state
    /// passed in: closures over `self` that borrow one property while another is modified made
    /// the compiler copy the scanner (four retains and releases a line).
    private static func append(_ flat: borrowing JSONFlatObject, slots: [Int], to builders: inout [ColumnBuilder], _ line: UnsafeRawBufferPointer) {
        flat.withFields { fields in
            slots.withUnsafeBufferPointer { slots in
                builders.withUnsafeMutableBufferPointer { builders in
                    for k in 0..<fields.count { append(fields[k], to: &builders[slots[k]], line) }
                }
            }
        }
    }

    /// Appends a scanned field's value (a string by its bytes in the line).
    @inline(__always)
    private static func append(_ field: JSONFlatObject.Field, to builder: inout ColumnBuilder, _ line: UnsafeRawBufferPointer) {
        switch field.kind {
        case .string:
            builder.appendString(UnsafeRawBufferPointer(start: line.baseAddress.unsafelyUnwrapped + field.valueStart, count: field.valueCount))
        case .int: builder.appendInt(field.payload)
        case .double: builder.appendDouble(Double(bitPattern: UInt64(bitPattern: field.payload)))
        case .bool: builder.appendBool(field.payload != 0)
        case .null: builder.appendNull()
        }
    }

    @inline(__always)
    private static func same(_ a: [UInt8], _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        a.count == b.count && a.withUnsafeBufferPointer { x in b.count == 0 || memcmp(x.baseAddress!, b.baseAddress!, b.count) == 0 }
    }

    /// Appends a row with no values (input that could not be read): null in every column.
    public mutating func appendUnreadable() {
        for i in builders.indices { builders[i].appendNull() }
        rowCount += 1
    }

    /// Appends a row given column by column: `body` must append exactly one value to each
    /// builder it is handed, for every column (see `withBuilders`).
    public mutating func appendRow(_ body: (inout [ColumnBuilder]) -> Void) {
        body(&builders)
        rowCount += 1
    }

    public func finish() -> (schema: Schema, columns: [Column]) {
        (Schema(names), builders.map { var b = $0; return b.finish() })
    }

    private mutating func map(_ keys: [String]) {
        lastKeys = keys
        lastSlots = keys.map { slot(for: $0) }
    }

    private mutating func slot(for key: String) -> Int {
        if let s = slots[key] { return s }
        guard names.count < maximumFields - 1 else {
            if overflowSlot == nil { overflowSlot = addColumn(Self.overflowField) }
            return -1
        }
        return addColumn(key)
    }

    private mutating func addColumn(_ name: String) -> Int {
        let s = names.count
        names.append(name)
        slots[name] = s
        var b = ColumnBuilder(expectedRows: s < Self.reservedColumns ? expectedRows : 0)
        for _ in 0..<rowCount { b.appendNull() }
        builders.append(b)
        return s
    }
}
