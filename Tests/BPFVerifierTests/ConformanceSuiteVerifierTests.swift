import BPFInstructions
import BPFVerifier
import BPFVM
import Foundation
import Testing

/// The public conformance suite in plain-memory mode: every program in tests/ is accepted,
/// except those unsafe by design (listed with the reason), and every accepted one then runs
/// to the suite's expected result in the interpreter and in the JIT's verified mode.
@Suite struct ConformanceSuiteVerifierTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var suite: URL {
        let shared = ProcessInfo.processInfo.environment["SWIFTBPF_SHARED"].map { URL(fileURLWithPath: $0) }
            ?? repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared")
        return shared.appendingPathComponent("conformance/bpf_conformance/tests")
    }

    /// Tests that a verifier must refuse, and why.
    static let unsafeByDesign: [String: String] = [
        "callx.data": "callx calls the helper whose id is in a register; the target cannot be checked",
    ]

    @Test func everySafeProgramIsAccepted() throws {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: Self.suite.path)) ?? []).filter { $0.hasSuffix(".data") }.sorted()
        guard !names.isEmpty else {
            let required = ProcessInfo.processInfo.environment["SWIFTBPF_REQUIRE_PEERS"] == "1"
            #expect(!required, "conformance suite not found at \(Self.suite.path)")
            print("skipped: conformance suite not found at \(Self.suite.path)")
            return
        }
        var accepted = 0, refusedByDesign = 0
        for name in names {
            let text = String(decoding: try Data(contentsOf: Self.suite.appendingPathComponent(name)), as: UTF8.self)
            let file = try ConformanceTestFile(parsing: text)
            let program = try file.program()
            let verified: VerifiedProgram
            do {
                verified = try Verifier.verify(program, as: .plainMemory(size: file.memory.count))
            } catch {
                if let reason = Self.unsafeByDesign[name] {
                    refusedByDesign += 1
                    print("refused by design: \(name): \(reason)")
                } else if file.expectedError != nil {
                    refusedByDesign += 1
                    print("refused, the suite expects an error: \(name): \(error.message)")
                } else {
                    Issue.record("\(name) was refused: \(error)")
                }
                continue
            }
            accepted += 1
            #expect(Self.unsafeByDesign[name] == nil, "\(name) is listed as unsafe but was accepted")
            // Accepted means it runs without a trap, in the interpreter with its checks and in
            // the JIT's verified mode without them.
            for engine in [try Interpreter(program: verified.program, helpers: [ConformanceRunner.unwind]) as any Engine,
                           try JITProgram(verified: verified)] {
                var memory = file.memory
                do {
                    let result = try engine.run(memory: &memory)
                    if let expected = file.expectedResult { #expect(result == expected, "\(name) in \(type(of: engine))") }
                } catch {
                    Issue.record("\(name) was accepted but trapped in \(type(of: engine)): \(error)")
                }
            }
        }
        print("conformance in plain-memory mode: \(accepted) accepted, \(refusedByDesign) refused as unsafe, of \(names.count)")
    }
}
