#if os(Linux)
@testable import BPFTools
import Foundation
import Glibc
import Testing

extension BPFToolsKernelTests {
    /// The uprobe tools on the real kernel: lines typed into a bash the test starts, and the
    /// duration of libc calls the test makes.
    @Suite struct UserProbeToolTests {
        @Test func bashreadlineSeesTheLinesBashReads() throws {
            guard FileManager.default.isExecutableFile(atPath: "/bin/bash") else {
                ToolTests.peerMissing("/bin/bash is not installed")
                return
            }
            try ToolTests.run {
                let tracer = try BashReadline.start()
                defer { tracer.close() }
                let marker = "swiftbpf-bashreadline-\(UUID().uuidString)"
                let bash = try ChildProcess("/bin/bash", ["--norc", "--noprofile", "-i"], pipeInput: true)
            bash.send("echo \(marker)\nexit\n")
            bash.wait()
            let events = try ToolTests.collect(tracer) { $0.line == "echo \(marker)" }
                let event = try #require(events.first { $0.line == "echo \(marker)" }, "\(events)")
                #expect(event.pid == bash.pid)
            }
        }

        @Test func funclatencyTimesLibcCalls() throws {
            try ToolTests.run {
                let tracer = try FunctionLatency.start("c:usleep", pid: getpid(), unit: .microseconds)
                defer { tracer.close() }
                for _ in 0..<20 { usleep(2000) }
                let histogram = try tracer.read()
                // Each call sleeps at least 2000 µs: 11 bits or more. Other threads of this
                // process may call usleep too, so these are lower bounds.
                #expect(histogram.counts[11...].reduce(0, +) >= 20, "\(histogram.counts)")
                let totals = try #require(try tracer.totals())
                #expect(totals.count >= 20 && totals.count == histogram.total)
                #expect(totals.total >= 20 * 2000)
            }
        }

        @Test func funclatencyNamesWhatItCannotFind() {
            #expect(throws: ToolError.self) { try FunctionLatency.resolve("malloc") }
            #expect(throws: ToolError.self) { try FunctionLatency.resolve("no-such-library-swiftbpf:f") }
            #expect((try? FunctionLatency.resolve("/bin/bash:readline")).map { $0 == ("/bin/bash", "readline") } == true)
        }
    }
}
#endif
