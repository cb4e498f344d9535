#if os(Linux)
@testable import BPFTools
import Foundation
import Glibc
import Synchronization
import Testing

extension BPFToolsKernelTests {
    /// profile: sampling this process on the real kernel while a thread spins, frames named
    /// from the process's mappings and kallsyms, and the flame graph drawn from folded stacks.
    @Suite struct ProfileTests {
        @Test func samplesASpinningThreadInThisBinary() throws {
            try ToolTests.run {
                let profiler = try Profiler(frequency: 199, pid: getpid())
                defer { profiler.close() }
                let done = DispatchSemaphore(value: 0)
                let spun = Mutex<Duration>(.zero)
                Thread {
                    // Named so that its samples are told from those of suites running meanwhile
                    // (the kernel's own file, not Foundation's name, which may not reach it).
                    try? Spinner.threadName.write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
                    let cpu = Spinner.spin(cpuSeconds: 1, wallLimitSeconds: 20)
                    spun.withLock { $0 = cpu }
                    done.signal()
                }.start()
                done.wait()
                let all = try profiler.samples()
                let samples = all.filter { $0.command == Spinner.threadName }
                let total = samples.reduce(0) { $0 + $1.count }
                let cpu = spun.withLock { $0 }
                let seen = Set(all.map(\.command)).sorted()
                // 199 Hz over a second of the thread's own CPU time: about 199; far fewer means
                // no sampling. (A second of wall time is not enough: on a loaded host the thread
                // may get little of it.)
                #expect(total >= 20, "\(total) samples of \(Spinner.threadName) after \(cpu) of its CPU time; \(all.count) stacks of threads \(seen)")
                let symbols = StackSymbols()
                let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().lastPathComponent
                // The busy function dominates the thread's stacks under its own (demangled) name.
                let inSpinner = samples.filter { $0.folded(symbols).contains("Spinner.spin(cpuSeconds: Swift.Int, wallLimitSeconds: Swift.Int)") }.reduce(0) { $0 + $1.count }
                let some = samples.prefix(3).map { $0.folded(symbols) }
                #expect(inSpinner * 2 > total, "most of the thread's samples should be in Spinner.spin of \(binary): \(inSpinner) of \(total); \(some)")
                #expect(all.allSatisfy { $0.pid == getpid() })
                #expect(try profiler.lostSamples() == 0)
            }
        }

        @Test func kernelSymbolsAreFoundByAddress() {
            let symbols: [(address: UInt64, name: String)] = [(0x1000, "a"), (0x2000, "b"), (0x3000, "c")]
            #expect(StackSymbols.lastIndex(in: symbols, notAbove: 0x0fff) == nil)
            #expect(StackSymbols.lastIndex(in: symbols, notAbove: 0x1000) == 0)
            #expect(StackSymbols.lastIndex(in: symbols, notAbove: 0x2fff) == 1)
            #expect(StackSymbols.lastIndex(in: symbols, notAbove: 0xffff) == 2)
            let mappings = StackSymbols.mappings(of: getpid())
            #expect(mappings.contains { $0.path.hasSuffix("/libc.so.6") }, "\(mappings.map(\.path))")
        }

        @Test func flameGraphBoxesAreAsWideAsTheirSamples() {
            var graph = FlameGraph(title: "test <graph>")
            graph.width = 1020
            graph.add(folded: "app;main;work", count: 75)
            graph.add(folded: "app;main;idle", count: 25)
            graph.add(folded: "ignored", count: 0)
            let svg = graph.svg()
            // all, app, main, work, idle, plus the background.
            #expect(svg.components(separatedBy: "<rect").count - 1 == 6)
            #expect(svg.contains("<title>work (75 samples, 75.00%)</title><rect x=\"260.0\""), "work follows idle")
            #expect(svg.contains("width=\"750.0\""), "work: 75% of 1000 pixels")
            #expect(svg.contains("<title>idle (25 samples, 25.00%)</title><rect x=\"10.0\""), "idle sorts first")
            #expect(svg.contains("width=\"250.0\""))
            #expect(svg.contains("test &lt;graph&gt;"))
            #expect(svg.hasPrefix("<?xml") && svg.hasSuffix("</svg>\n"))
        }
    }
}

/// A busy loop the optimizer cannot remove.
enum Spinner {
    static let counter = Atomic<UInt64>(0)
    static let threadName = "swiftbpf-spin"

    /// Spins until the calling thread has had `cpuSeconds` of CPU time, or `wallLimitSeconds`
    /// have passed; returns the CPU time it had.
    @inline(never)
    static func spin(cpuSeconds: Int, wallLimitSeconds: Int) -> Duration {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: .seconds(wallLimitSeconds))
        var cpu = Duration.zero
        while cpu < .seconds(cpuSeconds), clock.now < end {
            for _ in 0..<10_000 { counter.add(1, ordering: .relaxed) }
            var now = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
            cpu = .seconds(now.tv_sec) + .nanoseconds(now.tv_nsec)
        }
        return cpu
    }
}
#endif
