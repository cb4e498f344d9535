#if os(Linux)
import BPFLinux
@testable import BPFTools
import Foundation
import Glibc
import TestPeers
import Testing

extension BPFToolsKernelTests {
    /// The tools on the real kernel: each test starts a tool through BPFTools' API, makes a
    /// workload whose events it can recognise (unique arguments, a unique path, a known exit
    /// code), and checks the tool reports them with the right process, arguments, path and
    /// result. They run one at a time under the process-wide kernel lock and check that no bpf
    /// or perf descriptor is left open afterwards.
    @Suite struct ToolKernelTests {
        @Test func execsnoopReportsAnExecWithItsArguments() throws {
            try ToolTests.run {
                let tracer = try ExecSnoop.start()
                defer { tracer.close() }
                let marker = "swiftbpf-execsnoop-\(UUID().uuidString)"
                let child = try ToolTests.spawn("/bin/echo", [marker, "second argument"])
                let events = try ToolTests.collect(tracer) { $0.arguments.contains(marker) }
                let event = try #require(events.first { $0.arguments.contains(marker) })
                #expect(event.pid == child)
                #expect(event.ppid == getpid())
                #expect(event.returnValue == 0)
                #expect(event.command == "echo")
                #expect(event.arguments == ["/bin/echo", marker, "second argument"])
                #expect(!event.truncated)
                #expect(try tracer.lostEvents() == 0)
            }
        }

        @Test func execsnoopReportsAFailedExecWithItsError() throws {
            try ToolTests.run {
                let tracer = try ExecSnoop.start(.init(includeFailed: true, maxArguments: 2))
                defer { tracer.close() }
                let missing = "/nonexistent/swiftbpf-\(UUID().uuidString)"
                // The exec fails in the child, which then exits 127.
                _ = try ToolTests.spawn("/bin/sh", ["-c", "exec \(missing) a b c 2>/dev/null"])
                let events = try ToolTests.collect(tracer) { $0.arguments.first == missing }
                let event = try #require(events.first { $0.arguments.first == missing })
                #expect(event.returnValue == -ENOENT)
                #expect(event.arguments == [missing, "a"])
                #expect(event.truncated)
            }
        }

        @Test func opensnoopReportsPathsDescriptorsErrorsAndFlags() throws {
            try ToolTests.run {
                let tracer = try OpenSnoop.start(.init(pid: getpid()))
                defer { tracer.close() }
                let path = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-opensnoop-\(UUID().uuidString)").path
                defer { unlink(path) }
                let missing = open(path + ".missing", O_RDONLY)
                let descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
                #expect(missing == -1 && descriptor >= 0)
                close(descriptor)
                let events = try ToolTests.collect(tracer) { $0.path == path }
                let created = try #require(events.first { $0.path == path })
                #expect(created.pid == getpid())
                #expect(created.returnValue == descriptor)
                #expect(created.flags & (O_WRONLY | O_CREAT | O_CLOEXEC) == O_WRONLY | O_CREAT | O_CLOEXEC)
                #expect(created.mode == 0o600)
                let failed = try #require(events.first { $0.path == path + ".missing" })
                #expect(failed.fileDescriptor == -1 && failed.error == ENOENT)
                #expect(events.allSatisfy { $0.pid == getpid() }, "the -p filter let other processes through")
            }
        }

        /// open(2) and openat2(2) as well as openat(2): perl makes the raw system calls
        /// (x86-64 numbers 2 and 437; openat2 takes its flags and mode in a struct open_how).
        @Test func opensnoopSeesOpenAndOpenat2() throws {
            #if arch(x86_64)
            try ToolTests.run {
                let tracer = try OpenSnoop.start()
                defer { tracer.close() }
                let base = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-open-\(UUID().uuidString)").path
                // syscall() takes strings by variable (it may write to them).
                let script = """
                    my $open = "\(base).open" ; syscall(2, $open, 0) ;
                    my $openat2 = "\(base).openat2" ; my $how = pack("QQQ", 0x40 | 1, 0640, 0) ;
                    syscall(437, -100, $openat2, $how, 24) ;
                    """
                let perl = try ToolTests.spawn("/usr/bin/perl", ["-e", script])
                defer { unlink(base + ".openat2") }
                var seen: [String: OpenSnoop.Event] = [:]
                _ = try ToolTests.collect(tracer) { event in
                    if event.pid == perl, event.path.hasPrefix(base) { seen[event.path] = event }
                    return seen.count == 2
                }
                let plain = try #require(seen[base + ".open"])
                #expect(plain.error == ENOENT && plain.flags == 0)
                let viaOpenat2 = try #require(seen[base + ".openat2"])
                #expect(viaOpenat2.fileDescriptor >= 0 && viaOpenat2.flags == O_CREAT | O_WRONLY && viaOpenat2.mode == 0o640)
            }
            #endif
        }

        @Test func exitsnoopReportsExitCodesAndSignals() throws {
            try ToolTests.run {
                let tracer = try ExitSnoop.start()
                defer { tracer.close() }
                let exiting = try ToolTests.spawn("/bin/sh", ["-c", "exit 7"])
                // SIGKILL: a signal the test process may have made its children ignore would not end sh.
                let killed = try ToolTests.spawn("/bin/sh", ["-c", "kill -KILL $$"])
                var seen: [Int32: ExitSnoop.Event] = [:]
                _ = try ToolTests.collect(tracer) { event in
                    if event.pid == exiting || event.pid == killed { seen[event.pid] = event }
                    return seen.count == 2
                }
                let exited = try #require(seen[exiting])
                #expect(exited.exitCode == 7 && exited.signal == 0)
                #expect(exited.ppid == getpid() && exited.tid == exiting && exited.command == "sh")
                #expect(ExitSnoop.exitDescription(exited) == "code 7")
                let signalled = try #require(seen[killed])
                #expect(signalled.signal == SIGKILL)
                #expect(ExitSnoop.exitDescription(signalled) == "signal 9 (KILL)")
            }
        }

        @Test func helloSeesThisProcessOpenAFile() throws {
            try ToolTests.run {
                let tracer = try Hello.start(pid: getpid())
                defer { tracer.close() }
                let path = "/tmp/swiftbpf-hello-\(UUID().uuidString)"
                let descriptor = open(path, O_RDONLY)
                #expect(descriptor == -1)
                let events = try ToolTests.collect(tracer) { $0.path == path }
                let event = try #require(events.first { $0.path == path })
                #expect(event.pid == getpid())
                #expect(event.uid == getuid())
            }
        }

        @Test func aStoppedRunDrainsAndReturns() throws {
            try ToolTests.run {
                let tracer = try Hello.start(pid: getpid())
                defer { tracer.close() }
                let path = "/tmp/swiftbpf-hello-stop-\(UUID().uuidString)"
                _ = open(path, O_RDONLY)
                let stop = StopFlag()
                stop.request()
                var paths: [String] = []
                // Already stopped: run reads what the kernel has buffered and returns at once.
                try tracer.run(until: stop) { paths.append($0.path) }
                #expect(paths.contains(path))
                #expect(tracer.eventCount == paths.count)
            }
        }
    }
}

/// Every suite of this target that runs on the kernel, one test at a time: each holds the
/// process-wide kernel lock while it runs, and suites waiting for it in parallel would each
/// block a thread of the small cooperative pool that other targets' kernel tests need.
@Suite(.serialized) struct BPFToolsKernelTests {}

enum ToolTests {
    /// Runs `body` when bpf(2) is usable (else skips with the reason, or fails under
    /// SWIFTBPF_REQUIRE_KERNEL=1), under the kernel test lock, and checks that no bpf object
    /// or perf event descriptor it opened is still open.
    static func run(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) throws {
        try KernelTestLock.run {
            do {
                try Map(type: .array, keySize: 4, valueSize: 4, maxEntries: 1).close()
            } catch {
                KernelRequirement.unavailable(error, sourceLocation: sourceLocation)
                return
            }
            let before = kernelDescriptors()
            try body()
            let left = kernelDescriptors().subtracting(before)
            #expect(left.isEmpty, "descriptors left open: \(left.sorted())", sourceLocation: sourceLocation)
        }
    }

    /// Notes a test that cannot run because a peer program is missing; a failure instead
    /// under SWIFTBPF_REQUIRE_PEERS=1.
    static func peerMissing(_ reason: String, sourceLocation: SourceLocation = #_sourceLocation) {
        if ProcessInfo.processInfo.environment["SWIFTBPF_REQUIRE_PEERS"] == "1" {
            Issue.record("required (SWIFTBPF_REQUIRE_PEERS=1) but missing: \(reason)", sourceLocation: sourceLocation)
        } else {
            print("skipped: \(reason)")
        }
    }

    /// Open descriptors of bpf objects and perf events, as "fd -> target".
    static func kernelDescriptors() -> Set<String> {
        var result: Set<String> = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(entry)") else { continue }
            if target.hasPrefix("anon_inode:bpf") || target == "anon_inode:btf" || target.contains("perf_event") {
                result.insert("\(entry) -> \(target)")
            }
        }
        return result
    }

    /// Starts `executable` as a child of this process, waits for it to end, and returns its pid.
    static func spawn(_ executable: String, _ arguments: [String]) throws -> Int32 {
        let child = try ChildProcess(executable, arguments)
        child.wait()
        return child.pid
    }

    /// Polls `tracer` until `done` holds for an event, or ten seconds (a bound on a test that
    /// would otherwise hang, not an assertion on speed); returns the events seen. Bounded by
    /// time, not by polls: while other processes flood the tracer (a build opening thousands
    /// of files), each poll returns at once.
    static func collect<Event>(_ tracer: EventTracer<Event>, until done: (Event) -> Bool) throws -> [Event] {
        var events: [Event] = []
        var finished = false
        let deadline = ContinuousClock.now + .seconds(10)
        while !finished, ContinuousClock.now < deadline {
            try tracer.poll(timeout: .milliseconds(100)) { event in
                events.append(event)
                if done(event) { finished = true }
            }
        }
        return events
    }
}
#endif
