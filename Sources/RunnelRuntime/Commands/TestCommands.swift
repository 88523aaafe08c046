import ArgumentParser
import Logging
import RunnelConfig
import RunnelCore

#if canImport(Glibc)
    import Glibc
#endif

extension RunnelBatch {
    /// `runnel-batch test SPEC`: the unit tests beside a spec, or every `*.test.yaml` under a folder.
    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a spec's unit tests (NAME.test.yaml beside NAME.yaml, or every *.test.yaml under a folder).",
            discussion: "Exit codes: 0 every test passed; 1 a test failed; 2 a malformed spec or test file.")

        @Argument(help: "A pipeline spec, or a folder to search for *.test.yaml files.")
        var path: String

        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            try logging.bootstrap()
            guard let isDirectory = Files.isDirectory(path) else {
                throw RunnelError.config("no such file or folder '\(path)'")
            }
            var pairs: [(spec: String, tests: String)] = []
            if isDirectory {
                let found = Files.walk(path).filter { $0.hasSuffix(".test.yaml") }.sorted()
                guard !found.isEmpty else { throw RunnelError.config("\(path): no *.test.yaml files under it") }
                for tests in found {
                    pairs.append((String(tests.dropLast(".test.yaml".count)) + ".yaml", tests))
                }
            } else {
                let base = path.hasSuffix(".yaml") ? String(path.dropLast(5)) : path.hasSuffix(".yml") ? String(path.dropLast(4)) : path
                let tests = base + ".test.yaml"
                guard Files.isDirectory(tests) == false else {
                    throw RunnelError.config("\(path): no test file \(tests) beside it")
                }
                pairs.append((path, tests))
            }
            var passed = 0
            var failed = 0
            for (specFile, testFile) in pairs {
                guard Files.isDirectory(specFile) == false else {
                    throw RunnelError.config("\(testFile): no spec \(specFile) beside it")
                }
                let spec = try PipelineSpec.load(file: specFile, registry: Runnel.registry)
                let cases = try PipelineTestFile.load(testFile)
                let outcome = try await PipelineTestRunner(spec: spec).run(cases)
                print("\(testFile) (\(specFile)):")
                for line in outcome.report { print("  " + line) }
                passed += outcome.passed
                failed += outcome.failed
            }
            print("\(passed) passed, \(failed) failed")
            if failed > 0 { throw ExitCode(1) }
        }
    }

    /// `runnel-batch tap SPEC --limit N`: N records as they leave each stage, from the real input.
    struct Tap: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the first N records as they leave each stage (reads the input; loads and commits nothing).")

        @OptionGroup var options: SpecOptions

        @Option(help: "How many records to read.")
        var limit: Int = 5

        func run() async throws {
            guard limit >= 1 else { throw RunnelError.config("--limit must be at least 1") }
            let (spec, _) = try options.load(registry: Runnel.registry)
            let p = spec.pipeline
            var request = ExtractRequest(limit: limit)
            request.batching.maxRecords = limit
            // The extractor's shared resources (an HTTP client, a connection pool) run beside the
            // read and are shut down after it, as in a run.
            let first: Batch? = try await withBackgroundTasks(spec) {
                let reader = try await p.extractor.open(request)
                do {
                    let batch = try await reader.nextBatch()?.batch
                    await reader.close()
                    return batch
                } catch {
                    await reader.close()
                    throw error
                }
            }
            guard var b = first else {
                print("== extract: no input")
                return
            }
            Self.show(&b, "extract", rejectedBefore: 0)
            for (i, t) in p.transformers.enumerated() {
                let before = b.rejections.count
                try t.apply(to: &b)
                let label = spec.stageNames.indices.contains(i) ? spec.stageNames[i].map { " \($0)" } ?? "" : ""
                Self.show(&b, "transform[\(i)] \(t.name)\(label)", rejectedBefore: before)
            }
            if !p.validators.isEmpty {
                let before = b.rejections.count
                for v in p.validators { try v.apply(to: &b) }
                Self.show(&b, "validate", rejectedBefore: before)
            }
        }

        private static func show(_ b: inout Batch, _ stage: String, rejectedBefore: Int) {
            print("== \(stage): \(b.records.count) record\(b.records.count == 1 ? "" : "s")")
            for r in b.records {
                print("  #\(r.ordinal + 1) " + JSONText.encode(.object(r.object(b.schema))))
            }
            for r in b.rejections[rejectedBefore...] {
                print("  #\(r.ordinal + 1) rejected \(r.error.code): \(r.error.description)")
            }
        }
    }
}

/// The few file-system questions `test` asks, without Foundation (the light build has none).
enum Files {
    /// True for a folder, false for a file, nil when nothing is there.
    static func isDirectory(_ path: String) -> Bool? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// Every file under `root`, recursively, as paths starting with `root`.
    static func walk(_ root: String) -> [String] {
        guard let dir = opendir(root) else { return [] }
        defer { closedir(dir) }
        var out: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            let path = root.hasSuffix("/") ? root + name : root + "/" + name
            if isDirectory(path) == true { out += walk(path) } else { out.append(path) }
        }
        return out
    }
}
