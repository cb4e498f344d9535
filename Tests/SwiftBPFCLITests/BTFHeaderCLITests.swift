import Foundation
import TestPeers
import Testing

/// `swiftbpf btf dump FILE --format c` on the BPFObject fixtures: a header that compiles
/// for BPF and, where bpftool is installed, is the one bpftool writes.
@Suite struct BTFHeaderCLITests {
    static let clang = "/opt/swift/usr/bin/clang"
    static let fixtures = CLITests.root.appendingPathComponent("Tests/BPFObjectTests/Fixtures")

    static var bpftool: String? {
        ["/usr/sbin/bpftool", "/usr/bin/bpftool", "/sbin/bpftool"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    private func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let result = try Subprocess.run(executable, arguments)
        return (result.status, result.text)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: clang), "needs clang"),
          arguments: ["core.bpf.c", "maps.bpf.c", "cheader-types.c", "core-kinds.bpf.c"])
    func headerOfFixtureObject(source: String) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-cli-header-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let object = directory.appendingPathComponent("fixture.o")
        let built = try run(Self.clang, ["-target", "bpf", "-O2", "-g", "-c", Self.fixtures.appendingPathComponent(source).path,
                                         "-o", object.path])
        #expect(built.status == 0)

        let result = try CLITests.swiftbpf(["btf", "dump", object.path, "--format", "c"])
        #expect(result.status == 0 && result.stderr.isEmpty, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("#ifndef __VMLINUX_H__\n") && result.stdout.hasSuffix("#endif /* __VMLINUX_H__ */\n"))

        let header = directory.appendingPathComponent("vmlinux.h")
        try result.stdout.write(to: header, atomically: true, encoding: .utf8)
        #expect(try run(Self.clang, ["-target", "bpf", "-fsyntax-only", "-Wno-pragma-clang-attribute", "-x", "c", header.path]).status == 0)

        if let bpftool = Self.bpftool {
            let reference = try run(bpftool, ["btf", "dump", "file", object.path, "format", "c"]).output
            // bpftool 7.1 predates mode(byte) on one-byte enums.
            let ours = reference.contains("mode(byte)")
                ? result.stdout : result.stdout.replacingOccurrences(of: " __attribute__((mode(byte)))", with: "")
            #expect(ours == reference)
        }
    }

    @Test func notBTFGivesOneClearError() throws {
        let file = try CLITests.temporaryFile("not-btf.bin", Data([1, 2, 3, 4]))
        let result = try CLITests.swiftbpf(["btf", "dump", file.path, "--format", "c"])
        #expect(result.status != 0 && result.stdout.isEmpty)
        #expect(result.stderr.contains("not valid BTF"), "\(result.stderr)")
    }
}
