import NIOCore

/// Frames the server's bytes into messages (type byte, Int32 length, payload). Before TLS it
/// reads the one-byte answer to SSLRequest, which is not framed.
struct BackendMessageDecoder: ByteToMessageDecoder {
    typealias InboundOut = BackendMessage

    var expectsSSLResponse: Bool

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if expectsSSLResponse {
            guard let answer = buffer.readInteger(as: UInt8.self) else { return .needMoreData }
            expectsSSLResponse = false
            // Bytes after the answer and before the handshake would be injected by a man in the
            // middle (CVE-2021-23222): refuse them.
            if answer == UInt8(ascii: "S"), buffer.readableBytes > 0 {
                throw ReplicationError(.tls, "the server sent data before the TLS handshake")
            }
            context.fireChannelRead(Self.wrapInboundOut(BackendMessage(type: answer, payload: [])))
            return .continue
        }
        guard buffer.readableBytes >= 5,
            let type = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
            let length = buffer.getInteger(at: buffer.readerIndex + 1, as: Int32.self)
        else { return .needMoreData }
        guard length >= 4, Int(length) <= BackendMessage.maxLength else {
            throw ReplicationError(.protocolViolation, "message '\(Unicode.Scalar(type))' with length \(length)")
        }
        guard buffer.readableBytes >= 1 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 5)
        let payload = buffer.readBytes(length: Int(length) - 4) ?? []
        context.fireChannelRead(Self.wrapInboundOut(BackendMessage(type: type, payload: payload)))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
        -> DecodingState
    {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
