import BPFInstructions
import Foundation
import Testing

/// The public BPF conformance suite's assembly (../shared/conformance/bpf_conformance, or
/// $SWIFTBPF_SHARED/conformance/...): every test assembles, reads back through both
/// syntaxes, and every negative test with invalid assembly is rejected where it is wrong.
struct ConformanceSuiteAssemblyTests {
    static let suite: URL? = {
        let environment = ProcessInfo.processInfo.environment
        let shared = environment["SWIFTBPF_SHARED"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared")
        let suite = shared.appendingPathComponent("conformance/bpf_conformance")
        return FileManager.default.fileExists(atPath: suite.path) ? suite : nil
    }()

    /// Shared data may be missing on a developer's machine, never in CI.
    static var required: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["CI"] != nil || environment["SWIFTBPF_REQUIRE_PEERS"] == "1"
    }

    static func dataFiles(_ directory: String) -> [URL] {
        guard let suite else { return [] }
        let folder = suite.appendingPathComponent(directory)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".data") }.sorted().map { folder.appendingPathComponent($0) }
    }

    /// The lines of section `name` (`-- name`), or nil if the file has none.
    static func section(_ name: String, of file: URL) throws -> String? {
        let text = String(decoding: try Data(contentsOf: file), as: UTF8.self)
        var lines: [Substring]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("--") {
                if lines != nil { break }
                if line.dropFirst(2).trimmingCharacters(in: .whitespaces) == name { lines = [] }
            } else {
                lines?.append(line)
            }
        }
        return lines?.joined(separator: "\n")
    }

    @Test func suiteIsPresent() throws {
        if Self.suite == nil && Self.required { Issue.record("the conformance suite is missing from ../shared") }
        try #require(Self.suite != nil || !Self.required)
    }

    @Test func everyTestAssemblesAndRoundTrips() throws {
        let files = Self.dataFiles("tests")
        if Self.suite != nil { #expect(files.count >= 300) }
        for file in files {
            guard let assembly = try Self.section("asm", of: file) else { continue }
            let name = file.lastPathComponent
            #expect(AssemblySyntax.detect(assembly) == .conformance, "\(name)")
            let program: Program
            do {
                program = try Assembler.assemble(assembly)
            } catch {
                Issue.record("\(name): \(error)")
                continue
            }
            for syntax in AssemblySyntax.allCases {
                let text = Disassembler.disassemble(program, syntax: syntax)
                #expect(try Assembler.assemble(text).slots == program.slots, "\(name) through \(syntax)")
            }
        }
    }

    /// The suite's `-- raw` words (little-endian u64 per slot) match what we assemble.
    @Test func rawSectionsMatch() throws {
        for file in Self.dataFiles("tests") {
            guard let assembly = try Self.section("asm", of: file), let raw = try Self.section("raw", of: file) else { continue }
            let words = raw.split(whereSeparator: \.isWhitespace).compactMap { UInt64($0.dropFirst(2), radix: 16) }
            let program = try Assembler.assemble(assembly, syntax: .conformance)
            let bytes = words.flatMap { word in (0..<8).map { UInt8(truncatingIfNeeded: word >> (8 * $0)) } }
            #expect(program.bytes() == bytes, "\(file.lastPathComponent)")
        }
    }

    /// Negative tests whose assembly is wrong, with where we report it (lines count from the `-- asm` line).
    static let invalidAssembly: [String: (line: Int, column: Int)] = [
        "invalid_imm32_dec_range.data": (2, 12),
        "invalid_imm32_hex_range.data": (2, 12),
        "invalid_label.data": (1, 4),
        "invalid_lock.data": (1, 17),
        "invalid_lock2.data": (1, 5),
        "invalid_mnemonic.data": (2, 1),
        "invalid_offset.data": (1, 11),
        "invalid_offset_range.data": (2, 15),
        "invalid_operand_count.data": (1, 9),
        "invalid_register.data": (1, 9),
        "invalid_unknown_directive.data": (1, 1),
    ]

    @Test func negativeTestsWithBadAssemblyAreRejected() throws {
        var checked = 0
        for file in Self.dataFiles("negative") {
            guard let assembly = try Self.section("asm", of: file) else { continue }
            let name = file.lastPathComponent
            if let location = Self.invalidAssembly[name] {
                checked += 1
                do {
                    let program = try Assembler.assemble(assembly, syntax: .conformance)
                    Issue.record("\(name) assembled to \(program.slots.count) slots")
                } catch {
                    #expect(error.line == location.line && error.column == location.column, "\(name): \(error)")
                }
            } else {
                // The rest (e.g. error.data) are valid code that must fail later, when run.
                #expect(throws: Never.self, "\(name)") { try Assembler.assemble(assembly, syntax: .conformance) }
            }
        }
        if Self.suite != nil { #expect(checked == Self.invalidAssembly.count) }
    }
}
