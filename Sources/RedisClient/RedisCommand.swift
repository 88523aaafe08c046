
/// One argument of a command. Kept in its native form and written straight into the outgoing
/// buffer, so that no intermediate `String` is built for integers or byte payloads.
public struct RedisArgument: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    enum Storage: Sendable, Hashable {
        case string(String)
        case bytes([UInt8])
        case integer(Int)
    }

    let storage: Storage

    public static func string(_ value: String) -> RedisArgument { RedisArgument(storage: .string(value)) }
    public static func bytes(_ value: [UInt8]) -> RedisArgument { RedisArgument(storage: .bytes(value)) }
    public static func integer(_ value: Int) -> RedisArgument { RedisArgument(storage: .integer(value)) }

    init(storage: Storage) { self.storage = storage }
    public init(stringLiteral value: String) { self.storage = .string(value) }
    public init(integerLiteral value: Int) { self.storage = .integer(value) }
}

/// A command: its name and arguments, sent as a RESP array of bulk strings.
///
/// ```swift
/// let reply = try await connection.send(RedisCommand("SET", ["greeting", .bytes(payload)]))
/// let same = try await connection.send(["GET", "greeting"])
/// ```
///
/// `description` shows the name and argument count only: arguments may hold payloads or
/// credentials (AUTH, HELLO … AUTH), and descriptions end up in logs.
public struct RedisCommand: Sendable, Hashable, ExpressibleByArrayLiteral, CustomStringConvertible {
    /// Name first, then the arguments.
    public var arguments: [RedisArgument]

    /// How long the server may legitimately hold the reply (the BLOCK of XREADGROUP, the timeout
    /// of BLPOP). It is added to the command timeout so that a blocking read is not cut short.
    public var serverBlockingTime: Duration

    public init(_ name: String, _ arguments: [RedisArgument] = [], serverBlockingTime: Duration = .zero) {
        var all: [RedisArgument] = []
        all.reserveCapacity(arguments.count + 1)
        all.append(.string(name))
        all.append(contentsOf: arguments)
        self.arguments = all
        self.serverBlockingTime = serverBlockingTime
    }

    public init(arrayLiteral elements: RedisArgument...) {
        precondition(!elements.isEmpty, "a Redis command needs at least its name")
        self.arguments = elements
        self.serverBlockingTime = .zero
    }

    /// The upper-cased command name (`XREADGROUP`), for errors and logs.
    public var name: String {
        switch arguments.first?.storage {
        case .string(let name): name.uppercased()
        case .bytes(let bytes): String(decoding: bytes, as: UTF8.self).uppercased()
        case .integer(let value): String(value)
        case nil: ""
        }
    }

    public var description: String { "\(name) (\(arguments.count - 1) arguments)" }
}
