extension Batch {
    /// Positions of `names`, resolved once per batch. A name the batch lacks is, for records
    /// that describe themselves, a field none of this batch's records had: it is added as null,
    /// so that the same records pass whatever the batch boundaries (a batch of one record
    /// without an optional field used to fail the run with exit 2). For a declared header
    /// (`closedSchema`) it is a data-contract error naming the file and the missing column.
    public mutating func positions(of names: [String], stage: String) throws(RunnelError) -> [Int] {
        let missing = names.filter { schema.index(of: $0) == nil }
        if !missing.isEmpty {
            if closedSchema {
                let file = sources.first.map { " of \($0.origin.source)" } ?? ""
                throw RunnelError.dataContract(
                    "\(stage): the header\(file) has no column '\(missing[0])' (columns: \(schema.fields.joined(separator: ", ")))")
            }
            var added: [String] = []
            for name in missing where !added.contains(name) { added.append(name) }
            remap(to: Schema(schema.fields + added), mapping: schema.fields.indices.map { Optional($0) } + added.map { _ in nil })
        }
        return try schema.positions(of: names, stage: stage)
    }
}

extension Schema {
    /// Positions of `names`, resolved once per batch. A name the records do not have is a config
    /// error that lists the fields they do have.
    public func positions(of names: [String], stage: String) throws(RunnelError) -> [Int] {
        try names.map { name throws(RunnelError) in
            guard let i = index(of: name) else {
                throw RunnelError.config("\(stage): no field '\(name)' in the records (fields: \(fields.joined(separator: ", ")))")
            }
            return i
        }
    }
}
