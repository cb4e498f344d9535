import ArgumentParser
import BPFInstructions
import Foundation

/// How a program file is written.
enum ProgramFormat: String, ExpressibleByArgument, CaseIterable {
    case auto, raw, asm, data
}

extension AssemblySyntax: ExpressibleByArgument {}

/// A program read from a file, with the test file it came from when it was a `.data` file.
struct ProgramInput {
    var program: Program
    var testFile: ConformanceTestFile?

    static func load(path: String, format: ProgramFormat, syntax: AssemblySyntax?, order: ByteOrder) throws -> ProgramInput {
        let bytes = try readFile(path)
        let resolved = format == .auto ? detect(path: path, bytes: bytes) : format
        switch resolved {
        case .raw, .auto:
            do { return ProgramInput(program: try Program(bytes: bytes, order: order)) } catch {
                throw CommandError("\(path): \(error)")
            }
        case .asm:
            let text = try utf8(bytes, path)
            do { return ProgramInput(program: try Assembler.assemble(text, syntax: syntax)) } catch {
                throw CommandError("\(path):\(error.line):\(error.column): \(error.message)")
            }
        case .data:
            let file: ConformanceTestFile
            do { file = try ConformanceTestFile(parsing: try utf8(bytes, path)) } catch {
                throw CommandError("\(path): \(error)")
            }
            do { return ProgramInput(program: try file.program(), testFile: file) } catch {
                throw CommandError("\(path): \(error)")
            }
        }
    }

    /// Text with a `-- asm`/`-- raw` section is a test file, other text is assembly, and
    /// anything with a NUL byte or invalid UTF-8 is bytecode.
    static func detect(path: String, bytes: [UInt8]) -> ProgramFormat {
        if path.hasSuffix(".data") { return .data }
        guard !bytes.contains(0), let text = String(validating: bytes, as: UTF8.self) else { return .raw }
        if text.split(separator: "\n").contains(where: { $0.hasPrefix("-- asm") || $0.hasPrefix("-- raw") }) { return .data }
        return .asm
    }

    private static func utf8(_ bytes: [UInt8], _ path: String) throws -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw CommandError("\(path): not UTF-8 text") }
        return text
    }
}

func readFile(_ path: String) throws -> [UInt8] {
    if path == "-" { return Array(FileHandle.standardInput.readDataToEndOfFile()) }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw CommandError("\(path): no such file")
    }
    guard !isDirectory.boolValue else { throw CommandError("\(path): is a directory") }
    // A file handle also reads pipes and devices such as /dev/stdin.
    guard let handle = FileHandle(forReadingAtPath: path) else { throw CommandError("\(path): cannot be read") }
    defer { try? handle.close() }
    return Array(handle.readDataToEndOfFile())
}

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
        throw CommandError("\(path): cannot be written")
    }
}

/// Hex from a command-line option, with the option named in the error.
func hexOption(_ text: String, name: String) throws -> [UInt8] {
    do { return try Hex.bytes(text) } catch { throw CommandError("\(name): \(error)") }
}

