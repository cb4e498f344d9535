#if os(Linux)
@testable import BPFLinux
import BPFObject
import Foundation
import Glibc
import Testing

extension AttachKernelTests {
    /// Tracepoints, raw tracepoints, uprobes and perf events on the running kernel, with
    /// programs from Fixtures/tracing.bpf.c counting what this process does.
    @Suite struct Tracing {
        static func openNull(_ times: Int) {
            for _ in 0..<times {
                let fd = open("/dev/null", O_RDONLY)
                if fd >= 0 { Glibc.close(fd) }
            }
        }

        @Test(arguments: [PerfAttachMode.link, .ioctl])
        func tracepointCountsOpenatCalls(mode: PerfAttachMode) throws {
            try AttachTests.run { tracker in
                let fixture = try LoadedFixture("tracing", tracker: tracker)
                defer { fixture.close() }
                try fixture.setTarget()
                let link = try Link.tracepoint("syscalls", "sys_enter_openat", program: try fixture.program("count_openat"), mode: mode)
                try tracker.track(link)
                #expect(link.linkDescriptors.count == (mode == .link ? 1 : 0))
                #expect(link.description == "link: tracepoint syscalls/sys_enter_openat")
                Self.openNull(25)
                #expect(try fixture.count(0) == 25)

                link.close()
                #expect(!link.isOpen)
                Self.openNull(5)
                #expect(try fixture.count(0) == 25, "the program still runs after close()")
            }
        }

        @Test func tracepointTargetInSectionForm() throws {
            try AttachTests.run { tracker in
                let fixture = try LoadedFixture("tracing", tracker: tracker)
                defer { fixture.close() }
                try fixture.setTarget()
                let spec = try #require(fixture.object.programs.first { $0.name == "count_openat" })
                let target = try #require(spec.attachTarget)
                let link = try Link.tracepoint(target, program: try fixture.program("count_openat"))
                defer { link.close() }
                Self.openNull(3)
                #expect(try fixture.count(0) == 3)
            }
        }

        @Test func rawTracepointCountsGetppidCalls() throws {
            try AttachTests.run { tracker in
                let fixture = try LoadedFixture("tracing", tracker: tracker)
                defer { fixture.close() }
                try fixture.setTarget()
                let link = try Link.rawTracepoint("sys_enter", program: try fixture.program("count_getppid"))
                try tracker.track(link)
                for _ in 0..<40 { _ = getppid() }
                #expect(try fixture.count(1) == 40)
                #expect(try link.linkInfo().first?.type == 1, "a raw tracepoint link (BPF_LINK_TYPE_RAW_TRACEPOINT)")
                link.close()
                _ = getppid()
                #expect(try fixture.count(1) == 40)
            }
        }

        @Test func pinnedLinkOutlivesItsObjectUntilUnpinned() throws {
            try AttachTests.run { tracker in
                try BPFFileSystem.mountIfNeeded()
                let fixture = try LoadedFixture("tracing", tracker: tracker)
                defer { fixture.close() }
                try fixture.setTarget()
                let path = "/sys/fs/bpf/swiftbpf-link-test-\(getpid())"
                defer { unlink(path) }
                let link = try Link.rawTracepoint("sys_enter", program: try fixture.program("count_getppid"))
                try tracker.track(link)
                let id = try link.linkInfo().first?.id
                try link.pin(at: path)
                link.close()
                _ = getppid()
                #expect(try fixture.count(1) == 1, "the pin keeps the program attached")

                let reopened = try Link.pinned(at: path)
                #expect(try reopened.linkInfo().first?.id == id)
                #expect(unlink(path) == 0)
                reopened.close()
                _ = getppid()
                #expect(try fixture.count(1) == 1, "unpinned and closed: detached")
            }
        }

        @Test func updateIsRefusedWithAReasonWhereTheKernelCannotSwapPrograms() throws {
            try AttachTests.run { tracker in
                let fixture = try LoadedFixture("tracing", tracker: tracker)
                defer { fixture.close() }
                try fixture.setTarget()
                let ioctlLink = try Link.tracepoint("syscalls", "sys_enter_openat", program: try fixture.program("count_openat"), mode: .ioctl)
                defer { ioctlLink.close() }
                let replacement = try fixture.program("count_openat_again")
                let notALink = #expect(throws: BPFError.self) { try ioctlLink.update(program: replacement) }
                #expect(notALink?.description.contains("not a kernel bpf_link") == true)
                #expect(notALink?.description.contains("tracepoint syscalls/sys_enter_openat") == true)

                let perfLink = try Link.tracepoint("syscalls", "sys_enter_openat", program: try fixture.program("count_openat"), mode: .link)
                defer { perfLink.close() }
                let refused = #expect(throws: BPFError.self) { try perfLink.update(program: replacement) }
                #expect(refused?.operation == "BPF_LINK_UPDATE")
                #expect(refused?.detail != nil)
            }
        }

        @Test func attachErrorsNameTheHookAndTheCause() throws {
            try AttachTests.run { tracker in
                let tracing = try LoadedFixture("tracing", tracker: tracker)
                defer { tracing.close() }
                let counter = try tracing.program("count_openat")

                let unknown = #expect(throws: BPFError.self) { try Link.tracepoint("syscalls", "sys_enter_nothing", program: counter) }
                #expect(unknown?.errno == ENOENT)
                #expect(unknown?.description.contains("no tracepoint 'sys_enter_nothing' in category 'syscalls'") == true)
                let category = #expect(throws: BPFError.self) { try Link.tracepoint("nocategory", "x", program: counter) }
                #expect(category?.description.contains("no tracepoint category 'nocategory'") == true)
                let malformed = #expect(throws: BPFError.self) { try Link.tracepoint("syscalls", program: counter) }
                #expect(malformed?.description.contains("category/name") == true)

                let rawUnknown = #expect(throws: BPFError.self) { try Link.rawTracepoint("no_such_tracepoint", program: try tracing.program("count_getppid")) }
                #expect(rawUnknown?.description.contains("no raw tracepoint named 'no_such_tracepoint'") == true)

                // A tracepoint program where a perf_event program belongs.
                let wrongType = #expect(throws: BPFError.self) {
                    try Link.perfEvent(.software(.cpuClock), sampling: .frequency(10), scope: .cpus([0]), program: counter)
                }
                #expect(wrongType?.description.contains("the program is a tracepoint program; perf event software cpuClock on CPU 0 takes perf_event programs") == true,
                        "\(String(describing: wrongType))")

                if !FileManager.default.fileExists(atPath: "/sys/bus/event_source/devices/kprobe") {
                    let kprobe = #expect(throws: BPFError.self) { try Link.kprobe(.symbol("do_sys_openat2"), program: counter) }
                    #expect(kprobe?.description.contains("kprobes are not available on this kernel") == true)
                }
            }
        }

        @Test func uprobeAndUretprobeSeeCallsArgumentsAndReturnValues() throws {
            try AttachTests.run { tracker in
                try AttachTests.withTemporaryDirectory { directory in
                    let binary = try HelperBinary.build(in: directory)
                    let fixture = try LoadedFixture("tracing", tracker: tracker)
                    defer { fixture.close() }

                    let child = Process()
                    child.executableURL = URL(fileURLWithPath: binary)
                    child.arguments = ["calls", "40"]
                    let input = Pipe(), output = Pipe()
                    child.standardInput = input
                    child.standardOutput = output
                    try child.run()
                    defer { if child.isRunning { child.terminate() } }
                    try fixture.setTarget(child.processIdentifier)

                    let entry = try Link.uprobe(binary, .symbol("swiftbpf_add"), pid: child.processIdentifier,
                                                program: try fixture.program("count_calls"))
                    let exit = try Link.uretprobe(binary, .symbol("swiftbpf_add"), program: try fixture.program("last_return"))
                    try tracker.track(entry)
                    try tracker.track(exit)
                    #expect(entry.hook.hasPrefix("uprobe /") && entry.hook.hasSuffix(":swiftbpf_add"))

                    try input.fileHandleForWriting.write(contentsOf: [1])
                    let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                    child.waitUntilExit()
                    #expect(printed == "\(40 * 1000 + 40 * 41 / 2)\n")
                    #expect(try fixture.count(2) == 40, "calls")
                    #expect(try fixture.count(3) == 40 * 41 / 2, "sum of first arguments")
                    #expect(try fixture.count(4) == 1040, "last return value")
                    entry.close()
                    exit.close()
                }
            }
        }

        @Test func uprobeByFileOffsetMatchesTheSymbol() throws {
            try AttachTests.run { tracker in
                try AttachTests.withTemporaryDirectory { directory in
                    let binary = try HelperBinary.build(in: directory)
                    let elf = try ELFExecutable(parsing: Array(try Data(contentsOf: URL(fileURLWithPath: binary))))
                    let offset = try #require(try elf.fileOffset(ofSymbol: "swiftbpf_add"))
                    // nm gives the address; the text segment maps it to the same offset.
                    let fixture = try LoadedFixture("tracing", tracker: tracker)
                    defer { fixture.close() }
                    let child = Process()
                    child.executableURL = URL(fileURLWithPath: binary)
                    child.arguments = ["calls", "7"]
                    let input = Pipe()
                    child.standardInput = input
                    child.standardOutput = Pipe()
                    try child.run()
                    defer { if child.isRunning { child.terminate() } }
                    try fixture.setTarget(child.processIdentifier)
                    let link = try Link.uprobe(binary, .fileOffset(offset), program: try fixture.program("count_calls"), mode: .ioctl)
                    #expect(link.hook.hasSuffix("+0x\(String(offset, radix: 16))"))
                    try input.fileHandleForWriting.write(contentsOf: [1])
                    child.waitUntilExit()
                    #expect(try fixture.count(2) == 7)
                    link.close()

                    let missing = #expect(throws: BPFError.self) {
                        try Link.uprobe(binary, .symbol("no_such_function"), program: try fixture.program("count_calls"))
                    }
                    #expect(missing?.description.contains("no function 'no_such_function' in \(binary)") == true)
                    let noFile = #expect(throws: BPFError.self) {
                        try Link.uprobe(directory + "/absent", .symbol("main"), program: try fixture.program("count_calls"))
                    }
                    #expect(noFile?.description.contains("no readable file") == true)
                }
            }
        }

        @Test func uprobeFindsLibrariesByName() throws {
            let path = try ProbePMU.resolveBinary("libc.so.6", hook: "test")
            #expect(path.hasPrefix("/") && path.contains("libc"))
            let offset = try ProbePMU.fileOffset(of: "getpid", in: path, hook: "test")
            #expect(offset > 0)
            let elf = try ELFExecutable(parsing: try KernelFile.contents(path))
            if try elf.symbols(named: "strlen").allSatisfy({ $0.kind == .other(10) }) {
                let indirect = #expect(throws: BPFError.self) { try ProbePMU.fileOffset(of: "strlen", in: path, hook: "test") }
                #expect(indirect?.description.contains("indirect function (IFUNC)") == true)
            }
        }

        @Test func perfEventSamplingRunsTheProgramOnABusyLoop() throws {
            try AttachTests.run { tracker in
                let fixture = try LoadedFixture("tracing", tracker: tracker)
                defer { fixture.close() }
                try fixture.setTarget()
                let link = try Link.perfEvent(.software(.cpuClock), sampling: .frequency(1000), scope: .allCPUs,
                                              program: try fixture.program("count_samples"))
                try tracker.track(link)
                #expect(link.linkDescriptors.count == (try KernelFile.onlineCPUs().count))
                // Spin until 20 samples (20 ms of this thread on a CPU at 1000 Hz) have
                // arrived: on a loaded machine that takes longer than 20 ms of wall time.
                let start = ContinuousClock.now
                var spin: UInt64 = 0
                while try fixture.count(5) < 20, ContinuousClock.now - start < .seconds(10) {
                    let slice = ContinuousClock.now
                    while ContinuousClock.now - slice < .milliseconds(50) { spin &+= 1 }
                }
                #expect(spin > 0)
                link.close()
                let samples = try fixture.count(5)
                #expect(samples >= 20, "\(samples) samples in 10 s of spinning at 1000 Hz")

                let period = try Link.perfEvent(.software(.taskClock), sampling: .period(1_000_000), scope: .thread(AttachTests.threadID()),
                                                program: try fixture.program("count_samples"), mode: .ioctl)
                let again = ContinuousClock.now
                while try fixture.count(5) <= samples, ContinuousClock.now - again < .seconds(10) {
                    let slice = ContinuousClock.now
                    while ContinuousClock.now - slice < .milliseconds(20) { spin &+= 1 }
                }
                period.close()
                #expect(try fixture.count(5) > samples, "task clock every 1 ms of this thread")

                do {
                    let hardware = try Link.perfEvent(.hardware(.cpuCycles), sampling: .frequency(100), program: try fixture.program("count_samples"))
                    hardware.close()
                } catch {
                    // Virtual machines often expose no PMU; the error must say so.
                    #expect("\(error)".contains("hardware"), "\(error)")
                }
            }
        }
    }
}
#endif
