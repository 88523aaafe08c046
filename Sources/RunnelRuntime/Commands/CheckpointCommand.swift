import ArgumentParser
import RunnelConfig
import RunnelCore

/// `checkpoint show|reset SPEC`.
struct CheckpointCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint", abstract: "Show or reset the pipeline's checkpoint.",
        subcommands: [Show.self, Reset.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the last committed position.")
        @OptionGroup var options: SpecOptions

        func run() async throws {
            let (spec, _) = try options.load(registry: Runnel.registry)
            try await withBackgroundTasks(spec) {
                let store = try spec.requireCheckpoints()
                if let c = try await store.load(pipeline: spec.pipeline.name) {
                    print(c.position)
                } else {
                    print("no checkpoint: the next run starts from the beginning")
                }
            }
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Forget the position, so the next run reads the input from the beginning.",
            discussion: "Loads are idempotent by key, so reading again rewrites the same rows.")
        @OptionGroup var options: SpecOptions

        func run() async throws {
            let (spec, _) = try options.load(registry: Runnel.registry)
            try await withBackgroundTasks(spec) {
                let store = try spec.requireCheckpoints()
                try await store.reset(pipeline: spec.pipeline.name)
                print("checkpoint of \(spec.pipeline.name) reset")
                if let source = spec.pipeline.extractor as? any KeepsItsOwnPosition { print("note: " + source.ownPositionNote) }
            }
        }
    }
}
