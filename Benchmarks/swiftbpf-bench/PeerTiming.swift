/// Times `ours` and `peer` side by side: short rounds (about 2 ms each) taken in turn,
/// 100 of each, and the best round of each in CPU time of this thread, per call of the
/// body. On a machine shared with other work, a slow stretch then hits both sides alike
/// and a round cut by another process is dropped as not the best, where one long timing
/// of each side after the other would compare two different loads.
func measureAgainstPeer(_ ours: () -> Void, peer: () -> Void, rounds: Int = 100) -> (ours: Double, peer: Double) {
    var iterations = 1
    while true {
        let start = JITBenchmark.threadTime()
        for _ in 0..<iterations { ours() }
        if JITBenchmark.threadTime() - start >= 2e6 || iterations >= 1 << 24 { break }
        iterations *= 2
    }
    var best = (ours: Double.infinity, peer: Double.infinity)
    for _ in 0..<rounds {
        var start = JITBenchmark.threadTime()
        for _ in 0..<iterations { ours() }
        best.ours = min(best.ours, (JITBenchmark.threadTime() - start) / Double(iterations))
        start = JITBenchmark.threadTime()
        for _ in 0..<iterations { peer() }
        best.peer = min(best.peer, (JITBenchmark.threadTime() - start) / Double(iterations))
    }
    return best
}
