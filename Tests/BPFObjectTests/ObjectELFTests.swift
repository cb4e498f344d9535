import BPFInstructions
import BPFObject
import Foundation
import Testing

/// The ELF reader against llvm-objdump, on every fixture in both byte orders: the same
/// sections (name, size, type), the same symbols (value, size, binding, type, section,
/// name) and the same relocations (offset, type, symbol) in every relocation section.
@Suite(.enabled(if: ObjectFixtures.clangAvailable && ObjectFixtures.objdumpAvailable, "needs clang and llvm-objdump"))
struct ObjectELFTests {
    static let targets = ["bpfel", "bpfeb"]

    @Test(arguments: ObjectFixtures.names, targets)
    func sectionsMatchObjdump(fixture: String, target: String) throws {
        let compiled = try ObjectFixtures.compile(fixture, target: target)
        let elf = try ELFFile(parsing: compiled.bytes)
        #expect(elf.byteOrder == (target == "bpfeb" ? .big : .little))
        #expect(elf.machine == ELFFile.machineBPF)

        var rows: [(index: Int, name: String, size: UInt64, type: String)] = []
        for line in try ObjectFixtures.run(ObjectFixtures.objdump, ["-h", compiled.path]).split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard let index = fields.first.flatMap({ Int($0) }) else { continue }
            if index == 0 { rows.append((0, "", 0, "")); continue }
            guard fields.count >= 4, let size = UInt64(fields[2], radix: 16) else { continue }
            rows.append((index, fields[1], size, fields.count > 4 ? fields[4] : ""))
        }
        #expect(rows.count == elf.sections.count)
        for (row, section) in zip(rows, elf.sections) {
            #expect(row.index == section.index)
            #expect(row.name == section.name)
            #expect(row.size == section.size, "\(section.name)")
            let type = section.isExecutable ? "TEXT" : section.kind == .noBits ? "BSS" : ""
            if row.type == "TEXT" || row.type == "BSS" { #expect(row.type == type, "\(section.name)") }
        }
    }

    @Test(arguments: ObjectFixtures.names, targets)
    func symbolsMatchObjdump(fixture: String, target: String) throws {
        let compiled = try ObjectFixtures.compile(fixture, target: target)
        let elf = try ELFFile(parsing: compiled.bytes)
        let lines = try ObjectFixtures.run(ObjectFixtures.objdump, ["-t", compiled.path]).split(separator: "\n")
            .map(String.init).filter { $0.count > 25 && $0.first?.isHexDigit == true }
        // llvm-objdump leaves out the null symbol.
        #expect(lines.count == elf.symbols.count - 1)
        for (line, symbol) in zip(lines, elf.symbols.dropFirst()) {
            let characters = Array(line)
            let value = UInt64(String(characters[0..<16]), radix: 16)
            let flags = characters[17..<24]
            let rest = String(characters[25...])
            let parts = rest.split(separator: "\t", maxSplits: 1).map(String.init)
            #expect(parts.count == 2)
            let sectionName = parts.first ?? ""
            let sizeAndName = (parts.last ?? "").split(separator: " ", maxSplits: 1).map(String.init)
            #expect(value == symbol.value, "\(line)")
            #expect(UInt64(sizeAndName.first ?? "", radix: 16) == symbol.size, "\(line)")
            var name = sizeAndName.count > 1 ? sizeAndName[1] : ""
            if name.hasPrefix(".hidden ") {
                name.removeFirst(".hidden ".count)
                #expect(symbol.visibility == .hidden, "\(line)")
            }
            #expect(name == elf.displayName(of: symbol), "\(line)")
            let expectedSection = switch symbol.sectionIndex {
            case ELFSymbol.undefinedSection: "*UND*"
            case ELFSymbol.absoluteSection: "*ABS*"
            default: elf.section(at: Int(symbol.sectionIndex))?.name ?? "?"
            }
            #expect(sectionName == expectedSection, "\(line)")
            // llvm-objdump prints no binding for undefined globals.
            let binding: Character = switch symbol.binding {
            case .local: "l"
            case .global: symbol.sectionIndex == ELFSymbol.undefinedSection ? " " : "g"
            default: " "
            }
            #expect(flags[flags.startIndex] == binding || (symbol.binding == .weak && flags[flags.startIndex + 1] == "w"), "\(line)")
            let kind: Character = switch symbol.kind {
            case .function: "F"
            case .object: "O"
            case .section: "d"
            case .file: "f"
            default: " "
            }
            #expect(flags.contains(kind) || kind == " ", "\(line)")
        }
    }

    @Test(arguments: ObjectFixtures.names, targets)
    func relocationsMatchObjdump(fixture: String, target: String) throws {
        let compiled = try ObjectFixtures.compile(fixture, target: target)
        let elf = try ELFFile(parsing: compiled.bytes)
        var expected: [String: [String]] = [:]
        var current: String?
        for line in try ObjectFixtures.run(ObjectFixtures.objdump, ["-r", compiled.path]).split(separator: "\n") {
            if line.hasPrefix("RELOCATION RECORDS FOR [") {
                current = String(line.dropFirst("RELOCATION RECORDS FOR [".count).dropLast(2))
            } else if let current, line.first?.isHexDigit == true {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                expected[current, default: []].append(fields.map(String.init).joined(separator: " "))
            }
        }
        var actual: [String: [String]] = [:]
        for section in elf.sections where section.kind == .relocations {
            let target = elf.sections[Int(section.info)].name
            for relocation in try elf.relocations(in: section) {
                let symbol = try #require(elf.symbol(at: relocation.symbolIndex))
                let offset = String(relocation.offset, radix: 16)
                actual[target, default: []].append(
                    "\(String(repeating: "0", count: 16 - offset.count))\(offset) \(relocation.kind.name) \(elf.displayName(of: symbol))")
            }
        }
        #expect(actual == expected)
        #expect(!actual.isEmpty)
    }

    /// Every instruction of every function, as the object holds it, equals llvm-objdump's
    /// bytes at that offset: the functions' code is read from the right place in both orders.
    @Test(arguments: ObjectFixtures.names, targets)
    func functionCodeMatchesObjdump(fixture: String, target: String) throws {
        let compiled = try ObjectFixtures.compile(fixture, target: target)
        let object = try ObjectFile(parsing: compiled.bytes, name: fixture)
        let slots = try objdumpSlots(compiled.path)
        for program in object.programs {
            for function in program.functions {
                let section = function.name == program.name ? program.sectionName : ".text"
                let start = function.name == program.name
                    ? program.sectionOffset / 8
                    : try #require(object.subprograms.first { $0.name == function.name }).start
                for slot in 0..<function.count {
                    let linked = program.instructions[function.start + slot]
                    var bytes: [UInt8] = []
                    linked.append(to: &bytes, order: object.byteOrder)
                    let original = try #require(slots[section]?[start + slot], "\(section) slot \(start + slot)")
                    // Relocated slots differ in registers and immediates; the opcode stays.
                    if program.relocations.contains(where: { $0.instruction == function.start + slot || $0.instruction == function.start + slot - 1 }) {
                        #expect(bytes[0] == original[0], "\(program.name)/\(function.name) slot \(slot)")
                    } else {
                        #expect(bytes == original, "\(program.name)/\(function.name) slot \(slot)")
                    }
                }
            }
        }
    }

    /// `llvm-objdump -d` as [section: [slot: 8 bytes]] in file byte order.
    private func objdumpSlots(_ path: String) throws -> [String: [Int: [UInt8]]] {
        var result: [String: [Int: [UInt8]]] = [:]
        var section = ""
        for line in try ObjectFixtures.run(ObjectFixtures.objdump, ["-d", path]).split(separator: "\n") {
            if line.hasPrefix("Disassembly of section ") {
                section = String(line.dropFirst("Disassembly of section ".count).dropLast())
                continue
            }
            let parts = line.split(separator: "\t")
            guard parts.count >= 2, let slot = Int(parts[0].trimmingCharacters(in: .whitespaces).dropLast()) else { continue }
            let bytes = parts[1].split(separator: " ").compactMap { UInt8($0, radix: 16) }
            for half in stride(from: 0, to: bytes.count, by: 8) where half + 8 <= bytes.count {
                result[section, default: [:]][slot + half / 8] = Array(bytes[half..<half + 8])
            }
        }
        return result
    }

    @Test func readsHeaderFieldsAndRefusesOtherFiles() throws {
        let compiled = try ObjectFixtures.compile("subprograms")
        let elf = try ELFFile(parsing: compiled.bytes)
        #expect(elf.type == 1)
        #expect(elf.sections[elf.sectionNamesIndex].kind == .stringTable)
        #expect(elf.symbolTableIndex.map { elf.sections[$0].name } == ".symtab")
        #expect(elf.section(named: ".text")?.isExecutable == true)
        #expect(throws: ObjectError.self) { try ELFFile(parsing: Array("#!/bin/sh\n".utf8)) }
    }
}
