extension ParquetReader {
    /// The smallest and largest value of column `column` in row group `rowGroup`, as one-row
    /// columns decoded like the data (so a caller converts them as it converts values), or nil
    /// when the writer left them out or they cannot be trusted for the column's order.
    ///
    /// Trusted: `min_value`/`max_value` (whose order is the column's logical order) for integers,
    /// dates, timestamps, floats, doubles and strings; the deprecated `min`/`max`, whose byte
    /// order was signed, only for signed integers and floating point. Not used: INT96, decimals,
    /// unsigned and half-precision columns, binary and JSON.
    public func bounds(rowGroup: Int, column: Int) -> (min: ParquetColumn, max: ParquetColumn)? {
        guard footer.rowGroups.indices.contains(rowGroup), footer.leaves.indices.contains(column) else { return nil }
        let leaf = footer.leaves[column]
        guard let s = footer.rowGroups[rowGroup].chunks[column].meta.statistics, !leaf.unsigned32, !leaf.float16 else {
            return nil
        }
        let kind = leaf.field.kind.kind
        switch kind {
        case .int32, .int64, .date, .timestamp, .float, .double, .string: break
        default: return nil
        }
        let numeric = leaf.physical != .byteArray
        guard let low = s.minValue ?? (numeric ? s.min : nil), let high = s.maxValue ?? (numeric ? s.max : nil),
            let min = Self.decode(low, leaf.physical), let max = Self.decode(high, leaf.physical)
        else { return nil }
        return (min, max)
    }

    /// One plain-encoded statistics value as a one-row column.
    static func decode(_ bytes: [UInt8], _ physical: PhysicalType) -> ParquetColumn? {
        func integer(_ width: Int) -> UInt64? {
            guard bytes.count == width else { return nil }
            var v: UInt64 = 0
            for (i, b) in bytes.enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
            return v
        }
        switch physical {
        case .int32:
            return integer(4).map { ParquetColumn(values: .int32([Int32(truncatingIfNeeded: $0)])) }
        case .int64:
            return integer(8).map { ParquetColumn(values: .int64([Int64(bitPattern: $0)])) }
        case .float:
            return integer(4).map { ParquetColumn(values: .float([Float(bitPattern: UInt32(truncatingIfNeeded: $0))])) }
        case .double:
            return integer(8).map { ParquetColumn(values: .double([Double(bitPattern: $0)])) }
        case .byteArray:
            return ParquetColumn(values: .byteArrays(ByteArrays(bytes: bytes, offsets: [0, bytes.count])))
        default:
            return nil
        }
    }
}
