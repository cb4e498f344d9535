import BPFInstructions
import BPFVM
import Foundation
import Testing

/// The public BPF ISA conformance suite: every test in tests/ passes, every test in
/// negative/ fails as it is meant to (its program is refused, or the run does not give
/// the result it states).
@Suite struct ConformanceSuiteTests {
    static let suite = TestData.shared.appendingPathComponent("conformance/bpf_conformance")

    @Test func publicSuite() throws {
        let tests = TestData.files(in: Self.suite.appendingPathComponent("tests"), suffix: ".data")
        let negative = TestData.files(in: Self.suite.appendingPathComponent("negative"), suffix: ".data")
        if tests.isEmpty {
            #expect(!TestData.sharedDataRequired, "conformance suite not found at \(Self.suite.path)")
            print("conformance: skipped, suite not found at \(Self.suite.path)")
            return
        }
        var passed = 0, failed = 0
        for url in tests {
            let outcome = run(url)
            if let file = outcome.file, ConformanceRunner.passes(file, outcome.outcome) {
                passed += 1
            } else {
                failed += 1
                Issue.record("\(url.lastPathComponent): \(outcome.outcome)")
            }
        }
        for url in negative {
            let outcome = run(url)
            if let file = outcome.file, ConformanceRunner.passes(file, outcome.outcome) {
                failed += 1
                Issue.record("negative/\(url.lastPathComponent) should fail but passed: \(outcome.outcome)")
            } else {
                passed += 1
            }
        }
        #expect(tests.count == 313 && negative.count == 60)
        print("conformance: \(passed) passed, \(failed) failed")
    }

    /// Where a test gives both assembly and raw code, our assembler must produce the raw bytes.
    @Test func assemblerAgreesWithRawSections() throws {
        var compared = 0
        for directory in ["tests", "negative"] {
            for url in TestData.files(in: Self.suite.appendingPathComponent(directory), suffix: ".data") {
                let file = try ConformanceTestFile(parsing: try TestData.text(url))
                guard let raw = file.rawBytes, file.assembly != nil, let program = try? file.program() else { continue }
                #expect(program.bytes() == raw, "\(url.lastPathComponent)")
                compared += 1
            }
        }
        #expect(compared >= 1 || !TestData.sharedDataRequired)
    }

    private func run(_ url: URL) -> (file: ConformanceTestFile?, outcome: ConformanceRunner.Outcome) {
        do {
            let file = try ConformanceTestFile(parsing: try TestData.text(url))
            return (file, ConformanceRunner.run(file))
        } catch {
            return (nil, .failed("\(error)"))
        }
    }
}
