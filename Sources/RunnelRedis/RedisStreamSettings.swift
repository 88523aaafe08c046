public import RedisClient
public import RunnelCore

/// How a stream entry becomes a record, and back.
public struct RedisEntryFormat: Sendable, Hashable {
    private enum Base: Hashable { case json, fields }
    private let base: Base

    /// One field (`payload` by default) holds a JSON object; its keys are the record's fields.
    public static let json = RedisEntryFormat(base: .json)
    /// Every field of the entry is a string field of the record.
    public static let fields = RedisEntryFormat(base: .fields)

    public static let names = ["json", "fields"]
    public init?(name: String) {
        switch name {
        case "json": base = .json
        case "fields": base = .fields
        default: return nil
        }
    }
    private init(base: Base) { self.base = base }
    public var isJSON: Bool { base == .json }
    public var name: String { isJSON ? "json" : "fields" }
}

extension RedisConfiguration {
    /// The settings every Runnel Redis client starts from: `url`, plus a reconnect back-off
    /// capped at 2 s so that a worker is back within seconds of a Redis restart.
    public static func runnel(url: String) throws(RunnelError) -> RedisConfiguration {
        var c: RedisConfiguration
        do { c = try RedisConfiguration(url: url) } catch {
            throw RunnelError.config("url: \(error)")
        }
        c.reconnect = .exponentialJitter(base: .milliseconds(50), cap: .seconds(2))
        if c.options.clientName == nil { c.options.clientName = "runnel" }
        return c
    }
}

/// Redis errors as Runnel classifies them: connection failures are transient (retried),
/// server errors are not.
extension RedisError: TransientClassifiable {}
