// libFuzzer target for the pgoutput decoder (Sources/PostgresReplication/PgOutput), built by
// scripts/fuzz with `swiftc -sanitize=fuzzer` together with the decoder's sources (standard
// library only, no NIO).
//
// Besides "no crash, no hang" on untrusted bytes, it checks the decoder's contract: a message that
// decodes re-encodes to bytes that decode to the same message, and the input read as the payload
// of a CopyData stream message ('w' XLogData or 'k' keepalive) decodes or throws, never traps.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPgOutput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    if let message = try? PgOutputDecoder.decode(input) {
        let again: PgOutputMessage
        do {
            again = try PgOutputDecoder.decode(message.encoded())
        } catch {
            fatalError("a decoded message does not decode once re-encoded: \(error) \(message)")
        }
        precondition(again == message, "re-encoded message differs: \(message) vs \(again)")
    }
    if case .xLogData(let x)? = try? ReplicationStreamMessage.decode(input) {
        _ = try? PgOutputDecoder.decode(x.data)
    }
    return 0
}
