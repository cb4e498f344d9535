#if os(Linux)
import ArgumentParser
import BPFTools
import Foundation
import Glibc

/// The options every tracing tool takes, with bcc's letters.
struct TracingOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Trace only this process ID (filtered in the kernel).")
    var pid: Int32?

    @Option(name: [.customShort("c"), .customShort("n"), .customLong("comm")],
            help: "Show only commands whose name contains COMM (bcc's -n NAME).")
    var comm: String?

    @Option(name: [.customShort("d"), .customLong("duration")], help: "Stop after SECONDS (default: run until Ctrl-C).")
    var duration: Int?

    @Flag(name: .customShort("T"), help: "Start each line with a timestamp.")
    var timestamps = false

    @Flag(help: "Print one JSON object per event (and the summary on stderr).")
    var json = false

    func validate() throws {
        if let duration, duration <= 0 { throw ValidationError("-d must be a positive number of seconds, not \(duration)") }
        if let pid, pid <= 0 { throw ValidationError("-p must be a process ID above 0, not \(pid)") }
    }

    var runDuration: Duration? { duration.map { .seconds($0) } }
}

/// Set by Ctrl-C (SIGINT) and SIGTERM; the running tool then drains its buffer and stops.
let interruption = StopFlag()

/// Runs `tracer` until Ctrl-C or the duration, printing each event as a line (or JSON), then
/// the summary: how many events, and how many the kernel lost.
func runTracer<Event: Encodable>(_ tracer: EventTracer<Event>, _ options: TracingOptions, header: String?,
                                 line: (Event) -> String) throws {
    defer { tracer.close() }
    catchStopSignals()
    if !options.json, let header { emit(header) }
    var failure: (any Error)?
    do {
        try tracer.run(until: interruption, for: options.runDuration) { event in
            guard failure == nil else { return }
            if options.json {
                do { emit(try jsonLine(event)) } catch { failure = error }
            } else {
                emit(line(event))
            }
        }
    } catch {
        throw CommandError(error.description)
    }
    if let failure { throw CommandError("\(tracer.tool): cannot write an event as JSON: \(failure)") }
    let lost = try tracer.lostEvents()
    var summary = "\(tracer.tool): \(tracer.eventCount) event\(tracer.eventCount == 1 ? "" : "s")"
    summary += lost == 0 ? ", none lost" : ", \(lost) lost (the ring buffer was full)"
    let missed = try tracer.runCounts().missed
    if missed > 0 {
        summary += "; the kernel skipped \(missed) run\(missed == 1 ? "" : "s") (another BPF program was running on that CPU)"
    }
    printError(summary)
}

/// Writes one line to standard output at once, so that it shows while the tool runs even
/// when the output is a pipe.
func emit(_ line: String) {
    var bytes = Array(line.utf8)
    bytes.append(UInt8(ascii: "\n"))
    var offset = 0
    while offset < bytes.count {
        let written = bytes[offset...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return }
        offset += written
    }
}

/// Ctrl-C (SIGINT) and SIGTERM set `interruption` instead of ending the process.
func catchStopSignals() {
    signal(SIGINT) { _ in interruption.request() }
    signal(SIGTERM) { _ in interruption.request() }
    // A parent may have started us with these blocked (signal masks are inherited).
    var stopSignals = sigset_t()
    sigemptyset(&stopSignals)
    sigaddset(&stopSignals, SIGINT)
    sigaddset(&stopSignals, SIGTERM)
    pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
}

/// Calls `report` every `interval` seconds, `count` times, or once at Ctrl-C or after
/// `duration` without an interval, as bcc's summarising tools do; `report` says whether to
/// clear the totals for the next interval (false after the last).
func everyInterval(interval: Int?, count: Int?, duration: Int?, _ report: (_ last: Bool) throws -> Void) throws {
    catchStopSignals()
    let clock = ContinuousClock()
    let end = duration.map { clock.now.advanced(by: .seconds($0)) }
    var reported = 0
    while true {
        let stepEnd = clock.now.advanced(by: .seconds(interval ?? Int(Int32.max)))
        while !interruption.isRequested && clock.now < stepEnd && end.map({ clock.now < $0 }) ?? true {
            usleep(100_000)
        }
        reported += 1
        let last = interruption.isRequested || end.map { clock.now >= $0 } ?? false || interval == nil
            || count.map { reported >= $0 } ?? false
        try report(last)
        if last { return }
    }
}

/// Prints `tracer`'s histogram per interval (see `everyInterval`).
func runHistogram(_ tracer: HistogramTracer, interval: Int?, count: Int?, duration: Int?, timestamps: Bool, json: Bool,
                  title: String) throws {
    defer { tracer.close() }
    if !json { emit(title + " Hit Ctrl-C to end.") }
    try everyInterval(interval: interval, count: count, duration: duration) { last in
        let histogram = try tracer.read()
        if json {
            var buckets: [[String: UInt64]] = []
            for slot in 1..<histogram.counts.count where histogram.counts[slot] > 0 {
                let (low, high) = Log2Histogram.range(ofSlot: slot)
                buckets.append(["low": low, "high": high, "count": histogram.counts[slot]])
            }
            let totals = try tracer.totals()
            struct Interval: Encodable { var time: String; var unit: String; var buckets: [[String: UInt64]]; var total: UInt64?; var count: UInt64? }
            emit(try jsonLine(Interval(time: timeOfDay(), unit: tracer.unit, buckets: buckets, total: totals?.total, count: totals?.count)))
        } else {
            emit("")
            if timestamps { emit(timeOfDay()) }
            for line in histogram.lines(unit: tracer.unit) { emit(line) }
            if let totals = try tracer.totals() {
                emit("")
                emit(FunctionLatency.summary(total: totals.total, count: totals.count, unit: tracer.unit))
            }
        }
        if !last { try tracer.clear() }
    }
}

/// `value` as one line of JSON with sorted keys.
func jsonLine(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// The local time of day now, as HH:MM:SS (with milliseconds when asked).
func timeOfDay(milliseconds: Bool = false) -> String {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    var seconds = now.tv_sec
    var parts = tm()
    localtime_r(&seconds, &parts)
    func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
    var text = "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
    if milliseconds {
        let millis = Int(now.tv_nsec / 1_000_000)
        text += "." + String(repeating: "0", count: 3 - String(millis).count) + String(millis)
    }
    return text
}
#endif
