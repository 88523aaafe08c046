import RunnelCore
import Testing

@testable import RunnelExpressions

/// Evaluates `source` over one record of `fields`; the result as CEL text (`'a'`, `[1, 2]`, `error(…)`).
private func run(_ source: String, _ fields: [String] = [], _ values: [Value] = [], limit: Int = 100_000) throws
    -> String
{
    let e = try CELExpression(source, configuration: .init(costLimit: limit))
    return CELText.describe(e.bind(Schema(fields)).evaluate(values))
}

private func compileError(_ source: String) -> CompileError? {
    do {
        _ = try CELExpression(source)
        return nil
    } catch {
        return error
    }
}

/// The extension libraries (issue #22) on cases beyond the conformance files.
struct ExtensionLibraryTests {
    @Test(arguments: [
        ("'héllo wörld'.charAt(7)", "'ö'"), ("'a,b,,c'.split(',')", "['a', 'b', '', 'c']"),
        ("'a,b,c'.split(',', 2)", "['a', 'b,c']"), ("'abc'.split('')", "['a', 'b', 'c']"),
        ("'aaa'.replace('a', 'b', 2)", "'bba'"), ("'ab'.replace('', '-')", "'-a-b-'"),
        ("'  x y \\t'.trim()", "'x y'"), ("'ÀbC'.lowerAscii()", "'Àbc'"), ("'añb'.reverse()", "'bña'"),
        ("'hello'.lastIndexOf('l')", "3"), ("'hello'.indexOf('l', 3)", "3"), ("'hello'.substring(1, 3)", "'el'"),
        ("['a', 'b'].join(', ')", "'a, b'"), ("strings.quote('a\\u00a0b\\u2028')", "'\"a\\u00a0b\\u2028\"'"),
        ("strings.quote('tab\\there')", "'\"tab\\there\"'"),
        (
            "'%s|%d|%.2f|%e|%x|%X|%o|%b'.format(['s', -5, 2.005, 1234.5, 255, 'hi', 8, 5])",
            "'s|-5|2.00|1.234500e+03|ff|6869|10|101'"
        ),
        ("'%s'.format([[1, 'a', [true]]])", "'[1, a, [true]]'"), ("'%s'.format([1e21])", "'1000000000000000000000'"),
        ("'%.1f%%'.format([99.95])", "'100.0%'"),
    ])
    func strings(source: String, expected: String) throws {
        #expect(try run(source) == expected)
    }

    @Test(arguments: [
        ("math.greatest(1, 2.5, 3u)", "3u"), ("math.least([3, -1.5, 2])", "-1.5"), ("math.round(2.5)", "3.0"),
        ("math.round(-2.5)", "-3.0"), ("math.trunc(-2.7)", "-2.0"), ("math.ceil(1.1)", "2.0"),
        ("math.floor(-1.1)", "-2.0"),
        ("math.sqrt(2u)", "1.4142135623730951"), ("math.abs(-3.5)", "3.5"), ("math.sign(-7)", "-1"),
        ("math.bitXor(6u, 3u)", "5u"), ("math.bitShiftLeft(-1, 63)", "-9223372036854775808"),
        ("math.isFinite(1.0 / 0.0)", "false"),
    ])
    func math(source: String, expected: String) throws {
        #expect(try run(source) == expected)
    }

    @Test(arguments: [
        ("[1, 2, 3, 4].slice(1, 3)", "[2, 3]"), ("[1, [2, [3, [4]]]].flatten(2)", "[1, 2, 3, [4]]"),
        ("[1, 1.0, 1u, 'a', 'a', [1], [1]].distinct()", "[1, 'a', [1]]"), ("[3, 1, 2].sort()", "[1, 2, 3]"),
        ("['bb', 'a', 'ccc'].sortBy(s, -size(s))", "['ccc', 'bb', 'a']"), ("lists.range(4)", "[0, 1, 2, 3]"),
        ("[].first()", "optional.none()"), ("[1, 2].last()", "optional.of(2)"), ("[1.5, 2.5].sum()", "4.0"),
        ("[duration('1s'), duration('2m')].sum()", "duration('121s')"), ("[].sum()", "0"), ("['b', 'a'].min()", "'a'"),
        ("[1, 2, 2].isSorted()", "true"), ("[2, 1].isSorted()", "false"), ("['a', 'b', 'a'].lastIndexOf('a')", "2"),
        ("[1, 2].indexOf(3)", "-1"), ("sets.contains([1, 2, 3], [3.0, 1u])", "true"),
        ("sets.equivalent([1, 1], [1])", "true"),
        ("sets.intersects([1], [2])", "false"),
        ("[1, 'a'].sort()", "error(sort: list elements are not comparable: int and string)"),
    ])
    func lists(source: String, expected: String) throws {
        #expect(try run(source) == expected)
    }

    @Test(arguments: [
        ("[10, 20, 30].transformList(i, v, i > 0, v + i)", "[21, 32]"),
        ("{'a': 1, 'b': 2}.transformMap(k, v, v * 10)", "{'a': 10, 'b': 20}"),
        ("{'a': 1, 'b': 2}.transformMap(k, v, k == 'b', v)", "{'b': 2}"),
        ("['x', 'y'].transformMap(i, v, v + string(i))", "{0: 'x0', 1: 'y1'}"),
        ("{'a': 'x'}.transformMapEntry(k, v, {v: k})", "{'x': 'a'}"),
        ("['a', 'b'].transformMapEntry(i, v, {'k': v})", "error(insert failed: key 'k' already exists)"),
        ("[1, 2, 3].all(i, v, v == i + 1)", "true"), ("{'a': 1, 'b': 1}.existsOne(k, v, k == 'a' && v == 1)", "true"),
        ("[1, 0].exists(i, v, 1 / v == 1)", "true"), ("[0, 1].all(i, v, 1 / v == 1)", "error(division by zero)"),
        ("[1, 2].existsOne(x, x > 1)", "true"), ("[5, 5].exists_one(i, v, i == 1 && v == 5)", "true"),
        ("cel.bind(a, 2, cel.bind(b, a * 3, a + b))", "8"),
    ])
    func comprehensions(source: String, expected: String) throws {
        #expect(try run(source) == expected)
    }

    @Test func optionalsOnRecordsTreatNullAsMissing() throws {
        let fields = ["amount", "discount", "customer"]
        let customer = Value.object(Object(keys: ["name", "tier"], values: [.string("Ada"), .null]))
        #expect(try run("record.?discount.orValue(0.0)", fields, [.double(10), .null, customer]) == "0.0")
        #expect(try run("record.?discount.orValue(0.0)", fields, [.double(10), .double(0.5), customer]) == "0.5")
        #expect(try run("record.?nothing.hasValue()", fields, [.double(10), .null, customer]) == "false")
        #expect(try run("customer.?tier.orValue('standard')", fields, [.double(10), .null, customer]) == "'standard'")
        #expect(
            try run("customer.?name.optMap(n, n.upperAscii()).value()", fields, [.double(10), .null, customer])
                == "'ADA'")
        #expect(try run("[?customer.?tier, ?customer.?name]", fields, [.double(10), .null, customer]) == "['Ada']")
        // `or`/`orValue` evaluate the alternative only when needed.
        #expect(try run("optional.of(1).orValue(1 / 0)") == "1")
        #expect(try run("optional.none().orValue(1 / 0)") == "error(division by zero)")
        #expect(try run("optional.none().value()") == "error(optional.none() dereference)")
    }

    @Test(arguments: [
        ("'a1b22c333'.find('[0-9]+')", "'1'"), ("'a1b22c333'.findAll('[0-9]+')", "['1', '22', '333']"),
        ("'a1b22c333'.findAll('[0-9]+', 2)", "['1', '22']"), ("'xyz'.find('[0-9]')", "''"),
        ("'aaa'.findAll('a|aa')", "['a', 'a', 'a']"),
        ("'abab'.findAll('(ab)*')", "['abab']"),
        ("url('https://user@example.com:8443/a%20b/c?x=1&x=2&y=z#frag').getHost()", "'example.com:8443'"),
        ("url('https://[::1]:80/').getHostname()", "'::1'"), ("url('https://example.com/p').getPort()", "''"),
        ("url('/relative/path?q=a+b').getQuery()", "{'q': ['a b']}"),
        ("url('https://example.com/a%20b').getEscapedPath()", "'/a%20b'"),
        ("isURL('../up')", "false"), ("url('HTTP://x').getScheme()", "'http'"),
        ("url('https://x/a b').getEscapedPath()", "'/a%20b'"), ("isURL('https://a b/')", "false"),
        ("isURL('example.com/path')", "false"),
        ("ip('192.168.0.1').family()", "4"), ("string(ip('2001:DB8:0:0:1::1'))", "'2001:db8::1:0:0:1'"),
        ("ip.isCanonical('2001:db8::1')", "true"), ("ip.isCanonical('2001:DB8::1')", "false"),
        ("isIP('1.2.3.04')", "false"),
        ("isIP('::ffff:1.2.3.4')", "false"), ("ip('fe80::1').isLinkLocalUnicast()", "true"),
        ("ip('8.8.8.8').isGlobalUnicast()", "true"),
        ("ip('0.0.0.0').isUnspecified()", "true"), ("ip('224.0.0.251').isLinkLocalMulticast()", "true"),
        ("cidr('192.168.0.0/16').containsIP(ip('192.168.3.4'))", "true"),
        ("cidr('192.168.0.0/16').containsIP('10.0.0.1')", "false"),
        ("cidr('10.0.0.0/8').containsCIDR('10.1.0.0/16')", "true"),
        ("cidr('10.1.0.0/16').containsCIDR('10.0.0.0/8')", "false"),
        ("string(cidr('10.1.2.3/8').masked())", "'10.0.0.0/8'"), ("string(cidr('10.1.2.3/8').ip())", "'10.1.2.3'"),
        ("cidr('2001:db8::/32').prefixLength()", "32"), ("cidr('::1/128').containsIP('::1')", "true"),
        ("quantity('1.5Gi').asInteger()", "1610612736"), ("quantity('500m').isLessThan(quantity('1'))", "true"),
        ("quantity('1k') == quantity('1000')", "true"), ("quantity('1Ki').compareTo(quantity('1k'))", "1"),
        ("quantity('0.5').isInteger()", "false"), ("quantity('2').add(3).asInteger()", "5"),
        ("string(quantity('1').sub(quantity('250m')))", "'750m'"),
        ("quantity('100m').asApproximateFloat()", "0.1"), ("quantity('-2').sign()", "-1"),
        ("isQuantity('1.2.3')", "false"),
        ("semver('1.2.3').isLessThan(semver('1.10.0'))", "true"),
        ("semver('1.0.0-alpha').isLessThan(semver('1.0.0'))", "true"),
        ("semver('1.0.0-alpha.2').compareTo(semver('1.0.0-alpha.10'))", "-1"),
        ("semver('1.0.0-rc.1').compareTo(semver('1.0.0-beta'))", "1"),
        ("semver('v2.1', true).minor()", "1"), ("isSemver('v2.1')", "false"), ("isSemver('01.2.3')", "false"),
        ("semver('1.2.3+build') == semver('1.2.3')", "true"),
    ])
    func kubernetes(source: String, expected: String) throws {
        #expect(try run(source) == expected)
    }

    @Test func errorsAreValuesAbsorbedByLogic() throws {
        #expect(try run("'abc'.substring(10) == '' || true") == "true")
        #expect(try run("false && 'abc'.charAt(9) == ''") == "false")
        #expect(try run("'abc'.substring(10)") == "error(index out of range: 10)")
        #expect(try run("math.abs(-9223372036854775807 - 1)").hasPrefix("error(integer overflow"))
        #expect(try run("[].max()").hasPrefix("error("))
    }

    @Test func costCountsWhatTheFunctionsTouch() throws {
        let commas = Value.string(String(repeating: "a,", count: 5_000))
        #expect(try run("size(s.split(','))", ["s"], [commas], limit: 100_000) == "5001")
        #expect(try run("size(s.split(','))", ["s"], [commas], limit: 2_000).contains("cost limit of 2000 exceeded"))
        #expect(try run("lists.range(100000).sort().size()", limit: 50_000).contains("cost limit"))
        #expect(try run("lists.range(1000000000)", limit: 100_000).contains("cost limit"))
        #expect(try run("'%s'.format([lists.range(20000)])", limit: 30_000).contains("cost limit"))
        let long = String(repeating: "x", count: 10_000)
        #expect(try run("s.replace('', s)", ["s"], [.string(long)], limit: 100_000).contains("cost limit"))
    }
}

/// What `validate` reports for the extension functions: positions, counts, types, did-you-mean.
struct ExtensionCheckerTests {
    @Test(arguments: [
        ("math.greates(1, 2)", "unknown function 'math.greates' (did you mean 'math.greatest'?)", 5),
        ("'abc'.charAt('x')", "charAt() does not accept string (it takes int)", 14),
        ("'abc'.split()", "split() does not take 0 arguments as a method", 6),
        ("true.split(',')", "split() cannot be called on bool (only on string)", 1),
        ("'abc'.trimm()", "did you mean 'trim'?", 6),
        ("math.round(1)", "math.round() does not accept int (it takes double)", 12),
        ("'x'.find('(')", "missing ')'", 10),
        ("'%a'.format([1])", "unrecognized formatting clause \"a\"", 1),
        ("'%s and %d'.format(['a'])", "format() has 2 clauses but the list has 1 value", 20),
        ("'%d items'.format(['three'])", "decimal clause can only be used on integers, was given string", 19),
        ("url('not a url')", "not an absolute URI", 5),
        ("ip('1.2.3')", "IP address parse error", 4),
        ("quantity('12 apples')", "quantities must match", 10),
        ("[1].transformList(i, i, i)", "must have different names", 22),
        ("[1].sortBy(1, 2)", "must be simple names", 12),
        ("{'a': 1}.transformMapEntry(k, v, 1)", "transformMapEntry() must make a map", 34),
        ("optional.of(1).optFlatMap(x, 1)", "optFlatMap() must make an optional, not int", 30),
        ("[1, 2].exists(i, v, 1)", "the condition of exists() must be a bool, not int", 21),
        ("cel.bind(1, 2, 3)", "must be simple names", 10),
        ("[?1]", "an optional entry (?x) needs an optional value, not int", 3),
    ])
    func reported(source: String, message: String, column: Int) throws {
        let e = try #require(compileError(source), "\(source) compiled")
        #expect(e.message.contains(message), "\(source): \(e.message)")
        #expect(e.column == column, "\(source): column \(e.column), \(e.message)")
    }

    @Test func dynamicArgumentsAreLeftToRunTime() throws {
        // Fields of a JSON record are dyn: the checker lets them through, the evaluator decides.
        _ = try CELExpression("name.split(' ')[0].upperAscii() + '%d'.format([qty])")
        #expect(try run("name.charAt(0)", ["name"], [.int(3)]).hasPrefix("error(no such overload"))
    }
}

/// The examples of the README's extension tables, so that the documentation stays true.
struct ReadmeExampleTests {
    @Test(arguments: [
        ("'tacocat'.charAt(4)", "'c'"), ("'hello wello'.indexOf('ello', 6)", "7"), ("'tacocat'.lastIndexOf('at')", "5"),
        ("'TacoCat'.lowerAscii()", "'tacocat'"), ("'a-b-c'.replace('-', '+', 1)", "'a+b-c'"),
        ("'a,b,c'.split(',', 2)", "['a', 'b,c']"), ("'tacocat'.substring(0, 4)", "'taco'"), ("'  text\\n'.trim()", "'text'"),
        ("['x', 'y'].join('-')", "'x-y'"), ("'abc'.reverse()", "'cba'"),
        ("strings.quote('a\"b\\n') == '\"a\\\\\"b\\\\n\"'", "true"),
        ("'%s: %.2f (%d%%)'.format(['total', 12.346, 7])", "'total: 12.35 (7%)'"),
        ("math.greatest(1, 2.5, 3u)", "3u"), ("math.least([3, 1, 2])", "1"), ("math.round(-1.5)", "-2.0"),
        ("math.abs(-11)", "11"), ("math.sign(-32.0)", "-1.0"), ("math.sqrt(16)", "4.0"), ("math.isNaN(0.0 / 0.0)", "true"),
        ("math.bitOr(1, 2)", "3"), ("math.bitShiftRight(1024, 2)", "256"),
        ("[1, 2, 3, 4].slice(1, 3)", "[2, 3]"), ("[1, [2, [3]]].flatten()", "[1, 2, [3]]"), ("[1, 2, 2, 1].distinct()", "[1, 2]"),
        ("[1, 2, 3].reverse()", "[3, 2, 1]"), ("['b', 'c', 'a'].sort()", "['a', 'b', 'c']"), ("lists.range(3)", "[0, 1, 2]"),
        ("[1, 2].last()", "optional.of(2)"), ("[].first()", "optional.none()"), ("[1.5, 2.5].sum()", "4.0"),
        ("['a', 'b', 'a'].lastIndexOf('a')", "2"), ("[1, 2, 2].isSorted()", "true"), ("sets.contains([1, 2, 3], [3, 1])", "true"),
        ("sets.equivalent([1, 1, 2], [2, 1])", "true"), ("sets.intersects([1, 2], [2, 5])", "true"),
        ("{'a': 1}[?'b']", "optional.none()"), ("optional.ofNonZeroValue('')", "optional.none()"), ("optional.of(1).value()", "1"),
        ("[?{'a': {}}.a.?x, 1]", "[1]"), ("base64.encode(b'hello')", "'aGVsbG8='"),
        ("[1, 2, 3].transformList(i, v, i > 0, v * 2)", "[4, 6]"), ("{'a': 1}.transformMap(k, v, v + 1)", "{'a': 2}"),
        ("{'a': 'x'}.transformMapEntry(k, v, {v: k})", "{'x': 'a'}"), ("'abc 123 x45'.findAll('[0-9]+')", "['123', '45']"),
        ("url('https://example.com:8080/a?x=1').getHost()", "'example.com:8080'"),
        ("url('https://h/p?k=a&k=b').getQuery()", "{'k': ['a', 'b']}"), ("ip('10.0.0.1').family()", "4"),
        ("ip('127.0.0.1').isLoopback()", "true"), ("cidr('10.0.0.0/8').containsIP('10.1.2.3')", "true"),
        ("quantity('1.5Gi').asInteger()", "1610612736"), ("quantity('500m').isLessThan(quantity('1'))", "true"),
        ("semver('v1.2', true).isLessThan(semver('1.10.0'))", "true"),
    ])
    func example(source: String, expected: String) throws {
        let e = try CELExpression(source)
        #expect(CELText.describe(e.bind(variables: []).evaluate(variables: [])) == expected, "\(source)")
    }
}
