extension Column {
    /// Appends `other`'s rows after this column's (for group commit: the batches of a group
    /// become one). Columns of one kind are joined buffer to buffer; others go through a
    /// builder, row by row, which widens the kind as appending values would.
    public mutating func append(contentsOf other: Column) {
        if other.count == 0 { return }
        if count == 0 {
            self = other
            return
        }
        guard kind == other.kind else {
            var builder = ColumnBuilder(self)
            for row in 0..<other.count { builder.append(from: other, row: row) }
            self = builder.finish()
            return
        }
        switch kind {
        case .null: break
        case .mixed: values += other.values
        case .int, .double, .bool, .timestamp:
            appendValidity(of: other)
            fixed += other.fixed
        case .string:
            appendValidity(of: other)
            let base = bytes.count
            bytes += other.bytes
            offsets.reserveCapacity(offsets.count + other.count)
            for i in 1...other.count { offsets.append(other.offsets[i] + base) }
        }
        count += other.count
    }

    /// Validity flags for `other`'s rows (before `count` grows): none while neither has a null.
    private mutating func appendValidity(of other: Column) {
        if validity.isEmpty && other.validity.isEmpty { return }
        if validity.isEmpty { validity = [Bool](repeating: true, count: count) }
        if other.validity.isEmpty {
            validity += repeatElement(true, count: other.count)
        } else {
            validity += other.validity
        }
    }
}
