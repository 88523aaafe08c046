// libFuzzer target for the JSON parser (Sources/RunnelCore/Values/JSON), built by scripts/fuzz
// with `swiftc -sanitize=fuzzer` together with the value sources.
//
// Besides "no crash, no hang", a document that parses must survive a round trip: written by
// JSONText and parsed again, it is the same value; an error must point inside the input.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    do {
        let value = try JSONText.parse(bytes)
        let text = JSONText.encode(value)
        let again: Value
        do { again = try JSONText.parse(text) } catch { fatalError("our own output does not parse: \(text): \(error)") }
        precondition(JSONText.encode(again) == text, "round trip changed \(text)")
    } catch {
        precondition(error.offset >= 0 && error.offset <= size, "error offset \(error.offset) outside 0...\(size)")
    }
    return 0
}
