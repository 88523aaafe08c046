import RunnelRuntime

#if HTTP
    import RunnelHTTP
#endif

// Thin by design: a custom binary does the same with its own registry (see `Runnel.registry`).
#if HTTP
    RunnelHTTP.install()
#endif
await CommandEntry.main(RunnelBatch.self)
