#if os(Linux)
import Foundation
import Testing

/// swiftbpf-skeleton, the generator the build plugin runs, on objects made for the test:
/// the Swift types it gives C globals, the hooks `attach()` knows, and its errors. Run with
/// ChildProcess, which needs no Dispatch thread (see there).
@Suite struct SkeletonGeneratorTests {
    static let directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    static let clang = "/opt/swift/usr/bin/clang"

    /// The generator, built beside the test bundle by the plugin's dependency.
    static var generator: String? {
        var folder = directory
        while folder.path != "/" {
            let candidate = folder.appendingPathComponent("swiftbpf-skeleton").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            folder.deleteLastPathComponent()
        }
        return nil
    }

    static func withTemporaryDirectory(_ body: (URL) throws -> Void) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-skeleton-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try body(folder)
    }

    static let source = """
        #include <swiftbpf/helpers.h>
        const volatile __u8 flag = 0;
        const volatile _Bool enabled = 0;
        const volatile __s32 target = 0;
        const volatile char label[8] = "";
        __s64 counter;
        struct { __u64 a, b; } pair;
        static __u32 hidden;
        struct {
            __uint(type, BPF_MAP_TYPE_HASH);
            __uint(max_entries, 16);
            __type(key, __u32);
            __type(value, __u64);
        } seen SEC(".maps");
        SEC("tracepoint/syscalls/sys_enter_openat") int on_open(void *context) { counter += target + hidden++; return 0; }
        SEC("raw_tp/sched_switch") int on_switch(void *context) { return flag + enabled + label[0] + pair.a; }
        SEC("uprobe") int on_call(void *context) { return 0; }
        char LICENSE[] SEC("license") = "GPL";
        """

    @Test func generatesTypedAccessors() throws {
        guard let generator = Self.generator, FileManager.default.isExecutableFile(atPath: Self.clang) else {
            ToolTests.peerMissing("swiftbpf-skeleton or the toolchain's clang at \(Self.clang)")
            return
        }
        let include = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Plugins/BPFCompilerPlugin/include").path
        try Self.withTemporaryDirectory { folder in
            let source = folder.appendingPathComponent("my-probe.bpf.c")
            try Self.source.write(to: source, atomically: true, encoding: .utf8)
            let output = folder.appendingPathComponent("my-probe.skeleton.swift")
            let generated = try ChildProcess.run(generator, [source.path, output.path, Self.clang, "-target", "bpf", "-O2", "-g",
                                                             "-I" + include, "-I/usr/include/x86_64-linux-gnu", "-I/usr/include/aarch64-linux-gnu"])
            try #require(generated.status == 0, "\(generated.output)")
            let text = try String(contentsOf: output, encoding: .utf8)
            for expected in [
                "final class MyProbeSkeleton {",
                "var flag: UInt8?", "var enabled: Bool?", "var target: Int32?", "var label: [UInt8]?",
                "if let label { options.constants[\"label\"] = label }",
                "let counter: BPFSkeletonGlobal<Int64>", "let pair: BPFSkeletonGlobalBytes",
                "let seen: Map", "let on_open: KernelProgram", "let on_call: KernelProgram",
                "links.append(try Link.tracepoint(\"syscalls/sys_enter_openat\", program: programs.on_open))",
                "links.append(try Link.rawTracepoint(\"sched_switch\", program: programs.on_switch))",
            ] {
                #expect(text.contains(expected), "missing: \(expected)")
            }
            #expect(!text.contains("hidden"), "static variables stay out of the skeleton")
            #expect(!text.contains("Link.uprobe"), "uprobes are the caller's to attach")
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("my-probe.bpf.o").path))
        }
    }

    @Test func failuresNameTheFileAndTheCause() throws {
        guard let generator = Self.generator else {
            ToolTests.peerMissing("swiftbpf-skeleton is not built beside the tests")
            return
        }
        try Self.withTemporaryDirectory { folder in
            let source = folder.appendingPathComponent("broken.bpf.c")
            try "int broken(void) { return }\n".write(to: source, atomically: true, encoding: .utf8)
            let output = folder.appendingPathComponent("broken.skeleton.swift").path
            let compiled = try ChildProcess.run(generator, [source.path, output, Self.clang, "-target", "bpf"])
            #expect(compiled.status == 1)
            #expect(compiled.output.contains("broken.bpf.c:1:"), "clang's diagnostic: \(compiled.output)")
            #expect(compiled.output.contains("swiftbpf-skeleton: \(Self.clang) failed (exit status 1)"), "\(compiled.output)")

            // A "compiler" that succeeds but writes no BPF object (its $4 is the -o path).
            let fake = try ChildProcess.run(generator, [source.path, output, "/bin/sh", "-c", "printf 'not ELF' > \"$4\"", "sh"])
            #expect(fake.status == 1)
            #expect(fake.output.contains("broken.bpf.o (compiled from \(source.path))"), "\(fake.output)")

            let usage = try ChildProcess.run(generator, ["only-one"])
            #expect(usage.status == 1 && usage.output.contains("usage: swiftbpf-skeleton"))
        }
    }
}
#endif
