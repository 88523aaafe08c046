// libFuzzer target for the JSON parser (Sources/RunnelCore/Values/JSON), built by scripts/fuzz
// with `swiftc -sanitize=fuzzer` together with the value sources.
//
// Besides "no crash, no hang", a document that parses must survive a round trip: written by
// JSONText and parsed again, it is the same value; an error must point inside the input. A
// `JSONText.Stream` kept across inputs (it reuses the last objects' keys) must agree with a
// parse of each input alone, value for value and error for error. The columnar fast path
// (`ColumnsBuilder.append(flatJSON:)`, a flat object of scalars straight into columns) must either
// decline a line or give exactly the parser's values: the differential check of the two paths.

/// Kept from input to input, as a JSON Lines reader keeps it from line to line.
nonisolated(unsafe) let stream = JSONText.Stream()
/// The input before, read first into the columns so that the fast path expects its keys.
nonisolated(unsafe) var previous: [UInt8] = []

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let alone = Result { () throws(JSONError) -> Value in try JSONText.parse(bytes) }
    let streamed = Result { () throws(JSONError) -> Value in try stream.parse(bytes) }
    switch (alone, streamed) {
    case (.success(let a), .success(let b)): precondition(a == b, "the stream parsed \(b), alone \(a)")
    case (.failure(let a), .failure(let b)): precondition(a.offset == b.offset, "errors differ: \(a) / \(b)")
    default: preconditionFailure("the stream and a parse alone disagree: \(alone) / \(streamed)")
    }
    var columns = ColumnsBuilder()
    if columns.append(flatJSON: bytes) {
        guard case .success(.object(let o)) = alone else { preconditionFailure("the fast path took what the parser refuses: \(alone)") }
        let (schema, built) = columns.finish()
        precondition(schema.fields == o.keys, "fast path keys \(schema.fields), parser \(o.keys)")
        for (i, column) in built.enumerated() {
            let fast = column.value(0)
            precondition(fast == o.values[i], "fast path \(fast) for '\(o.keys[i])', parser \(o.values[i])")
            if case .double(let d) = fast, case .double(let e) = o.values[i] {
                precondition(d.bitPattern == e.bitPattern, "fast path double \(d) differs in sign or bits from \(e)")
            }
        }
    }
    // After another line: the fast path expects that line's keys (a compare per key instead of
    // a scan) and must still give the parser's values, with nulls for the other line's keys.
    var pair = ColumnsBuilder()
    if previous.withUnsafeBytes({ pair.append(flatJSON: $0) }), pair.append(flatJSON: bytes) {
        guard case .success(.object(let o)) = alone else { preconditionFailure("the fast path took what the parser refuses: \(alone)") }
        let (schema, built) = pair.finish()
        for (i, name) in schema.fields.enumerated() {
            let expected = o.keys.firstIndex(of: name).map { o.values[$0] } ?? .null
            precondition(built[i].value(1) == expected, "after a line, fast path \(built[i].value(1)) for '\(name)', parser \(expected)")
        }
        precondition(Set(o.keys).isSubset(of: schema.fields), "after a line, fast path keys \(schema.fields), parser \(o.keys)")
    }
    previous = Array(bytes)
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
