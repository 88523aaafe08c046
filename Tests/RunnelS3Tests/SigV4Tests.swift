import RunnelCore
import Testing

@testable import RunnelS3

/// AWS's published Signature Version 4 examples: the generic test suite (service `service`,
/// 2015-08-30) and the S3 developer guide's examples (2013-05-24).
struct SigV4Tests {
    static let suiteCredentials = SigV4.Credentials(
        accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let suiteTime = Timestamp(microseconds: 1_440_938_160_000_000)  // 20150830T123600Z
    static let s3Credentials = SigV4.Credentials(
        accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let s3Time = Timestamp(microseconds: 1_369_353_600_000_000)  // 20130524T000000Z

    static func suite(_ method: String, path: String, query: [(String, String)] = [], headers: [(String, String)] = [], body: String = "")
        -> SigV4.Signed
    {
        SigV4.sign(
            SigV4.Request(
                method: method, host: "example.amazonaws.com", path: path, query: query, headers: headers,
                payloadHash: SigV4.hexSHA256(Array(body.utf8))),
            credentials: suiteCredentials, region: "us-east-1", service: "service", time: suiteTime, addContentHash: false)
    }

    @Test func getVanilla() {
        let s = Self.suite("GET", path: "/")
        #expect(
            s.canonicalRequest
                == "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
                + SigV4.emptyPayloadHash)
        #expect(s.stringToSign.hasPrefix("AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"))
        #expect(s.signature == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        let auth = s.headers.first { $0.0 == "Authorization" }?.1
        #expect(
            auth
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        )
    }

    @Test func queryParametersAreSortedByName() {
        let s = Self.suite("GET", path: "/", query: [("Param2", "value2"), ("Param1", "value1")])
        #expect(s.encodedQuery == "Param1=value1&Param2=value2")
        #expect(s.signature == "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
    }

    @Test func postVanilla() {
        #expect(Self.suite("POST", path: "/").signature == "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")
    }

    @Test func utf8PathIsPercentEncoded() {
        let s = Self.suite("GET", path: "/ሴ")
        #expect(s.encodedPath == "/%E1%88%B4")
        #expect(s.signature == "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85")
    }

    @Test func spaceInPath() {
        #expect(
            Self.suite("GET", path: "/example space/").signature
                == "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741")
    }

    static func s3(_ method: String, path: String, query: [(String, String)] = [], headers: [(String, String)] = [], body: String = "")
        -> SigV4.Signed
    {
        SigV4.sign(
            SigV4.Request(
                method: method, host: "examplebucket.s3.amazonaws.com", path: path, query: query, headers: headers,
                payloadHash: SigV4.hexSHA256(Array(body.utf8))),
            credentials: s3Credentials, region: "us-east-1", service: "s3", time: s3Time)
    }

    @Test func s3GetObjectWithRange() {
        let s = Self.s3("GET", path: "/test.txt", headers: [("Range", "bytes=0-9")])
        #expect(s.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test func s3PutObjectSignsItsBody() {
        let s = Self.s3(
            "PUT", path: "/test$file.text",
            headers: [("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")],
            body: "Welcome to Amazon S3.")
        #expect(s.encodedPath == "/test%24file.text")
        #expect(s.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    @Test func s3ParameterWithoutValue() {
        #expect(Self.s3("GET", path: "/", query: [("lifecycle", "")]).signature == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    @Test func s3ListObjects() {
        let s = Self.s3("GET", path: "/", query: [("prefix", "J"), ("max-keys", "2")])
        #expect(s.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test func sessionTokenIsSigned() {
        var creds = Self.s3Credentials
        creds.sessionToken = "token-value"
        let s = SigV4.sign(
            SigV4.Request(method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt"),
            credentials: creds, region: "us-east-1", service: "s3", time: Self.s3Time)
        #expect(s.headers.contains { $0.0 == "x-amz-security-token" && $0.1 == "token-value" })
        #expect(s.canonicalRequest.contains("x-amz-security-token:token-value\n"))
        #expect(s.signature != Self.s3("GET", path: "/test.txt").signature)
    }

    @Test func theSecretIsNeverSent() {
        let s = Self.s3("GET", path: "/test.txt")
        #expect(!s.headers.contains { $0.1.contains(Self.s3Credentials.secretAccessKey) })
    }

    @Test func headerValuesAreTrimmedAndFolded() {
        let a = Self.s3("GET", path: "/k", headers: [("X-Amz-Meta-A", "  one   two ")])
        #expect(a.canonicalRequest.contains("x-amz-meta-a:one two\n"))
    }

    @Test(arguments: [
        ("a b+c/d", false, "a%20b%2Bc%2Fd"), ("a b+c/d", true, "a%20b%2Bc/d"), ("~-_.", false, "~-_."), ("é", false, "%C3%A9"),
    ])
    func encoding(text: String, keepSlash: Bool, expected: String) {
        #expect(SigV4.encode(text, keepSlash: keepSlash) == expected)
    }
}
