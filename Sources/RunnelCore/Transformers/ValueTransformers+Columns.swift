/// The value transformers on columns: a string column is rewritten byte by byte into a new
/// column (ASCII fast paths; other text goes through the same `String` functions as the row
/// path, so results are identical), other kinds are left as they are, as in the row path.
extension MapTransformer {
    func applyToColumns(_ batch: inout Batch, positions: [Int]) {
        let op = operation
        let salt = salt
        batch.withColumns { c in
            for p in positions {
                let column = c.columns[p]
                switch column.kind {
                case .null: continue
                case .string where op == .lowercase || op == .uppercase:
                    c.columns[p] = Self.changeCase(column, upper: op == .uppercase, selection: c.selection, physicalCount: c.physicalCount)
                case .string:
                    c.columns[p] = Self.rewrite(column, selection: c.selection, physicalCount: c.physicalCount) { bytes, out in
                        Self.apply(op, salt: salt, bytes, into: &out)
                    }
                default:
                    guard op == .hash || column.kind == .mixed else { continue }
                    var out = ColumnBuilder(capacity: c.physicalCount)
                    for row in 0..<c.physicalCount {
                        let v = column.value(row)
                        switch (op, v) {
                        case (_, .null): out.appendNull()
                        case (.trim, .string(let s)): out.appendString(s.trimmingWhitespace())
                        case (.lowercase, .string(let s)): out.appendString(s.lowercased())
                        case (.uppercase, .string(let s)): out.appendString(s.uppercased())
                        case (.hash, _): out.appendString(SHA256.hex(Array((salt + v.text).utf8)))
                        default: out.append(v)
                        }
                    }
                    c.columns[p] = out.finish()
                }
            }
        }
    }

    /// A new string column from `column` with `body` rewriting each selected row's bytes.
    static func rewrite(
        _ column: Column, selection: [Int], physicalCount: Int,
        _ body: (UnsafeBufferPointer<UInt8>, inout [UInt8]) -> Void
    ) -> Column {
        var scratch: [UInt8] = []
        return ColumnBuilder.derive(.string, from: column, selection: selection, physicalCount: physicalCount) { row, out in
            scratch.removeAll(keepingCapacity: true)
            column.withBytes(row) { body($0, &scratch) }
            scratch.withUnsafeBytes { out.appendString($0) }
        }
    }

    /// Lowercase or uppercase of a string column: an ASCII row is written straight into the new
    /// column, byte by byte; other text goes through `String`, as in the row path.
    static func changeCase(_ column: Column, upper: Bool, selection: [Int], physicalCount: Int) -> Column {
        column.bytes.withUnsafeBufferPointer { all in
            column.offsets.withUnsafeBufferPointer { offsets in
                ColumnBuilder.derive(.string, from: column, selection: selection, physicalCount: physicalCount) { row, out in
                    let start = offsets[row]
                    let b = UnsafeBufferPointer(start: all.baseAddress.map { $0 + start }, count: offsets[row + 1] - start)
                    guard UTF8Check.isASCII(b) else {
                        let s = String(decoding: b, as: UTF8.self)
                        return out.appendString(upper ? s.uppercased() : s.lowercased())
                    }
                    out.appendString(count: b.count) { target in
                        let from: UInt8 = upper ? UInt8(ascii: "a") : UInt8(ascii: "A")
                        for i in 0..<b.count {
                            let c = b[i]
                            target.storeBytes(of: c &- from < 26 ? c ^ 0x20 : c, toByteOffset: i, as: UInt8.self)
                        }
                    }
                }
            }
        }
    }

    static func apply(_ op: Operation, salt: String, _ b: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        switch op {
        case .trim:
            let isSpace = { (c: UInt8) in c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }
            var lo = 0
            var hi = b.count
            while lo < hi, isSpace(b[lo]) { lo += 1 }
            while hi > lo, isSpace(b[hi - 1]) { hi -= 1 }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: b[lo..<hi]))
        // String columns take `changeCase` for these two; kept so the switch is whole.
        case .lowercase: out.append(contentsOf: String(decoding: b, as: UTF8.self).lowercased().utf8)
        case .uppercase: out.append(contentsOf: String(decoding: b, as: UTF8.self).uppercased().utf8)
        case .hash: out.append(contentsOf: SHA256.hex(Array(salt.utf8) + Array(b)).utf8)
        }
    }
}

extension NullIfTransformer {
    func applyToColumns(_ batch: inout Batch, positions: [Int]) {
        let targets = values.map { Array($0.utf8) }
        batch.withColumns { c in
            for p in positions {
                let column = c.columns[p]
                guard column.kind == .string || column.kind == .mixed else { continue }
                var out = ColumnBuilder(capacity: c.physicalCount)
                for row in 0..<c.physicalCount {
                    if column.kind == .string, !column.isNull(row),
                        column.withBytes(row, { b in targets.contains { $0.elementsEqual(b) } })
                    {
                        out.appendNull()
                    } else if column.kind == .mixed, case .string(let s) = column.values[row], values.contains(s) {
                        out.appendNull()
                    } else {
                        out.append(from: column, row: row)
                    }
                }
                c.columns[p] = out.finish()
            }
        }
    }
}
