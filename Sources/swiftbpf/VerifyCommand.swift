import ArgumentParser
import BPFInstructions
#if os(Linux)
import BPFLinux
#endif
import BPFObject
import BPFVerifier
import Foundation

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Prove that a program is safe to run, or explain why it is not.",
        discussion: """
            Explores every path of the program as the Linux verifier does: what each register \
            and stack byte holds, the range of every number, which pointers may be NULL and how \
            much of the packet a comparison with data_end has proven. A program passes when no \
            path reads uninitialised registers, touches memory it does not own, calls a helper \
            with the wrong arguments, leaks a ring buffer reservation or a socket reference, \
            ends holding a spin lock or loops forever. An object's BTF says where its maps' \
            values hold spin locks.

            A rejection names the instruction (with its C source line when an object has line \
            info), says what is wrong, lists the facts that matter and the path of branch \
            decisions that leads there. The exit status is 1 when the program is refused.

            FILE is an object file (each program is verified as its section's type, with its \
            maps), raw bytecode, assembly (either syntax) or a conformance-suite .data file. \
            Bytecode and assembly are verified in plain-memory mode (the VM's convention: r1 \
            points at --memory-size bytes, r2 holds that size) unless --type names a program type.

            --log 1 adds the statistics of the analysis; --log 2 also prints the state before \
            every analysed instruction.

            A tracepoint program's context is its tracepoint's record. Name the tracepoint with \
            --tracepoint (its layout is read from tracefs) or give a copy of its format file \
            with --tracepoint-format, and reads past the record's end are refused, as the \
            kernel refuses to attach such a program; without either, any read from offset 8 to \
            8191 passes, as the kernel's verifier lets it.

            Examples:
              swiftbpf verify prog.bpf.o
              swiftbpf verify prog.bpf.o --program handle_exec --log 2
              swiftbpf verify filter.s --type socket_filter --map hash:4:8:16
              swiftbpf verify test.data --json
              swiftbpf verify opensnoop.bpf.o --program trace_openat --tracepoint syscalls/sys_enter_openat
              swiftbpf verify trace.s --type tracepoint --tracepoint-format sys_enter_openat.format
            """)

    @Argument(help: "Object file, bytecode, assembly or .data file ('-' for standard input).") var file: String
    @Option(help: "Program type (\(ProgramKind.supportedTypes.map(\.kernelName).joined(separator: ", ")), or plain).")
    var type: String?
    @Option(help: "Only this program of an object file.") var program: String?
    @Option(help: "Bytes r1 points at in plain-memory mode (default: the .data file's memory, else 0).") var memorySize: Int?
    @Option(name: .customLong("map"), help: ArgumentHelp(
        "A map that bytecode or assembly names as map[idx:N] (N counts these options from 0), as TYPE:KEY:VALUE:ENTRIES.",
        valueName: "type:key:value:entries")) var maps: [String] = []
    @Option(help: ArgumentHelp("The tracepoint a tracepoint program is for; its record's layout comes from tracefs.",
                               valueName: "category/name")) var tracepoint: String?
    @Option(help: ArgumentHelp("A tracepoint's format file (tracefs' events/CATEGORY/NAME/format) for the record's layout.",
                               valueName: "file")) var tracepointFormat: String?
    @Option(name: .customLong("kernel-btf"), help: ArgumentHelp("The kernel's BTF (/sys/kernel/btf/vmlinux) for pointers to kernel structs, such as bpf_get_current_task_btf's; without it such programs are refused.",
                               valueName: "file")) var kernelBTF: String?
    @Option(help: "0: verdict; 1: with statistics; 2: with the state at every instruction.") var log: Int = 0
    @Flag(help: "Print the verdicts as JSON.") var json = false

    func run() throws {
        guard (0...2).contains(log) else { throw ValidationError("--log must be 0, 1 or 2") }
        if let memorySize, memorySize < 0 { throw ValidationError("--memory-size must not be negative") }
        let bytes = try readFile(file)
        var verdicts: [(name: String, kind: ProgramKind, result: Result<VerifiedProgram, Rejection>)] = []
        var options = Verifier.Options(recordsStates: log >= 2)
        options.tracepointFormat = try loadTracepointFormat()
        if let kernelBTF {
            guard let data = FileManager.default.contents(atPath: kernelBTF) else { throw CommandError("\(kernelBTF): cannot read the file") }
            do { options.kernelTypes = KernelTypes(try BTF(parsing: Array(data))) } catch {
                throw CommandError("\(kernelBTF): not BTF: \(error)")
            }
        }
        if bytes.starts(with: [0x7f, 0x45, 0x4c, 0x46]) {
            let object: ObjectFile
            do { object = try ObjectFile(parsing: bytes, name: ObjectFile.defaultName(forPath: file)) } catch {
                throw CommandError("\(file): \(error)")
            }
            var specs = object.programs
            if let program {
                specs = specs.filter { $0.name == program }
                guard !specs.isEmpty else {
                    let names = object.programs.map(\.name).joined(separator: ", ")
                    throw CommandError("\(file): no program named '\(program)' (programs: \(names.isEmpty ? "none" : names))")
                }
            }
            for original in specs {
                // With the kernel's BTF, CO-RE relocations are applied against it, as a loader would.
                var spec = original
                if let kernel = options.kernelTypes?.btf {
                    do { spec = try original.relocatedForCORE(localBTF: object.btf, targetBTF: kernel) } catch {
                        throw CommandError("\(file): \(original.name): CO-RE relocation against --kernel-btf failed: \(error)")
                    }
                }
                let kind = try type.map(parseKind) ?? .kernel(spec.type)
                verdicts.append((spec.name, kind, Result { () throws(Rejection) in
                    try Verifier.verify(spec, maps: object.maps, btf: object.btf, kind: kind, options: options)
                }))
            }
        } else {
            if program != nil { throw CommandError("\(file): --program needs an ELF object file") }
            let input = try ProgramInput.load(path: file, format: .auto, syntax: nil, order: .little)
            let size = memorySize ?? input.testFile?.memory.count ?? 0
            let kind = try type.map(parseKind) ?? .plainMemory(size: size)
            let mapInfo = try parseMaps()
            verdicts.append((file, kind, Result { () throws(Rejection) in
                try Verifier.verify(input.program, as: kind, maps: mapInfo, options: options)
            }))
        }
        if options.tracepointFormat != nil, let other = verdicts.first(where: { $0.kind != .kernel(.tracepoint) }) {
            throw ValidationError("--tracepoint and --tracepoint-format describe a tracepoint program's context, but \(other.name) is verified as \(other.kind)")
        }
        if json {
            print(try jsonText(verdicts.map { jsonObject(name: $0.name, kind: $0.kind, result: $0.result) }))
        } else {
            for (position, verdict) in verdicts.enumerated() {
                if position > 0 { print("") }
                printVerdict(name: verdict.name, kind: verdict.kind, result: verdict.result)
            }
        }
        if verdicts.contains(where: { if case .failure = $0.result { true } else { false } }) { throw ExitCode(1) }
    }

    /// The record layout --tracepoint or --tracepoint-format names, if either does.
    private func loadTracepointFormat() throws -> TracepointFormat? {
        let text: String, source: String
        switch (tracepoint, tracepointFormat) {
        case (nil, nil): return nil
        case (.some, .some): throw ValidationError("give --tracepoint or --tracepoint-format, not both")
        case (nil, let path?):
            guard let data = FileManager.default.contents(atPath: path) else { throw CommandError("\(path): cannot read the file") }
            (text, source) = (String(decoding: data, as: UTF8.self), path)
        case (let target?, nil):
            let parts = target.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw ValidationError("--tracepoint '\(target)' is not CATEGORY/NAME (for example syscalls/sys_enter_openat)")
            }
            #if os(Linux)
            do { text = try Tracefs.tracepointFormat(category: String(parts[0]), name: String(parts[1])) } catch {
                throw CommandError("\(error)")
            }
            source = "tracepoint \(target)"
            #else
            throw CommandError("--tracepoint reads tracefs, which only Linux has; give a copy of the format file with --tracepoint-format")
            #endif
        }
        do { return try TracepointFormat(parsing: text) } catch {
            throw CommandError("\(source): not a tracepoint format: \(error)")
        }
    }

    private func parseMaps() throws -> [Int32: BPFVerifier.MapInfo] {
        var result: [Int32: BPFVerifier.MapInfo] = [:]
        for (index, text) in maps.enumerated() {
            let fields = text.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 4, let key = Int(fields[1]), let value = Int(fields[2]), let entries = Int(fields[3]),
                  key >= 0, value >= 0, entries >= 0 else {
                throw ValidationError("--map '\(text)' is not TYPE:KEY:VALUE:ENTRIES (for example array:4:8:1)")
            }
            guard let type = (UInt32(0)..<64).map(MapType.init(rawValue:)).first(where: { $0.kernelName == fields[0] }) else {
                throw ValidationError("--map '\(text)': unknown map type '\(fields[0])' (for example hash, array, ringbuf)")
            }
            result[Int32(index)] = MapInfo(name: "map\(index)", type: type, keySize: key, valueSize: value, maxEntries: entries)
        }
        return result
    }

    private func parseKind(_ text: String) throws -> ProgramKind {
        if text == "plain" { return .plainMemory(size: memorySize ?? 0) }
        guard let type = ProgramType.allCases.first(where: { $0.kernelName == text }) else {
            throw ValidationError("unknown program type '\(text)'; use one of \(ProgramKind.supportedTypes.map(\.kernelName).joined(separator: ", ")) or plain")
        }
        return .kernel(type)
    }

    private func printVerdict(name: String, kind: ProgramKind, result: Result<VerifiedProgram, Rejection>) {
        switch result {
        case .success(let verified):
            print("\(name) (\(kind)): accepted")
            if log >= 1 { print(statisticsText(verified.statistics)) }
            if log >= 2 {
                for (index, state) in verified.stateLog { print("\(index): \(state)") }
            }
        case .failure(let rejection):
            print("\(name) (\(kind)): refused at \(rejection)")
        }
    }

    private func statisticsText(_ s: VerifierStatistics) -> String {
        "analysed \(s.instructionsAnalysed) instructions, \(s.states) states (peak \(s.peakStates)), "
            + "\(s.prunedPaths) paths pruned, in \(microseconds(s.duration)) µs"
    }

    private func microseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000)
    }

    private func jsonObject(name: String, kind: ProgramKind, result: Result<VerifiedProgram, Rejection>) -> [String: Any] {
        var object: [String: Any] = ["program": name, "kind": kind.description]
        switch result {
        case .success(let verified):
            let s = verified.statistics
            object["accepted"] = true
            object["statistics"] = ["instructions_analysed": s.instructionsAnalysed, "states": s.states, "peak_states": s.peakStates,
                                    "pruned_paths": s.prunedPaths, "microseconds": microseconds(s.duration)]
            if log >= 2 { object["states"] = verified.stateLog.map { ["index": $0.index, "state": $0.state] } }
        case .failure(let r):
            object["accepted"] = false
            var rejection: [String: Any] = ["kind": r.kind.rawValue, "index": r.index, "instruction": r.instruction,
                                            "message": r.message, "facts": r.facts, "path": r.path]
            if let line = r.sourceLine { rejection["source_line"] = line }
            object["rejection"] = rejection
        }
        return object
    }
}
