import Crypto

/// SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL uses it: no channel binding, the user name
/// left empty (the server takes it from the startup message). swift-crypto gives HMAC and SHA-256;
/// `Hi` is PBKDF2 with HMAC-SHA-256 and one output block, written out here.
struct SCRAMSHA256 {
    static let mechanism = "SCRAM-SHA-256"

    let password: String
    let clientNonce: String
    private(set) var clientFirstBare: String
    private var expectedServerSignature: [UInt8]?

    /// - Parameter username: empty for PostgreSQL (which ignores it); set for RFC 7677's test vector.
    init(password: String, clientNonce: String, username: String = "") {
        self.password = password
        self.clientNonce = clientNonce
        self.clientFirstBare = "n=\(username),r=\(clientNonce)"
    }

    /// A random 18-byte nonce in base64.
    static func randomNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        return Base64.encode((0..<18).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// client-first-message: the gs2 header "n,," (no channel binding) and the bare part.
    var clientFirst: [UInt8] { Array(("n,," + clientFirstBare).utf8) }

    /// Answers server-first-message with client-final-message.
    mutating func clientFinal(serverFirst: [UInt8]) throws(ReplicationError) -> [UInt8] {
        let text = String(decoding: serverFirst, as: UTF8.self)
        var attributes: [Character: Substring] = [:]
        for part in text.split(separator: ",") {
            guard part.count >= 2, part.dropFirst().first == "=" else { continue }
            attributes[part.first!] = part.dropFirst(2)
        }
        guard let nonce = attributes["r"], nonce.hasPrefix(clientNonce), nonce.count > clientNonce.count,
            let saltText = attributes["s"], let salt = Base64.decode(saltText),
            let iterationText = attributes["i"], let iterations = Int(iterationText),
            (1...10_000_000).contains(iterations)
        else {
            throw ReplicationError(.authentication, "SCRAM: malformed server-first-message")
        }
        let saltedPassword = Self.hi(password: Array(password.utf8), salt: salt, iterations: iterations)
        let clientKey = Self.hmac(key: saltedPassword, Array("Client Key".utf8))
        let storedKey = Array(SHA256.hash(data: clientKey))
        let withoutProof = "c=biws,r=\(nonce)"
        let authMessage = Array("\(clientFirstBare),\(text),\(withoutProof)".utf8)
        let clientSignature = Self.hmac(key: storedKey, authMessage)
        let proof = zip(clientKey, clientSignature).map { $0 ^ $1 }
        let serverKey = Self.hmac(key: saltedPassword, Array("Server Key".utf8))
        expectedServerSignature = Self.hmac(key: serverKey, authMessage)
        return Array("\(withoutProof),p=\(Base64.encode(proof))".utf8)
    }

    /// Checks server-final-message: the server proves it knew the password too.
    func verify(serverFinal: [UInt8]) throws(ReplicationError) {
        let text = String(decoding: serverFinal, as: UTF8.self)
        guard let expected = expectedServerSignature, text.hasPrefix("v="),
            let signature = Base64.decode(text.dropFirst(2).prefix { $0 != "," }), signature == expected
        else {
            throw ReplicationError(.authentication, "SCRAM: the server's signature does not match")
        }
    }

    static func hmac(key: [UInt8], _ data: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: key)))
    }

    /// Hi(password, salt, i) = U1 ^ U2 ^ … ^ Ui, U1 = HMAC(password, salt ‖ INT(1)).
    static func hi(password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        let key = SymmetricKey(data: password)
        var u = Array(HMAC<SHA256>.authenticationCode(for: salt + [0, 0, 0, 1], using: key))
        var result = u
        for _ in 1..<iterations {
            u = Array(HMAC<SHA256>.authenticationCode(for: u, using: key))
            for i in 0..<result.count { result[i] ^= u[i] }
        }
        return result
    }
}

/// `md5` authentication: "md5" + md5hex(md5hex(password ‖ user) ‖ salt).
enum MD5Password {
    static func response(user: String, password: String, salt: [UInt8]) -> String {
        let inner = hex(Array(Insecure.MD5.hash(data: Array((password + user).utf8))))
        return "md5" + hex(Array(Insecure.MD5.hash(data: Array(inner.utf8) + salt)))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Standard base64 with padding (RFC 4648 §4), for SCRAM's attributes.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i]
            let b1 = i + 1 < bytes.count ? bytes[i + 1] : 0
            let b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 3) << 4 | b1 >> 4)])
            out.append(i + 1 < bytes.count ? alphabet[Int((b1 & 15) << 2 | b2 >> 6)] : UInt8(ascii: "="))
            out.append(i + 2 < bytes.count ? alphabet[Int(b2 & 63)] : UInt8(ascii: "="))
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var values: [UInt8] = []
        var padding = 0
        for c in text.utf8 {
            if c == UInt8(ascii: "=") {
                padding += 1
                continue
            }
            guard padding == 0, let v = alphabet.firstIndex(of: c) else { return nil }
            values.append(UInt8(v))
        }
        guard (values.count + padding) % 4 == 0, padding <= 2 else { return nil }
        var out: [UInt8] = []
        var i = 0
        while i + 1 < values.count {
            out.append(values[i] << 2 | values[i + 1] >> 4)
            if i + 2 < values.count { out.append(values[i + 1] << 4 | values[i + 2] >> 2) }
            if i + 3 < values.count { out.append(values[i + 2] << 6 | values[i + 3]) }
            i += 4
        }
        return out
    }
}
