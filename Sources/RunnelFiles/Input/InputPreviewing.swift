public import RunnelCore

#if canImport(Glibc)
    import Glibc
#endif

/// The preview `validate` prints for a file extractor: the path resolved against the working
/// directory, the files that match, and the fields and first records of the first file.
enum FilePreview {
    static func make(
        extractor: any Extractor, pattern: String, cursor: String?, declared: Bool, describe: (String) -> String
    ) async throws -> InputPreview {
        let resolved = absolute(pattern)
        let files: [String]
        do {
            files = try FileGlob.expand(pattern)
        } catch {
            throw RunnelError.config("extract.path '\(pattern)' matches no file (resolved: \(resolved))")
        }
        let first = try await InputPreview.firstRecords(of: extractor)
        return InputPreview(
            resolved: resolved, inputs: files, fields: first?.fields, fieldsSource: describe(files.first.map(absolute) ?? resolved),
            samples: first?.samples ?? [], cursor: cursor, declared: declared)
    }

    /// `path` made absolute against the working directory (the factory already resolved it
    /// against the spec's folder).
    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        let cwd = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var parts = cwd.split(separator: "/").map(String.init)
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == "..", !parts.isEmpty { parts.removeLast() } else { parts.append(String(part)) }
        }
        return "/" + parts.joined(separator: "/")
    }
}

extension CSVExtractor {
    public func inputPreview() async throws -> InputPreview? {
        try await FilePreview.make(extractor: self, pattern: configuration.path, cursor: configuration.cursor, declared: true) { file in
            configuration.columns != nil ? "extract.columns" : configuration.header ? "the header of \(file)" : "the columns of \(file)"
        }
    }
}

extension JSONLinesExtractor {
    public func inputPreview() async throws -> InputPreview? {
        try await FilePreview.make(extractor: self, pattern: configuration.path, cursor: configuration.cursor, declared: false) { file in
            "the first 20 records of \(file)"
        }
    }
}
