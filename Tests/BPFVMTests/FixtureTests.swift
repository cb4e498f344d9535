import BPFInstructions
import BPFVM
import Foundation
import Testing

/// The project's own data-driven tests (Fixtures/*.data, in the conformance format): every
/// opcode, the edge values of the arithmetic, and every error of the VM and the assembler.
/// An expected error's text must occur in the message, so each error case is pinned down.
@Suite struct FixtureTests {
    static let files = TestData.files(in: TestData.fixtures, suffix: ".data")

    @Test func fixturesExist() {
        #expect(Self.files.count >= 100)
    }

    @Test(arguments: files.map(\.lastPathComponent))
    func fixture(_ name: String) throws {
        let file = try ConformanceTestFile(parsing: try TestData.text(TestData.fixtures.appendingPathComponent(name)))
        #expect(file.expectedResult != nil || file.expectedError != nil, "\(name) states no result and no error")
        let outcome = ConformanceRunner.run(file, options: .init(instructionBudget: 10_000_000))
        #expect(ConformanceRunner.passes(file, outcome), "\(name): \(outcome)")
    }
}
