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
