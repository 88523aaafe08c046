/// Bytes read by offset from a file or an object (a ranged GET), for formats that read their
/// footer first and then only the parts they need (Parquet).
public protocol RandomAccessObject: Sendable {
    /// The name positions and errors use: a path, or an object's URL.
    var name: String { get }
    func size() async throws -> Int64
    /// `count` bytes from `offset`; fewer only at the end.
    func read(offset: Int64, count: Int) async throws -> [UInt8]
}

/// Reads records from random-access objects of a format another module brings (`parquet`, from
/// RunnelParquet behind the Parquet trait), for the extractors that find the objects (files, S3):
/// the counterpart of `PartEncoder`.
public protocol PartDecoder: Sendable {
    /// A reader of `objects` in the order given, resuming from `request.checkpoint` (a file
    /// position: object, row). `inOrder`: the objects come in name order, so finished ones are
    /// remembered as "everything through this name". `cursor`: the field a window
    /// (`request.window`) applies to; nil when there is none.
    func open(_ request: ExtractRequest, objects: [any RandomAccessObject], inOrder: Bool, cursor: String?) throws -> any BatchReader
}
