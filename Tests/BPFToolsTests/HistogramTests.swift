#if os(Linux)
@testable import BPFTools
import Foundation
import Glibc
import Testing

extension BPFToolsKernelTests {
    /// Log2 histograms: printed as bcc prints them, and filled on the real kernel by runqlat
    /// (a thread of this process that sleeps and wakes) and biolatency (direct writes to disk).
    @Suite struct HistogramTests {
        @Test func linesAreLaidOutAsBccLaysThemOut() {
            // Expected text written from bcc's format strings: "%10d -> %-10d : %-8d |%-40s|".
            let histogram = Log2Histogram(counts: [0, 2, 68, 0, 41] + Array(repeating: 0, count: 60))
            #expect(histogram.lines(unit: "usecs") == [
                "     usecs               : count     distribution",
                "         0 -> 1          : 2        |*                                       |",
                "         2 -> 3          : 68       |****************************************|",
                "         4 -> 7          : 0        |                                        |",
                "         8 -> 15         : 41       |************************                |",
            ])
            #expect(Log2Histogram(counts: Array(repeating: 0, count: 65)).lines(unit: "usecs").isEmpty)
        }

        @Test func valuesBeyond32BitsWidenTheColumns() {
            var counts = Array(repeating: UInt64(0), count: 65)
            counts[33] = 1
            let lines = Log2Histogram(counts: counts).lines(unit: "nsecs")
            #expect(lines.first == "               nsecs                         : count     distribution")
            #expect(lines.last == "          4294967296 -> 8589934591           : 1        |********************|")
            #expect(lines.count == 34)
            #expect(Log2Histogram.range(ofSlot: 64) == (9_223_372_036_854_775_808, UInt64.max))
        }

        @Test func runqlatCountsTheWakeupsOfThisProcess() throws {
            try ToolTests.run {
                let tracer = try RunQueueLatency.start(pid: getpid())
                defer { tracer.close() }
                // 50 sleeps: each ends with a wakeup and a switch to this thread.
                let done = DispatchSemaphore(value: 0)
                Thread {
                    for _ in 0..<50 { usleep(2000) }
                    done.signal()
                }.start()
                done.wait()
                let histogram = try tracer.read()
                #expect(histogram.total >= 50, "\(histogram.counts)")
                #expect(histogram.counts[0] == 0, "slot 0 is never used")
                try tracer.clear()
                #expect(try tracer.read().total < histogram.total)
            }
        }

        @Test func biolatencyCountsDirectWritesToDisk() throws {
            try ToolTests.run {
                let tracer = try BlockIOLatency.start()
                defer { tracer.close() }
                let path = "/var/tmp/swiftbpf-biolatency-\(UUID().uuidString)"
                defer { unlink(path) }
                // 100 synchronous 64 KiB writes that bypass the page cache: at least 100 requests.
                let written = try ChildProcess.run("/bin/dd", ["if=/dev/zero", "of=\(path)", "bs=64k", "count=100", "oflag=direct,sync"])
                try #require(written.status == 0, "\(written.output)")
                let histogram = try tracer.read()
                #expect(histogram.total >= 100, "\(histogram.counts)")
            }
        }
    }
}
#endif
