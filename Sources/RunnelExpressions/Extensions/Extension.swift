/// The functions of CEL's extension libraries (cel-go's `ext`: strings, math, lists, sets,
/// optionals, encoders) and of the Kubernetes libraries that make sense on data (regex, URLs,
/// IP addresses and CIDRs, quantities, semantic versions). Resolved once when binding, by name
/// and by whether the call has a receiver (`s.reverse()` vs `math.abs(x)`).
enum Extension: String, Sendable, Hashable, CaseIterable {
    // strings
    case charAt, indexOf, lastIndexOf, lowerAscii, upperAscii, replace, split, substring, trim, join, reverse, format
    case quote = "strings.quote"
    // math
    case greatest = "math.greatest"
    case least = "math.least"
    case ceil = "math.ceil"
    case floor = "math.floor"
    case round = "math.round"
    case trunc = "math.trunc"
    case abs = "math.abs"
    case mathSign = "math.sign"
    case sqrt = "math.sqrt"
    case isInf = "math.isInf"
    case isNaN = "math.isNaN"
    case isFinite = "math.isFinite"
    case bitAnd = "math.bitAnd"
    case bitOr = "math.bitOr"
    case bitXor = "math.bitXor"
    case bitNot = "math.bitNot"
    case bitShiftLeft = "math.bitShiftLeft"
    case bitShiftRight = "math.bitShiftRight"
    // lists and sets
    case slice, flatten, distinct, sort, first, last, sum, min, max, isSorted
    case range = "lists.range"
    case setsContains = "sets.contains"
    case setsEquivalent = "sets.equivalent"
    case setsIntersects = "sets.intersects"
    // optionals (`or` and `orValue` are evaluated lazily, see `Node.optionalOr`)
    case optionalOf = "optional.of"
    case optionalNone = "optional.none"
    case optionalOfNonZero = "optional.ofNonZeroValue"
    case hasValue, value, or, orValue
    // encoders
    case base64Encode = "base64.encode"
    case base64Decode = "base64.decode"
    // Kubernetes: regex
    case find, findAll
    // Kubernetes: URLs
    case url, isURL, getScheme, getHost, getHostname, getPort, getEscapedPath, getQuery
    // Kubernetes: IP addresses and CIDRs
    case ip, isIP
    case ipIsCanonical = "ip.isCanonical"
    case family, isUnspecified, isLoopback, isLinkLocalMulticast
    case isLinkLocalUnicast, isGlobalUnicast
    case cidr, isCIDR, containsIP, containsCIDR
    case cidrIP = "#ip"
    case masked, prefixLength
    // Kubernetes: quantities and semantic versions (compareTo & co. serve both)
    case quantity, isQuantity, isInteger, asInteger, asApproximateFloat
    case quantitySign = "#sign"
    case add, sub
    case isGreaterThan, isLessThan, compareTo
    case semver, isSemver, major, minor, patch

    /// The function's name as written.
    var name: String {
        switch self {
        case .cidrIP: "ip"
        case .quantitySign: "sign"
        default: rawValue
        }
    }

    /// Methods are called on a receiver (`s.split(',')`); the others are global (`math.abs(x)`, `url(s)`).
    var isMethod: Bool {
        switch self {
        case .quote, .greatest, .least, .ceil, .floor, .round, .trunc, .abs, .mathSign, .sqrt, .isInf, .isNaN,
            .isFinite,
            .bitAnd, .bitOr, .bitXor, .bitNot, .bitShiftLeft, .bitShiftRight, .range, .setsContains, .setsEquivalent,
            .setsIntersects, .optionalOf, .optionalNone, .optionalOfNonZero, .base64Encode, .base64Decode, .url, .isURL,
            .ip,
            .isIP, .ipIsCanonical, .cidr, .isCIDR, .quantity, .isQuantity, .semver, .isSemver:
            false
        default: true
        }
    }

    var key: String { (isMethod ? "#" : "") + name }

    private static let byKey: [String: Extension] = Dictionary(uniqueKeysWithValues: allCases.map { ($0.key, $0) })

    static func resolve(_ name: String, receiver: Bool) -> Extension? { byKey[(receiver ? "#" : "") + name] }

    /// Every name, for "did you mean".
    static let names: Set<String> = Set(allCases.map(\.name))

    /// The overloads, by `key`.
    static let signatures: [String: [Signature]] = {
        var out: [String: [Signature]] = [:]
        for text in signatureTexts {
            let s = Signature(text)
            let head = text[..<text.firstIndex(of: "(")!]
            let key: String
            if let hash = head.firstIndex(of: "#") {
                key = "#" + head[head.index(after: hash)...]
            } else {
                key = String(head)
            }
            out[key, default: []].append(s)
        }
        return out
    }()

    private static let number = "int|uint|double"
    private static let signatureTexts: [String] = [
        "string#charAt(int) string", "string#indexOf(string) int", "string#indexOf(string, int) int",
        "list#indexOf(dyn) int",
        "string#lastIndexOf(string) int", "string#lastIndexOf(string, int) int", "list#lastIndexOf(dyn) int",
        "string#lowerAscii() string", "string#upperAscii() string",
        "string#replace(string, string) string", "string#replace(string, string, int) string",
        "string#split(string) list", "string#split(string, int) list",
        "string#substring(int) string", "string#substring(int, int) string", "string#trim() string",
        "list#join() string", "list#join(string) string", "string#reverse() string", "list#reverse() list",
        "string#format(list) string", "strings.quote(string) string",

        "math.greatest(\(number)...) dyn", "math.greatest(list) dyn", "math.least(\(number)...) dyn",
        "math.least(list) dyn",
        "math.ceil(double) double", "math.floor(double) double", "math.round(double) double",
        "math.trunc(double) double",
        "math.abs(\(number)) dyn", "math.sign(\(number)) dyn", "math.sqrt(\(number)) double",
        "math.isInf(double) bool", "math.isNaN(double) bool", "math.isFinite(double) bool",
        "math.bitAnd(int, int) int", "math.bitAnd(uint, uint) uint", "math.bitOr(int, int) int",
        "math.bitOr(uint, uint) uint",
        "math.bitXor(int, int) int", "math.bitXor(uint, uint) uint", "math.bitNot(int) int", "math.bitNot(uint) uint",
        "math.bitShiftLeft(int, int) int", "math.bitShiftLeft(uint, int) uint",
        "math.bitShiftRight(int, int) int", "math.bitShiftRight(uint, int) uint",

        "list#slice(int, int) list", "list#flatten() list", "list#flatten(int) list", "list#distinct() list",
        "list#sort() list", "list#first() optional", "list#last() optional", "list#sum() dyn", "list#min() dyn",
        "list#max() dyn", "list#isSorted() bool", "lists.range(int) list",
        "sets.contains(list, list) bool", "sets.equivalent(list, list) bool", "sets.intersects(list, list) bool",

        "optional.of(dyn) optional", "optional.none() optional", "optional.ofNonZeroValue(dyn) optional",
        "optional#hasValue() bool", "optional#value() dyn", "optional#or(optional) optional",
        "optional#orValue(dyn) dyn",

        "base64.encode(bytes) string", "base64.decode(string) bytes",

        "string#find(string) string", "string#findAll(string) list", "string#findAll(string, int) list",

        "url(string) url", "isURL(string) bool", "url#getScheme() string", "url#getHost() string",
        "url#getHostname() string", "url#getPort() string", "url#getEscapedPath() string", "url#getQuery() map",

        "ip(string) ip", "isIP(string) bool", "ip.isCanonical(string) bool", "ip#family() int",
        "ip#isUnspecified() bool", "ip#isLoopback() bool", "ip#isLinkLocalMulticast() bool",
        "ip#isLinkLocalUnicast() bool", "ip#isGlobalUnicast() bool",
        "cidr(string) cidr", "isCIDR(string) bool", "cidr#containsIP(ip|string) bool",
        "cidr#containsCIDR(cidr|string) bool",
        "cidr#ip() ip", "cidr#masked() cidr", "cidr#prefixLength() int",

        "quantity(string) quantity", "isQuantity(string) bool", "quantity#isInteger() bool", "quantity#asInteger() int",
        "quantity#asApproximateFloat() double", "quantity#sign() int", "quantity#add(quantity|int) quantity",
        "quantity#sub(quantity|int) quantity", "quantity#isGreaterThan(quantity) bool",
        "quantity#isLessThan(quantity) bool",
        "quantity#compareTo(quantity) int",
        "semver(string) semver", "semver(string, bool) semver", "isSemver(string) bool", "isSemver(string, bool) bool",
        "semver#major() int", "semver#minor() int", "semver#patch() int", "semver#isGreaterThan(semver) bool",
        "semver#isLessThan(semver) bool", "semver#compareTo(semver) int",
    ]

    /// Constant arguments checked when the expression is compiled: regular expressions, format
    /// strings, URLs, addresses, quantities and versions written as literals.
    static func checkConstants(
        _ ext: Extension, _ args: [Expr], fail: (String, Int) -> CompileError
    ) throws(CompileError) {
        func literal(_ i: Int) -> String? {
            guard i < args.count, case .literal(.string(let s)) = args[i].kind else { return nil }
            return s
        }
        switch ext {
        case .find, .findAll:
            if let p = literal(1) {
                do { _ = try CELRegex(p) } catch { throw fail(error.message, args[1].offset) }
            }
        case .format:
            guard let f = literal(0) else { break }
            if let problem = Format.check(f) { throw fail(problem, args[0].offset) }
            guard args.count == 2, case .list(let items) = args[1].kind else { break }
            let clauses = Format.clauseCount(f)
            if clauses > items.count {
                throw fail(
                    "format() has \(clauses) clause\(clauses == 1 ? "" : "s") but the list has \(items.count) value\(items.count == 1 ? "" : "s")",
                    args[1].offset)
            }
            // With constant values the result is known: a clause that does not take its value fails now.
            let values = items.compactMap { item -> CELValue? in if case .literal(let v) = item.kind { v } else { nil }
            }
            if values.count == items.count {
                var ctx = Evaluation(record: [], fields: [], variables: [], locals: [], limit: Int.max)
                if case .error(let e) = Format.apply(f, CELList(values), &ctx) { throw fail(e.message, args[1].offset) }
            }
        case .url, .ip, .cidr, .quantity, .semver:
            if let s = literal(0), args.count == 1, case .error(let e) = Kube.parse(ext, s) {
                throw fail(e.message, args[0].offset)
            }
        default: break
        }
    }
}
