public import RunnelCore

/// The named inputs a file-format extractor reads one after the other: local files, or objects
/// in a bucket. `FileBatchReader` parses any of them with the same CSV and JSON Lines formats,
/// with positions exact to the byte and line.
public protocol InputCatalog: Sendable {
    /// Input names in reading order.
    var names: [String] { get }
    /// The size of an input as stored (compressed for gzip), for progress; nil when unknown.
    func storedSize(of name: String) -> Int64?
    /// Opens an input for reading from its first byte.
    func open(_ name: String) async throws(RunnelError) -> any ByteStream
    /// True when `names` are sorted and new inputs only ever sort after the ones already read
    /// (object keys in a bucket listed after a start key): the checkpoint then records the last
    /// finished name instead of the list of every finished one.
    var completesInOrder: Bool { get }
}

/// One input read sequentially, its bytes already decompressed.
public protocol ByteStream: AnyObject {
    /// Appends up to `count` bytes to `buffer`; returns how many, 0 at the end.
    func read(into buffer: inout [UInt8], count: Int) async throws(RunnelError) -> Int
    /// Moves forward to a decompressed offset, to resume mid-input.
    func seek(to offset: Int64) async throws(RunnelError)
    /// Stored bytes consumed so far when they differ from the decompressed offset (gzip), for
    /// progress; nil when the decompressed offset is the stored one.
    var storedOffset: Int64? { get }
}

/// Local files from a path or glob, in name order.
public struct LocalFiles: InputCatalog {
    public let names: [String]
    private let sizes: [String: Int64]

    /// Expands `pattern` (a path or a glob); a pattern that names nothing is a config error.
    public init(pattern: String) throws(RunnelError) {
        names = try FileGlob.expand(pattern)
        var sizes: [String: Int64] = [:]
        for n in names { if let s = fileSize(n) { sizes[n] = s } }
        self.sizes = sizes
    }

    public func storedSize(of name: String) -> Int64? { sizes[name] }
    public func open(_ name: String) async throws(RunnelError) -> any ByteStream { try InputFile(path: name) }
    public var completesInOrder: Bool { false }
}

extension InputFile: ByteStream {
    var storedOffset: Int64? { isCompressed ? compressedOffset : nil }
}
