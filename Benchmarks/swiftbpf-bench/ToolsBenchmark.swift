#if os(Linux)
import BPFTools
import Foundation
import Glibc

/// What execsnoop and opensnoop add to a tight loop of execs and opens: the loop alone, then
/// with the tool tracing and a second thread reading its events, in the same run (best of 3
/// each). Neither bcc's nor libbpf-tools' execsnoop is packaged for this machine, so the
/// reference is the untraced loop, as the issue allows.
enum ToolsBenchmark {
    static func run() throws {
        print("suite tools: what tracing adds to a tight loop (release build; needs root)")
        print(pad("loop", 40, left: true) + pad("untraced", 11) + pad("traced", 11) + pad("added", 9) + pad("events", 9) + pad("lost", 7))
        let execs = 2_000, opens = 200_000
        try row("exec /bin/true, µs per exec", count: execs, unit: 1e3, { for _ in 0..<execs { _ = spawn("/bin/true", []) } },
                start: { () throws -> EventTracer<ExecSnoop.Event> in try ExecSnoop.start() })
        try row("open+close /dev/null, ns per open", count: opens, unit: 1, {
            for _ in 0..<opens {
                let fd = open("/dev/null", O_RDONLY)
                if fd >= 0 { close(fd) }
            }
        }, start: { () throws -> EventTracer<OpenSnoop.Event> in try OpenSnoop.start() })
    }

    /// Holds the tracer for the reading thread; only that thread polls until the flag is set.
    private final class Reader<Event: Sendable>: @unchecked Sendable {
        let tracer: EventTracer<Event>
        let stop = StopFlag()
        let done = DispatchSemaphore(value: 0)
        init(_ tracer: EventTracer<Event>) { self.tracer = tracer }
    }

    static func row<Event: Sendable>(_ name: String, count: Int, unit: Double, _ loop: () -> Void,
                                     start: () throws -> EventTracer<Event>) throws {
        let untraced = best(loop) / Double(count) / unit
        let reader = Reader(try start())
        defer { reader.tracer.close() }
        Thread {
            while !reader.stop.isRequested { _ = try? reader.tracer.poll(timeout: .milliseconds(20)) { _ in } }
            _ = try? reader.tracer.poll(timeout: .zero) { _ in }
            reader.done.signal()
        }.start()
        let traced = best(loop) / Double(count) / unit
        reader.stop.request()
        reader.done.wait()
        let lost = (try? reader.tracer.lostEvents()).map(String.init) ?? "?"
        print(pad(name, 40, left: true) + pad(format(untraced, decimals: 2), 11) + pad(format(traced, decimals: 2), 11)
              + pad(format((traced / untraced - 1) * 100, decimals: 1) + "%", 9) + pad(String(reader.tracer.eventCount), 9) + pad(lost, 7))
    }

    /// The best of three runs of `loop`, in ns.
    static func best(_ loop: () -> Void) -> Double {
        (0..<3).map { _ in nanoseconds(ContinuousClock().measure(loop)) }.min() ?? .nan
    }
}
#else
enum ToolsBenchmark {
    static func run() throws { print("suite tools: Linux only") }
}
#endif
