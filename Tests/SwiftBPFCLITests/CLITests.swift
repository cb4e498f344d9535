import BPFInstructions
import Foundation
import TestPeers
import Testing

/// The `swiftbpf` command as a user runs it: output, exit status and error messages.
@Suite struct CLITests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The executable is built next to the test bundle.
    static let executable: URL = {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var directory = testBinary.deletingLastPathComponent()
        while directory.path != "/" && !FileManager.default.fileExists(atPath: directory.appendingPathComponent("swiftbpf").path) {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("swiftbpf")
    }()

    struct Output { var status: Int32; var stdout: String; var stderr: String }

    static func swiftbpf(_ arguments: [String], stdin: String? = nil) throws -> Output {
        let result = try Subprocess.run(executable.path, arguments, input: stdin.map { Data($0.utf8) }, directory: root)
        return Output(status: result.status, stdout: result.text, stderr: result.errors)
    }

    /// Whether this process is root, which `why` needs; if not, the test is skipped, or fails
    /// when SWIFTBPF_REQUIRE_KERNEL=1 says the kernel must be tested.
    static func isRoot(_ why: String) -> Bool {
        if geteuid() == 0 { return true }
        #expect(ProcessInfo.processInfo.environment["SWIFTBPF_REQUIRE_KERNEL"] != "1", "\(why)")
        return false
    }

    static func temporaryFile(_ name: String, _ contents: Data) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-cli-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(name)
        try contents.write(to: url)
        return url
    }

    @Test func readmeExampleRuns() throws {
        let result = try Self.swiftbpf(["run", "Examples/flow-hash.s", "--mem-file", "Examples/tcp-syn.bin"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "0x5a6ae810de8fb123\n")
    }

    @Test func assembleDisassembleRoundTrip() throws {
        let source = try Self.temporaryFile("prog.s", Data("mov %r0, 7\nlddw %r1, 0x1122334455667788\nadd %r0, %r1\nexit\n".utf8))
        let binary = source.deletingPathExtension().appendingPathExtension("bin")
        #expect(try Self.swiftbpf(["asm", source.path, "-o", binary.path]).status == 0)
        #expect(try Data(contentsOf: binary).count == 40)
        let listing = try Self.swiftbpf(["disasm", binary.path])
        #expect(listing.status == 0)
        #expect(listing.stdout.hasPrefix("0: "))
        let plain = try Self.swiftbpf(["disasm", binary.path, "--plain", "--syntax", "conformance"])
        let again = try Self.temporaryFile("again.s", Data(plain.stdout.utf8))
        let hex = try Self.swiftbpf(["asm", again.path])
        let original = try Self.swiftbpf(["asm", source.path])
        #expect(hex.stdout == original.stdout && hex.status == 0)
        let run = try Self.swiftbpf(["run", binary.path, "--repeat", "100"])
        #expect(run.stdout.hasPrefix("0x112233445566778f\nduration (average): "))
        #expect(run.stdout.contains("ns over 100 runs, 4 instructions per run"))
    }

    @Test func verifyAcceptsAndExplainsARefusal() throws {
        let programs = "Tests/BPFVerifierTests/Fixtures/programs/"
        let refused = try Self.swiftbpf(["verify", programs + "reject-map-lookup-unchecked.s", "--type", "socket_filter", "--map", "hash:4:8:16"])
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("refused at instruction 7 (r0 = *(u64 *)(r0 + 0)): r0 may be NULL here"), "\(refused.stdout)")
        #expect(refused.stdout.contains("came from map_lookup_elem at 6"), "\(refused.stdout)")
        let accepted = try Self.swiftbpf(["verify", programs + "accept-map-lookup-checked.s", "--type", "socket_filter", "--map", "array:4:8:1", "--json"])
        #expect(accepted.status == 0, "\(accepted.stderr)")
        let reports = try JSONSerialization.jsonObject(with: Data(accepted.stdout.utf8)) as? [[String: Any]]
        #expect(reports?.first?["accepted"] as? Bool == true, "\(accepted.stdout)")
        let unknownType = try Self.swiftbpf(["verify", programs + "accept-map-lookup-checked.s", "--type", "nonsense"])
        #expect(unknownType.status != 0 && !unknownType.stderr.isEmpty)
    }

    @Test func verifyReadsATracepointsRecordLayout() throws {
        let source = try Self.temporaryFile("mode.s", Data("r0 = *(u64 *)(r1 + 48)\nr0 = 0\nexit\n".utf8))
        let format = "Tests/BPFVerifierTests/Fixtures/sys_enter_openat.format"
        let refused = try Self.swiftbpf(["verify", source.path, "--type", "tracepoint", "--tracepoint-format", format])
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("at offset 48 is past the end of the sys_enter_openat record (48 bytes)"), "\(refused.stdout)")
        #expect(try Self.swiftbpf(["verify", source.path, "--type", "tracepoint"]).status == 0)
        let notTracepoint = try Self.swiftbpf(["verify", source.path, "--tracepoint-format", format])
        #expect(notTracepoint.status != 0 && notTracepoint.stderr.contains("is verified as plain memory"), "\(notTracepoint.stderr)")
        let badName = try Self.swiftbpf(["verify", source.path, "--type", "tracepoint", "--tracepoint", "sys_enter_openat"])
        #expect(badName.status != 0 && badName.stderr.contains("is not CATEGORY/NAME"), "\(badName.stderr)")
        let notFormat = try Self.swiftbpf(["verify", source.path, "--type", "tracepoint", "--tracepoint-format", source.path])
        #expect(notFormat.status != 0 && notFormat.stderr.contains("not a tracepoint format: line 1: there is no 'name:' line"),
                "\(notFormat.stderr)")
        #if os(Linux)
        if FileManager.default.fileExists(atPath: "/sys/kernel/tracing/events/syscalls/sys_enter_openat/format") {
            let live = try Self.swiftbpf(["verify", source.path, "--type", "tracepoint", "--tracepoint", "syscalls/sys_enter_openat"])
            #expect(live.status == 1 && live.stdout.contains("past the end of the sys_enter_openat record"), "\(live.stdout)\(live.stderr)")
        }
        #endif
    }

    @Test func runReadsMemoryAndReportsJSON() throws {
        let source = try Self.temporaryFile("len.s", Data("r0 = r2\nr3 = *(u8 *)(r1 + 1)\nr0 += r3\nexit\n".utf8))
        let result = try Self.swiftbpf(["run", source.path, "--mem", "01 02 03", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "{\"r0\": \"0x5\", \"instructions\": 4}\n")
    }

    @Test func badInputGivesOneClearErrorAndNonZeroExit() throws {
        let cases: [([String], String)] = [
            (["run", "/nonexistent/prog.s"], "/nonexistent/prog.s: no such file"),
            (["run", "Examples/flow-hash.s", "--mem", "0g"], "--mem: at character 2: 'g' is not a hex digit"),
            (["run", "Examples/flow-hash.s", "--repeat", "0"], "--repeat must be at least 1"),
        ]
        for (arguments, message) in cases {
            let result = try Self.swiftbpf(arguments)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("Fatal error") && result.stderr.split(separator: "\n").count <= 3)
        }
        let null = try Self.temporaryFile("null.s", Data("r0 = *(u8 *)(r1 + 0)\nexit\n".utf8))
        let fault = try Self.swiftbpf(["run", null.path])   // no input memory: r1 is 0
        #expect(fault.status != 0 && fault.stderr.contains("pc 0 (r0 = *(u8 *)(r1 + 0)): out-of-bounds read of 1 byte at 0x0"),
                "\(fault.stderr)")
        let bad = try Self.temporaryFile("bad.s", Data("mov %r0, 1\nfrob %r1\n".utf8))
        let result = try Self.swiftbpf(["asm", bad.path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("bad.s:2:1: unknown mnemonic 'frob'"), "\(result.stderr)")
        let truncated = try Self.temporaryFile("trunc.bin", Data([0x95, 0, 0, 0, 0]))
        #expect(try Self.swiftbpf(["disasm", truncated.path]).stderr.contains("not a multiple of 8"))
    }

    /// The conformance runner's plugin protocol: base16 program on stdin, base16 memory as
    /// the argument, r0 in hex on stdout; checked over the whole public suite.
    @Test func conformancePluginProtocol() throws {
        let sum = try Self.swiftbpf(["conformance-plugin", "0102"], stdin: "79100000000000006100010000000000950000000000000000\n")
        #expect(sum.status != 0)  // odd digit count
        let ok = try Self.swiftbpf(["conformance-plugin", "0a0b0c"], stdin: "bf200000000000009500000000000000\n")
        #expect(ok.status == 0 && ok.stdout == "3\n", "\(ok.stderr)")
        let refused = try Self.swiftbpf(["conformance-plugin"], stdin: "0e00000000000000\n")
        #expect(refused.status != 0 && refused.stderr.contains("unknown opcode 0xe"))

        // The whole public suite through the plugin, as the suite's runner would drive it.
        let suite = Self.root.deletingLastPathComponent().appendingPathComponent("shared/conformance/bpf_conformance/tests")
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: suite.path)) ?? []).filter { $0.hasSuffix(".data") }
        let required = ProcessInfo.processInfo.environment["CI"] != nil
            || ProcessInfo.processInfo.environment["SWIFTBPF_REQUIRE_PEERS"] == "1"
        #expect(!files.isEmpty || !required, "conformance suite not found at \(suite.path)")
        for name in files.sorted() {
            let file = try ConformanceTestFile(parsing: String(decoding: try Data(contentsOf: suite.appendingPathComponent(name)), as: UTF8.self))
            let program = try file.program()
            // The runner passes memory first, then its --plugin_options, with bytes spaced out.
            let memory = file.memory.map { Hex.string([$0]) + "  " }.joined()
            let result = try Self.swiftbpf([memory, "conformance-plugin"], stdin: Hex.string(program.bytes()) + "\n")
            #expect(result.status == 0 && UInt64(result.stdout.dropLast(), radix: 16) == file.expectedResult,
                    "\(name): \(result.stdout) \(result.stderr)")
        }
    }
}
