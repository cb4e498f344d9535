import BPFInstructions
import Foundation
import Testing

/// Where the tests find data: the project's fixtures in the repo, and the shared data
/// (conformance suite, captures) at ../shared from the repo root or $SWIFTBPF_SHARED.
enum TestData {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let fixtures = repositoryRoot.appendingPathComponent("Tests/BPFVMTests/Fixtures")

    static var shared: URL {
        if let path = ProcessInfo.processInfo.environment["SWIFTBPF_SHARED"] { return URL(fileURLWithPath: path) }
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }

    /// Shared data may be absent on a developer's machine, never in CI.
    static var sharedDataRequired: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["CI"] != nil || environment["SWIFTBPF_REQUIRE_PEERS"] == "1"
    }

    static func files(in directory: URL, suffix: String) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(suffix) }.sorted().map { directory.appendingPathComponent($0) }
    }

    static func text(_ url: URL) throws -> String {
        String(decoding: try Data(contentsOf: url), as: UTF8.self)
    }
}

extension TestData {
    /// Sums the bytes of its input, r1 running up to r1 + r2: the JIT tests' loop.
    static let byteLoop = """
        mov %r0, 0
        mov %r3, %r1
        add %r3, %r2
        loop:
        jge %r1, %r3, done
        ldxb %r4, [%r1]
        add %r0, %r4
        add %r1, 1
        ja loop
        done:
        exit
        """
}

/// A program written with ProgramBuilder's labels, for the engine tests.
func buildProgram(_ body: (inout ProgramBuilder) -> Void) throws -> Program {
    var builder = ProgramBuilder()
    body(&builder)
    return try builder.build()
}
