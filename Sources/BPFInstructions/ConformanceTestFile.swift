/// A test in the format of the public BPF conformance suite (`.data` files): sections
/// `-- asm` (assembly), `-- raw` (hex instruction bytes), `-- mem` (input memory in hex),
/// `-- result` (expected r0 in hex) and `-- error` (the run must fail; the text, when
/// present, is what the error message should contain). `#` starts a comment line.
public struct ConformanceTestFile: Sendable, Hashable {
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public var line: Int
        public var message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// Assembly text, and the file line its first line is on.
    public var assembly: (text: String, firstLine: Int)?
    public var rawBytes: [UInt8]?
    public var memory: [UInt8] = []
    public var expectedResult: UInt64?
    public var expectedError: String?
    /// Sections this format does not define, kept by name (the suite has a few tool-specific ones).
    public var otherSections: [String: String] = [:]

    public init(parsing text: String) throws(ParseError) {
        var sections: [(name: String, line: Int, lines: [String])] = []
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let trimmed = line.trimmingWhitespace()
            if trimmed.hasPrefix("--") {
                let name = trimmed.dropFirst(2).trimmingWhitespace()
                sections.append((String(name), lineNumber + 1, []))
            } else if !sections.isEmpty {
                sections[sections.count - 1].lines.append(String(line))
            }
        }
        for section in sections {
            // Comments are removed from data sections; assembly keeps them for its own line numbers.
            let body = section.lines.map { $0.trimmingWhitespace() }.filter { !$0.hasPrefix("#") }
                .joined(separator: "\n")
            switch section.name {
            case "asm":
                assembly = (section.lines.joined(separator: "\n"), section.line)
            case "raw":
                rawBytes = try Self.rawCode(body, section: section)
            case "mem":
                memory = try Self.hex(body, section: section)
            case "result":
                let value = body.trimmingWhitespace()
                let digits = value.hasPrefix("0x") || value.hasPrefix("0X") ? value.dropFirst(2) : Substring(value)
                guard let parsed = UInt64(digits, radix: 16) else {
                    throw ParseError(line: section.line, message: "result '\(value)' is not a 64-bit hex number")
                }
                expectedResult = parsed
            case "error":
                expectedError = body.trimmingWhitespace()
            default:
                otherSections[section.name] = body
            }
        }
    }

    /// `-- raw` holds either bytes (`07 00 01 00 ...`) or one 64-bit word per instruction
    /// (`0x5566778800000018`, the slot read as a little-endian integer).
    private static func rawCode(_ body: String, section: (name: String, line: Int, lines: [String])) throws(ParseError) -> [UInt8] {
        let words = body.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
        guard !words.isEmpty, words.allSatisfy({ $0.hasPrefix("0x") && $0.count == 18 }) else {
            return try hex(body, section: section)
        }
        var bytes: [UInt8] = []
        for word in words {
            guard let value = UInt64(word.dropFirst(2), radix: 16) else {
                throw ParseError(line: section.line, message: "-- raw: '\(word)' is not a 64-bit hex word")
            }
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
        }
        return bytes
    }

    private static func hex(_ body: String, section: (name: String, line: Int, lines: [String])) throws(ParseError) -> [UInt8] {
        do {
            return try Hex.bytes(body)
        } catch {
            throw ParseError(line: section.line, message: "-- \(section.name): \(error)")
        }
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.assembly?.text == rhs.assembly?.text && lhs.rawBytes == rhs.rawBytes && lhs.memory == rhs.memory
            && lhs.expectedResult == rhs.expectedResult && lhs.expectedError == rhs.expectedError
    }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(assembly?.text)
        hasher.combine(rawBytes)
        hasher.combine(memory)
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        let isSpace: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" }
        guard let first = scalars.firstIndex(where: { !isSpace($0) }),
              let last = scalars.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}

extension ConformanceTestFile {
    /// Why a test file's program could not be built.
    public enum ProgramError: Error, Sendable, Hashable, CustomStringConvertible {
        case noProgram
        /// The assembly is invalid; the line is the line in the test file.
        case assembly(AssemblyError)
        case raw(DecodeError)

        public var description: String {
            switch self {
            case .noProgram: "the file has neither an -- asm nor a -- raw section"
            case .assembly(let error): error.description
            case .raw(let error): error.description
            }
        }
    }

    /// Assembles `-- asm` (conformance syntax), or decodes `-- raw` when there is no assembly.
    public func program() throws(ProgramError) -> Program {
        guard let assembly else {
            guard let rawBytes else { throw .noProgram }
            do { return try Program(bytes: rawBytes) } catch { throw .raw(error) }
        }
        do {
            return try Assembler.assemble(assembly.text, syntax: .conformance)
        } catch {
            var shifted = error
            shifted.line += assembly.firstLine - 1
            throw .assembly(shifted)
        }
    }
}
