import Testing
@testable import RunnelCore

/// A column builder holds string bytes outside the column until it is finished: every way of
/// building must give the column the values appended, in order.
@Suite struct ColumnBuilderTests {
    static func strings(_ n: Int, _ tag: String) -> [String] {
        // Lengths 0 to 40 cover the inline copies (under 4, 4 to 7, 8 to 16) and memcpy.
        (0..<n).map { i in String(repeating: "\(tag)\(i % 10)", count: i % 21) }
    }

    @Test func stringsBuildTheColumnTheyWereAppendedTo() {
        var b = ColumnBuilder()
        let values = Self.strings(500, "é")
        for (i, s) in values.enumerated() { if i % 7 == 3 { b.appendNull() } else { b.appendString(s) } }
        let column = b.finish()
        #expect(column.kind == .string)
        for (i, s) in values.enumerated() { #expect(column.value(i) == (i % 7 == 3 ? .null : .string(s))) }
    }

    /// A copied builder appended to on both sides: each keeps its own rows.
    @Test func aCopiedBuilderDoesNotShareItsAppends() {
        var a = ColumnBuilder()
        for s in Self.strings(10, "a") { a.appendString(s) }
        var b = a
        for s in Self.strings(30, "x") { a.appendString(s) }
        for s in Self.strings(30, "y") { b.appendString(s) }
        let left = a.finish()
        let right = b.finish()
        #expect((0..<40).map { left.value($0) } == (Self.strings(10, "a") + Self.strings(30, "x")).map(Value.string))
        #expect((0..<40).map { right.value($0) } == (Self.strings(10, "a") + Self.strings(30, "y")).map(Value.string))
    }

    /// Strings, then an int: the column widens to mixed with every string intact; a builder
    /// started from a finished column appends after its rows.
    @Test func wideningAndContinuingKeepTheStrings() {
        var b = ColumnBuilder()
        b.appendString("first")
        b.appendString("")
        b.appendInt(3)
        let mixed = b.finish()
        #expect(mixed.kind == .mixed && (0..<3).map { mixed.value($0) } == ["first", "", 3])
        var c = ColumnBuilder()
        c.appendString("one")
        var d = ColumnBuilder(c.finish())
        d.appendString("two")
        d.appendNull()
        let column = d.finish()
        #expect((0..<3).map { column.value($0) } == ["one", "two", .null])
    }
}
