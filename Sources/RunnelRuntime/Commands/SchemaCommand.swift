import ArgumentParser
import RunnelConfig

/// `runnel-batch schema` (and `runnel-stream schema`): the JSON Schema of a pipeline spec for
/// editors and `check-jsonschema`, or with `--markdown` the key tables of docs/components.md.
/// Both come from the keys the components of this binary declare.
struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print the JSON Schema of a pipeline spec (draft-07), from the components' declared keys.",
        discussion: """
            Save it and point the YAML language server at it with a first line \
            '# yaml-language-server: $schema=runnel.schema.json', or check a spec with \
            'check-jsonschema --schemafile runnel.schema.json pipeline.yaml'.
            """)

    @Flag(help: "Print the key table of every component as Markdown instead (docs/components.md).")
    var markdown = false

    func run() throws {
        let registry = Runnel.registry
        print(markdown ? registry.keyTables() : registry.jsonSchema().rendered(), terminator: "")
    }
}
