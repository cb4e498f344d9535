import ArgumentParser
import BPFInstructions
import BPFLinux
import BPFObject
import Foundation

struct ProgramCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prog",
        abstract: "Inspect the programs loaded in the kernel, as bpftool prog does.",
        discussion: """
            Programs are named by their kernel id (the first number `swiftbpf prog list` prints). \
            Needs root (or CAP_BPF and CAP_SYS_ADMIN).

            Examples:
              swiftbpf prog list
              swiftbpf prog show 42 --json
              swiftbpf prog dump 42
              swiftbpf prog dump 42 --jited
            """,
        subcommands: [ProgramListCommand.self, ProgramShowCommand.self, ProgramDumpCommand.self])
}

/// What `prog list` and `prog show` print for one program.
struct ProgramSummary {
    var info: ProgramInfo
    var memlock: Int?

    init(id: UInt32) throws {
        let program = try kernel("cannot open program \(id)") { () throws(BPFError) in try KernelProgram(id: id) }
        defer { program.close() }
        info = try kernel("cannot read program \(id)") { () throws(BPFError) in try program.info() }
        memlock = fdInfo(program.fileDescriptor)["memlock"].flatMap { Int($0) }
    }

    var typeName: String { info.type?.kernelName ?? "type \(info.typeNumber)" }

    var human: String {
        var text = "\(info.id): \(typeName)  "
        if !info.name.isEmpty { text += "name \(info.name)  " }
        text += "tag \(info.tagText)"
        if info.isGPLCompatible { text += "  gpl" }
        text += "\n\tloaded_at \(localTimestamp(wallClockSeconds(sinceBoot: info.loadTime)))  uid \(info.createdByUID)\n"
        text += "\txlated \(info.translatedSize)B  "
        text += info.jitedSize > 0 ? "jited \(info.jitedSize)B" : "not jited"
        if let memlock { text += "  memlock \(memlock)B" }
        if !info.mapIDs.isEmpty { text += "  map_ids \(info.mapIDs.map(String.init).joined(separator: ","))" }
        if info.btfID != 0 { text += "\n\tbtf_id \(info.btfID)" }
        return text + "\n"
    }

    var json: [String: Any] {
        var object: [String: Any] = [
            "id": info.id, "type": typeName, "tag": info.tagText, "gpl_compatible": info.isGPLCompatible,
            "loaded_at": wallClockSeconds(sinceBoot: info.loadTime), "uid": info.createdByUID,
            "bytes_xlated": info.translatedSize, "jited": info.jitedSize > 0, "bytes_jited": info.jitedSize,
            "verified_insns": info.verifiedInstructions,
        ]
        if !info.name.isEmpty { object["name"] = info.name }
        if let memlock { object["bytes_memlock"] = memlock }
        if !info.mapIDs.isEmpty { object["map_ids"] = info.mapIDs }
        if info.btfID != 0 { object["btf_id"] = info.btfID }
        if info.runCount > 0 { object["run_time_ns"] = info.runTime; object["run_cnt"] = info.runCount }
        return object
    }
}

struct ProgramListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List every loaded program (bpftool prog list).")

    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        var summaries: [ProgramSummary] = []
        for id in try kernelIDs(.program) {
            // A program freed between listing and opening is skipped, as bpftool skips it.
            guard let summary = try? ProgramSummary(id: id) else { continue }
            summaries.append(summary)
        }
        if json {
            print(try jsonText(summaries.map(\.json)))
        } else {
            print(summaries.map(\.human).joined(), terminator: "")
        }
    }
}

struct ProgramShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one program by id (bpftool prog show id ID).")

    @Argument(help: "The program's kernel id.") var id: UInt32
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        let summary = try ProgramSummary(id: id)
        print(json ? try jsonText(summary.json) : summary.human, terminator: json ? "\n" : "")
    }
}

struct ProgramDumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Print a program's instructions as the verifier left them (bpftool prog dump xlated).",
        discussion: """
            Map references show the map's id and name: `r1 = map[id:4] ; counts`. With --jited \
            the JIT's machine code is printed as hex bytes, 16 to a line, function by function \
            under each one's kernel symbol (bpf_prog_<tag>_<name>), offsets from its start.
            """)

    @Argument(help: "The program's kernel id.") var id: UInt32
    @Flag(help: "Print the JIT'd machine code instead, as hex.") var jited = false
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        let program = try kernel("cannot open program \(id)") { () throws(BPFError) in try KernelProgram(id: id) }
        defer { program.close() }
        if jited {
            try printJited(program)
            return
        }
        let slots = try kernel("cannot read program \(id)'s instructions") { () throws(BPFError) in
            try program.translatedInstructions()
        }
        var mapNames: [UInt32: String] = [:]
        let lines = ProgramDumpCommand.lines(of: slots) { mapID in
            if let name = mapNames[mapID] { return name }
            let name = (try? Map(id: mapID)).map { map in
                defer { map.close() }
                return map.name
            } ?? ""
            mapNames[mapID] = name
            return name
        }
        if json {
            print(try jsonText(lines.map { ["index": $0.index, "text": $0.text, "raw": hexBytes($0.raw)] as [String: Any] }))
        } else {
            for line in lines { print(String(format: "%4d: ", line.index) + line.text) }
        }
    }

    /// The machine code by function, each under its kernel symbol (`bpf_prog_<tag>_<name>`)
    /// as bpftool lays out `dump jited opcodes`, with offsets from the function's start;
    /// hex only, since there is no x86 disassembler here (bpftool without libbfd prints none).
    func printJited(_ program: KernelProgram) throws {
        let fd = program.fileDescriptor.rawValue
        let code = try kernel("cannot read program \(id)'s machine code") { () throws(BPFError) in try SystemCall.jitedInstructions(fd: fd) }
        var functions = try kernel("cannot read program \(id)'s functions") { () throws(BPFError) in try SystemCall.jitedFunctions(fd: fd) }
        if functions.reduce(0, { $0 + $1.length }) != code.count { functions = [(0, code.count)] }
        let names = SystemCall.kernelSymbols(at: Set(functions.map(\.address)))
        var pieces: [(name: String?, range: Range<Int>)] = []
        var start = 0
        for function in functions {
            pieces.append((names[function.address], start..<start + function.length))
            start += function.length
        }
        if json {
            let rows = pieces.map { piece -> [String: Any] in
                var row: [String: Any] = ["offset": piece.range.lowerBound, "length": piece.range.count]
                if let name = piece.name { row["name"] = name }
                return row
            }
            print(try jsonText(["id": id, "jited": hexBytes(code), "functions": rows] as [String: Any]))
            return
        }
        for piece in pieces {
            if let name = piece.name { print(name + ":") }
            for offset in stride(from: piece.range.lowerBound, to: piece.range.upperBound, by: 16) {
                let line = hexBytes(Array(code[offset..<min(offset + 16, piece.range.upperBound)])).map { String($0.dropFirst(2)) }
                let position = String(offset - piece.range.lowerBound, radix: 16)
                print(String(repeating: " ", count: max(0, 6 - position.count)) + position + ":  " + line.joined(separator: " "))
            }
        }
    }

    struct Line {
        var index: Int
        var text: String
        var raw: [UInt8]
    }

    /// The instructions in kernel syntax; `lddw` of a map (the kernel shows it by id) with
    /// the map's name.
    static func lines(of slots: [RawInstruction], mapName: (UInt32) -> String) -> [Line] {
        var lines: [Line] = []
        var index = 0
        while index < slots.count {
            let slot = slots[index]
            let wide = slot.opcode == 0x18 && index + 1 < slots.count
            var raw: [UInt8] = []
            for part in wide ? [slot, slots[index + 1]] : [slot] { part.append(to: &raw, order: .host) }
            var text: String
            if wide && (slot.src == 1 || slot.src == 2) {
                let mapID = UInt32(bitPattern: slot.imm)
                let name = mapName(mapID)
                text = "r\(slot.dst) = map[id:\(mapID)]"
                if slot.src == 2 { text += "[0]+\(slots[index + 1].imm)" }
                if !name.isEmpty { text += "  ; \(name)" }
            } else if let instruction = try? Instruction(decoding: slots, at: index) {
                text = Disassembler.text(of: instruction, syntax: .kernel)
            } else {
                text = "(raw) " + hexBytes(raw).joined(separator: " ")
            }
            lines.append(Line(index: index, text: text, raw: raw))
            index += wide ? 2 : 1
        }
        return lines
    }
}
