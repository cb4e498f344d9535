import ArgumentParser
import BPFInstructions
import BPFObject

struct ObjectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "object",
        abstract: "List the programs, maps and global variables of a BPF object file.",
        discussion: """
            FILE is an object built with clang -target bpf (bpfel or bpfeb), read as libbpf \
            reads it: programs by section name (SEC("xdp"), SEC("kprobe/...")), each linked \
            with the .text subprograms it calls; maps from .maps, the legacy maps section, \
            global data (.data, .rodata, .bss and their .name variants) and .kconfig.

            Sizes are in instructions (8-byte slots) after linking. Global-data maps get the \
            kernel's names, the object name (the file name up to its first dot) followed by the \
            section name, e.g. prog.bss.

            Examples:
              swiftbpf object prog.bpf.o
              swiftbpf object prog.bpf.o --json | jq '.maps[].name'
              swiftbpf disasm prog.bpf.o --program handle_exec
            """)

    @Argument(help: "BPF object file ('-' for standard input).") var file: String
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        let object = try loadObject(file)
        print(json ? jsonText(object) : humanText(object), terminator: "")
    }

    private func humanText(_ object: ObjectFile) -> String {
        var text = "\(file): \(object.byteOrder == .little ? "little" : "big")-endian BPF object"
        if let license = object.license { text += ", license \(license)" }
        if let version = object.kernelVersion { text += ", kernel version 0x\(String(version, radix: 16))" }
        text += "\n"
        for warning in object.warnings { text += "warning: \(warning)\n" }

        text += "\nprograms:\n"
        text += table(["NAME", "SECTION", "TYPE", "ATTACH TYPE", "INSNS", "SUBPROGRAMS"], object.programs.map { program in
            [program.name + (program.autoload ? "" : " (no autoload)"), program.sectionName, program.type.kernelName,
             program.expectedAttachType?.kernelName ?? "-", String(program.instructions.count),
             program.functions.dropFirst().map(\.name).joined(separator: ",")]
        })
        text += "\nmaps:\n"
        text += table(["NAME", "SECTION", "TYPE", "KEY", "VALUE", "MAX ENTRIES", "FLAGS"], object.maps.map { map in
            [map.name, map.sectionName, map.type.kernelName, String(map.keySize), String(map.valueSize),
             String(map.maxEntries), "0x" + String(map.flags, radix: 16)]
        })
        if !object.globals.isEmpty {
            text += "\nglobals:\n"
            text += table(["NAME", "SECTION", "OFFSET", "SIZE", "LINKAGE"], object.globals.map { global in
                [global.name, global.sectionName, String(global.offset), String(global.size), global.isStatic ? "static" : "global"]
            })
        }
        if !object.externs.isEmpty {
            text += "\nexterns:\n"
            text += table(["NAME", "KIND", "WEAK"], object.externs.map { external in
                let kind = switch external.kind {
                case .kconfig(let offset, let size, _): "kconfig (offset \(offset), \(size) bytes)"
                case .kernelVariable(let typed): typed ? "ksym (typed)" : "ksym"
                case .kernelFunction: "kfunc"
                }
                return [external.name, kind, external.isWeak ? "weak" : ""]
            })
        }
        return text
    }

    private func table(_ header: [String], _ rows: [[String]]) -> String {
        guard !rows.isEmpty else { return "  (none)\n" }
        var widths = header.map(\.count)
        for row in rows { for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) } }
        func line(_ cells: [String]) -> String {
            let padded = cells.enumerated().map { column, cell in
                column == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[column] - cell.count)
            }
            return "  " + padded.joined(separator: "  ") + "\n"
        }
        return line(header) + rows.map(line).joined()
    }

    private func jsonText(_ object: ObjectFile) -> String {
        let programs = object.programs.map { program in
            JSON.object([
                ("name", .string(program.name)), ("section", .string(program.sectionName)),
                ("type", .string(program.type.kernelName)),
                ("expected_attach_type", program.expectedAttachType.map { .string($0.kernelName) } ?? .null),
                ("attach_target", program.attachTarget.map(JSON.string) ?? .null),
                ("autoload", .bool(program.autoload)), ("instructions", .number(program.instructions.count)),
                ("functions", .array(program.functions.map { .string($0.name) })),
                ("relocations", .number(program.relocations.count)),
                ("valid", .bool(program.program != nil)),
            ])
        }
        let maps = object.maps.map { map in
            JSON.object([
                ("name", .string(map.name)), ("section", .string(map.sectionName)), ("type", .string(map.type.kernelName)),
                ("key_size", .number(Int(map.keySize))), ("value_size", .number(Int(map.valueSize))),
                ("max_entries", .number(Int(map.maxEntries))), ("flags", .number(Int(map.flags))),
                ("pinning", .string(map.pinning == .byName ? "by_name" : "none")),
                ("inner_map", map.innerMap.map { .string($0.name) } ?? .null),
            ])
        }
        let globals = object.globals.map { global in
            JSON.object([
                ("name", .string(global.name)), ("section", .string(global.sectionName)),
                ("offset", .number(global.offset)), ("size", .number(global.size)), ("static", .bool(global.isStatic)),
            ])
        }
        return JSON.object([
            ("byte_order", .string(object.byteOrder == .little ? "little" : "big")),
            ("license", object.license.map(JSON.string) ?? .null),
            ("programs", .array(programs)), ("maps", .array(maps)), ("globals", .array(globals)),
        ]).text + "\n"
    }
}

/// Reads and parses an object file, with the path in every error.
func loadObject(_ path: String) throws -> ObjectFile {
    let bytes = try readFile(path)
    do {
        return try ObjectFile(parsing: bytes, name: ObjectFile.defaultName(forPath: path))
    } catch {
        throw CommandError("\(path): \(error)")
    }
}

/// Just enough JSON to print object listings with their keys in a fixed order.
private indirect enum JSON {
    case string(String), number(Int), bool(Bool), null
    case array([JSON])
    case object([(String, JSON)])

    var text: String {
        switch self {
        case .string(let value): return Self.quoted(value)
        case .number(let value): return String(value)
        case .bool(let value): return value ? "true" : "false"
        case .null: return "null"
        case .array(let values): return "[" + values.map(\.text).joined(separator: ",") + "]"
        case .object(let fields): return "{" + fields.map { Self.quoted($0.0) + ":" + $0.1.text }.joined(separator: ",") + "}"
        }
    }

    private static func quoted(_ value: String) -> String {
        var text = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\t": text += "\\t"
            case "\r": text += "\\r"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    text.unicodeScalars.append(scalar)
                }
            }
        }
        return text + "\""
    }
}
