public import RunnelConfig
import RunnelCore
import Logging
import RunnelFiles

extension ComponentRegistry {
    /// `type: s3` for extract, load and dead_letter.
    ///
    ///     extract: {type: s3, bucket: landing, prefix: orders/, format: jsonl, endpoint: http://minio:9000}
    ///     load: {type: s3, bucket: lake, prefix: orders/, format: jsonl, gzip: true}
    ///     dead_letter: {type: s3, bucket: lake, prefix: dead-letters/}
    public mutating func registerS3() {
        registerExtractor("s3", keys: S3Keys.extractor) { ctx in
            let s = ctx.section
            let client = s3Client(ctx)
            let format = s.choice("format", ["csv", "jsonl", "parquet"], required: true)
            let prefix = s.string("prefix") ?? ""
            let glob = s.string("glob")
            if glob != nil && s.has("prefix") { s.node.problem("give 'prefix' or 'glob', not both") }
            let cursor = s.string("cursor")
            let window = s.choice("window", ["key", "last_modified", "cursor"])
            if window == "cursor" && cursor == nil { s.node.problem("'window: cursor' needs 'cursor' to name the field") }
            let chunk = s.bytes("chunk_size")
            if let chunk, chunk < 64 << 10 || chunk > 64 << 20 {
                s.node("chunk_size")?.problem("chunk_size must be between 64KiB and 64MiB (two are held in memory)")
            }
            var csv: CSVExtractor.Configuration?
            if format == "csv" { csv = csvConfiguration(s, cursor: cursor) }
            // `parquet`: the decoder RunnelParquet registers (the Parquet trait), or a problem naming the trait.
            let decoder = format == "parquet" ? ctx.partDecoder("parquet") : nil
            guard let client, let format else { return nil }
            let f: S3Extractor.Format
            if format == "parquet" {
                guard let decoder else { return nil }
                f = .decoded(name: "parquet", decoder, cursor: cursor)
            } else if format == "csv", let csv {
                f = .csv(csv)
            } else {
                var j = JSONLinesExtractor.Configuration(path: client.url(prefix))
                j.cursor = cursor
                f = .jsonl(j)
            }
            var c = S3Extractor.Configuration(format: f)
            c.prefix = prefix
            c.glob = glob
            c.window = window.map { ["key": .key, "last_modified": .lastModified, "cursor": .cursor][$0]! }
            if let chunk { c.chunkSize = chunk }
            return S3Extractor(c, client: client)
        }
        registerLoader("s3", keys: S3Keys.loader) { ctx in
            let s = ctx.section
            let client = s3Client(ctx)
            let format = s.choice("format", PartFileLoader.Format.allCases.map(\.rawValue), required: true)
            let prefix = s.string("prefix") ?? ""
            let gzip = s.bool("gzip") ?? false
            let name = s.string("name_prefix")
            let part = s.bytes("part_size")
            if let part, part < 5 << 20 { s.node("part_size")?.problem("part_size must be at least 5MiB (S3's smallest part)") }
            let age = s.duration("abandoned_upload_age")
            guard let client, let format, let f = PartFileLoader.Format(rawValue: format) else { return nil }
            // `parquet` parts: the encoder RunnelParquet registers (the Parquet trait), or a problem naming the trait.
            var encoder: (any PartEncoder)?
            if f == .parquet {
                guard let e = try ctx.partEncoder("parquet") else { return nil }
                encoder = e
            }
            var c = S3PartLoader.Configuration(prefix: prefix, format: f)
            c.gzip = gzip
            if let name { c.namePrefix = name }
            if let part { c.partSize = part }
            if let age { c.abandonedUploadAge = age }
            c.encoder = encoder
            return S3PartLoader(c, client: client)
        }
        registerDeadLetterQueue("s3", keys: S3Keys.deadLetters) { ctx in
            let prefix = ctx.section.string("prefix") ?? "dead-letters/"
            guard let client = s3Client(ctx) else { return nil }
            return S3DeadLetterQueue(client: client, prefix: prefix)
        }
    }
}

/// The client of a section's bucket and endpoint, shared by every section that names the same
/// bucket, endpoint and keys. Reports missing settings and credentials as spec problems.
private func s3Client(_ ctx: ComponentContext) -> S3Client? {
    let s = ctx.section
    let env = s.source.environment
    let bucket = s.string("bucket", required: true)
    let region = s.string("region") ?? env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? "us-east-1"
    let endpoint = s.string("endpoint")
    let pathStyle = s.bool("path_style")
    let keyID = s.string("access_key_id")
    let secret = s.string("secret_access_key")
    let token = s.string("session_token")
    let roleARN = s.string("role_arn")
    let tokenFile = s.path("web_identity_token_file")
    let stsEndpoint = s.string("sts_endpoint")
    // A credential key that is given but unreadable (an unset ${VAR}) is reported where it is;
    // "no credentials" or "give both" after it would be false follow-on problems.
    let unreadable = [("access_key_id", keyID), ("secret_access_key", secret), ("role_arn", roleARN), ("web_identity_token_file", tokenFile)]
        .contains { s.has($0.0) && $0.1 == nil }
    if unreadable { return nil }
    if (keyID == nil) != (secret == nil) {
        s.node.problem("give both 'access_key_id' and 'secret_access_key', or neither (to use the environment)")
    }
    if (roleARN == nil) != (tokenFile == nil) {
        s.node.problem("give both 'role_arn' and 'web_identity_token_file', or neither")
    }
    if let endpoint, S3Client.parseEndpoint(endpoint) == nil {
        s.node("endpoint")?.problem("endpoint must be an http:// or https:// address without a path, found '\(endpoint)'")
        return nil
    }
    guard let bucket else { return nil }

    var credentials: S3Credentials?
    if let keyID, let secret {
        credentials = S3Credentials(.fixed(SigV4.Credentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: token)))
    } else if let roleARN, let tokenFile {
        let session = env["AWS_ROLE_SESSION_NAME"] ?? "runnel-\(ctx.pipeline)"
        credentials = S3Credentials(
            .webIdentity(
                tokenFile: tokenFile, roleARN: roleARN, sessionName: session,
                stsEndpoint: stsEndpoint ?? env["AWS_ENDPOINT_URL_STS"], region: region))
    } else {
        var variables = env.variables
        if let stsEndpoint { variables["AWS_ENDPOINT_URL_STS"] = stsEndpoint }
        credentials = S3Credentials.fromEnvironment(variables, region: region)
    }
    guard let credentials else {
        s.node.problem(
            "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or 'access_key_id'/'secret_access_key'), "
                + "or AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN (an EKS service account with IRSA)")
        return nil
    }
    var c = S3Client.Configuration(bucket: bucket)
    c.region = region
    c.endpoint = endpoint
    c.pathStyle = pathStyle
    c.retries = RequestRetries(pipeline: ctx.pipeline, connector: "s3", logger: Logger(label: "runnel.s3"))
    let id = "\(bucket)|\(endpoint ?? region)|\(pathStyle.map(String.init) ?? "")|\(credentials.source.hashValue)"
    let made: S3Client
    do {
        made = try S3Client(c, credentials: credentials)
    } catch {
        s.node.problem(error.message)
        return nil
    }
    return ctx.resources.resource(S3Client.resource, id: id) { made }
}

/// The CSV settings of an S3 extract section: the same keys as `type: csv`.
private func csvConfiguration(_ s: SpecSection, cursor: String?) -> CSVExtractor.Configuration {
    var c = CSVExtractor.Configuration(path: "")
    if let d = s.node("delimiter"), let text = d.string {
        let bytes = Array((text == "\\t" ? "\t" : text).utf8)
        if bytes.count == 1 { c.dialect.delimiter = bytes[0] } else { d.problem("delimiter must be one character, found '\(text)'") }
    }
    if let q = s.node("quote"), let text = q.string {
        let bytes = Array(text.utf8)
        if bytes.count == 1 { c.dialect.quote = bytes[0] } else { q.problem("quote must be one character, found '\(text)'") }
    }
    c.header = s.bool("header") ?? true
    c.columns = s.strings("columns")
    c.emptyAsNull = s.bool("empty_as_null") ?? true
    c.cursor = cursor
    if !c.header && c.columns == nil { s.node.problem("'header: false' needs 'columns' to name the fields") }
    return c
}
