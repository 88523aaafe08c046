/// Writes a batch as the bytes of one part file, for a format that the part-file loaders (files,
/// S3) do not know themselves: `parquet` comes from RunnelParquet, behind the Parquet trait, so
/// that the light build links no codec library. An encoder may keep state across batches (the
/// Parquet file schema); the loaders hold one instance for all their copies.
public protocol PartEncoder: Sendable {
    func encode(_ batch: Batch) throws -> [UInt8]
    /// Takes out of `batch` the records the encoder will not write (a schema drift policy's dead
    /// letters), with their reasons, before `encode`. Default: none.
    func refuse(_ batch: inout Batch) throws -> [(ordinal: Int, error: RecordError)]
    /// Whether the encoder carries on from the parts an earlier run wrote: the loaders then find
    /// the newest part under their name prefix when they prepare and hand it to `resume(from:)`.
    /// Default: false.
    var resumesFromNewestPart: Bool { get }
    /// Takes up the state the newest part shows (Parquet: its file schema, so that a restarted
    /// run keeps the schema its predecessor froze or widened). Default: nothing.
    func resume(from newestPart: any RandomAccessObject) async throws
    /// The encoder typing its columns from the field types the stages declare (casts), with the
    /// words `validate` prints; nil when the format has no column types. Default: nil.
    func declaring(_ types: [String: PortableType]) -> (encoder: any PartEncoder, description: String)?
}

extension PartEncoder {
    public func refuse(_ batch: inout Batch) throws -> [(ordinal: Int, error: RecordError)] { [] }
    public var resumesFromNewestPart: Bool { false }
    public func resume(from newestPart: any RandomAccessObject) async throws {}
    public func declaring(_ types: [String: PortableType]) -> (encoder: any PartEncoder, description: String)? { nil }
}
