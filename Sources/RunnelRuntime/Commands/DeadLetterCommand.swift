import ArgumentParser
import RunnelConfig
import RunnelCore

/// `dead-letter list|redrive SPEC`.
struct DeadLetterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead-letter", abstract: "List or redrive the pipeline's dead letters.",
        subcommands: [List.self, Redrive.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List parked records with their errors.")
        @OptionGroup var options: SpecOptions
        @Option(help: "Show at most this many.") var limit: Int?
        @Flag(help: "Print each envelope as a JSON line.") var json = false

        func run() async throws {
            let (spec, _) = try options.load(registry: Runnel.registry)
            try await withBackgroundTasks(spec) {
                let queue = try spec.requireDeadLetters()
                let letters = try await queue.list(pipeline: spec.pipeline.name, limit: limit)
                for l in letters {
                    if json {
                        print(JSONText.encode(l.envelope))
                    } else {
                        let field = l.field.map { "\($0): " } ?? ""
                        print("\(l.origin)  \(l.stage)  \(l.errorCode)  \(field)\(l.message)  (attempts \(l.attempts))")
                    }
                }
                guard !json else { return }
                // The total and the count by code, whatever --limit showed.
                let counts = try await queue.counts(pipeline: spec.pipeline.name)
                let total = counts.reduce(0) { $0 + $1.count }
                let shown = letters.count < total ? "showing \(letters.count) of " : ""
                var line = "\(shown)\(total) dead letter\(total == 1 ? "" : "s")"
                if !counts.isEmpty { line += "; by code: " + counts.map { "\($0.code) \($0.count)" }.joined(separator: ", ") }
                print(line)
            }
        }
    }

    struct Redrive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send dead letters through the pipeline again; those that now pass are loaded and leave the queue.")
        @OptionGroup var options: SpecOptions
        @Flag(help: "Report what would happen without writing.") var dryRun = false

        func run() async throws {
            let (spec, _) = try options.load(registry: Runnel.registry)
            try await withBackgroundTasks(spec) {
                let result = try await DeadLetterRedrive(pipeline: spec.pipeline).run(dryRun: dryRun)
                print(
                    "redrive \(spec.pipeline.name)\(dryRun ? " (dry run)" : ""): \(result.examined) examined, \(result.loaded) loaded, "
                        + "\(result.filtered) filtered out, \(result.stillRejected) still rejected")
            }
        }
    }
}
