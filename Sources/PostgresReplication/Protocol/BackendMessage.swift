/// One message from the server: its type byte and its payload (without the length).
public struct BackendMessage: Hashable, Sendable {
    public var type: UInt8
    public var payload: [UInt8]

    public init(type: UInt8, payload: [UInt8]) {
        self.type = type
        self.payload = payload
    }

    /// The largest message the client accepts (a DataRow or XLogData of a big TOASTed row fits).
    public static let maxLength = 1 << 30

    /// The fields of an ErrorResponse or NoticeResponse.
    struct Fields {
        var values: [UInt8: String] = [:]
        var severity: String { values[UInt8(ascii: "V")] ?? values[UInt8(ascii: "S")] ?? "ERROR" }
        var sqlState: String? { values[UInt8(ascii: "C")] }
        var message: String { values[UInt8(ascii: "M")] ?? "(no message)" }
        var detail: String? { values[UInt8(ascii: "D")] }

        var error: ReplicationError {
            ReplicationError(.server, "\(severity): \(message)", sqlState: sqlState, detail: detail)
        }
    }

    func fields() throws(PgOutputError) -> Fields {
        try withReader { r throws(PgOutputError) in
            var fields = Fields()
            while true {
                let code = try r.uint8("field type")
                if code == 0 { break }
                fields.values[code] = try r.cString("field value")
            }
            return fields
        }
    }

    func withReader<T>(_ body: (inout ByteReader) throws(PgOutputError) -> T) throws(PgOutputError) -> T {
        try payload.withUnsafeBytes { buffer in
            Result { () throws(PgOutputError) -> T in
                var reader = ByteReader(buffer)
                return try body(&reader)
            }
        }.get()
    }
}

/// Frontend messages, as bytes.
enum FrontendMessage {
    static let protocolVersion: Int32 = 196_608  // 3.0
    static let sslRequestCode: Int32 = 80_877_103

    static func sslRequest() -> [UInt8] {
        var w = ByteWriter()
        w.u32(8)
        w.u32(UInt32(bitPattern: sslRequestCode))
        return w.bytes
    }

    static func startup(parameters: [(String, String)]) -> [UInt8] {
        var body = ByteWriter()
        body.u32(UInt32(bitPattern: protocolVersion))
        for (name, value) in parameters {
            body.cString(name)
            body.cString(value)
        }
        body.bytes.append(0)
        var w = ByteWriter()
        w.u32(UInt32(body.bytes.count + 4))
        w.bytes += body.bytes
        return w.bytes
    }

    static func message(_ type: Unicode.Scalar, _ body: [UInt8]) -> [UInt8] {
        var w = ByteWriter()
        w.tag(type)
        w.u32(UInt32(body.count + 4))
        w.bytes += body
        return w.bytes
    }

    static func password(_ text: String) -> [UInt8] {
        var body = ByteWriter()
        body.cString(text)
        return message("p", body.bytes)
    }

    static func saslInitialResponse(mechanism: String, data: [UInt8]) -> [UInt8] {
        var body = ByteWriter()
        body.cString(mechanism)
        body.u32(UInt32(data.count))
        body.bytes += data
        return message("p", body.bytes)
    }

    static func saslResponse(_ data: [UInt8]) -> [UInt8] { message("p", data) }

    static func query(_ sql: String) -> [UInt8] {
        var body = ByteWriter()
        body.cString(sql)
        return message("Q", body.bytes)
    }

    static func copyData(_ data: [UInt8]) -> [UInt8] { message("d", data) }
    static func copyDone() -> [UInt8] { message("c", []) }
    static func terminate() -> [UInt8] { message("X", []) }
}
