import RunnelRuntime

// Thin by design: a custom binary does the same with its own registry (see `Runnel.registry`).
await CommandEntry.main(RunnelStream.self)
