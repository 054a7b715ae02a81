extension Duration {
    /// The duration in seconds as a `Double`: for metrics, logs, timer deadlines and benchmark
    /// figures (the server, the scheduler, the API and the benchmarks each need it).
    public var inSeconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
    }
}
