/// Keeps secrets out of what Runnel prints: messages, dead letters, checkpoints, the summary.
///
/// Two layers, because a secret can travel where the spec did not put it (a server that echoes
/// the API key into its `next` links): the values of known secret query parameters are masked
/// by name, and every occurrence of a secret value is masked wherever it appears.
public struct Redactor: Sendable {
    /// Query parameters masked whatever their value: the API key's, and names that carry
    /// credentials by convention.
    static let conventionalSecretParameters: Set<String> = [
        "access_token", "api_key", "apikey", "api-key", "key", "token", "auth", "password", "secret",
        "client_secret", "signature", "sig", "x-amz-signature", "x-amz-credential", "x-amz-security-token",
    ]

    let secrets: [String]
    let secretParameters: Set<String>

    public init(secrets: [String], secretParameters: [String] = []) {
        // Longest first, so that a secret containing another is masked whole. Empty values
        // would mask everything.
        self.secrets = secrets.filter { !$0.isEmpty }.sorted { $0.count > $1.count }
        self.secretParameters = Set(secretParameters.map { $0.lowercased() }).union(Self.conventionalSecretParameters)
    }

    /// `text` with every secret value replaced by `***`.
    public func text(_ text: String) -> String {
        var out = text
        for s in secrets where out.contains(s) { out = out.replacing(s, with: "***") }
        return out
    }

    /// A URL fit to print: a password in its user info and the values of secret query
    /// parameters masked, then every secret value masked.
    public func url(_ url: String) -> String {
        var parts = URLText.Parts(url)
        if let at = parts.authority.lastIndex(of: "@"), let colon = parts.authority[..<at].firstIndex(of: ":") {
            parts.authority = String(parts.authority[...colon]) + "***" + String(parts.authority[at...])
        }
        parts.query = parts.query.map { item in
            secretParameters.contains(URLText.percentDecode(item.name).lowercased()) ? (item.name, "***") : item
        }
        return text(parts.text)
    }
}
