import ArgumentParser
import BPFLinux
import BPFObject
import Foundation

struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Load a whole BPF object into the kernel (bpftool prog loadall).",
        discussion: """
            Creates the object's maps (global data with its contents, .rodata frozen, maps \
            declared with LIBBPF_PIN_BY_NAME reused from --pin-maps), applies CO-RE \
            relocations against the running kernel, resolves .kconfig and __ksym externs, and \
            loads every program whose section does not start with '?'.

            Without --pin everything is released when the command ends, so the load is a check \
            that the object passes the verifier. With --pin DIR each program and map is pinned \
            at DIR/<name> in bpffs (mounted at /sys/fs/bpf if needed; '.' in names becomes '_'), \
            where it stays until removed (rm -r DIR).

            Examples:
              swiftbpf load prog.bpf.o
              swiftbpf load prog.bpf.o --pin /sys/fs/bpf/myprog
              swiftbpf load prog.bpf.o --type handler=xdp --program handler
              swiftbpf load prog.bpf.o --set max_depth=0x10000000 --json
            """)

    @Argument(help: "BPF object file.") var file: String
    @Option(help: "Pin programs and maps under this bpffs directory.") var pin: String?
    @Option(help: "Directory where LIBBPF_PIN_BY_NAME maps are found and pinned.") var pinMaps = BPFFileSystem.defaultRoot
    @Option(name: .customLong("type"), parsing: .singleValue,
            help: "PROGRAM=TYPE: load PROGRAM as this program type (e.g. xdp, kprobe), or TYPE for every program.")
    var types: [String] = []
    @Option(name: .customLong("program"), parsing: .singleValue, help: "Load only these programs (repeatable).")
    var programs: [String] = []
    @Option(name: .customLong("set"), parsing: .singleValue,
            help: "NAME=BYTES: a global variable's initial bytes (hex, little-endian as stored), e.g. debug=0x01.")
    var constants: [String] = []
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        let object = try loadObject(file)
        var options = ObjectCollection.Options(pinDirectory: pinMaps)
        if !programs.isEmpty { options.programs = Set(programs) }
        for entry in types {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            let typeName = parts.last ?? ""
            guard let type = ProgramType.allCases.first(where: { $0.kernelName == typeName }) else {
                throw CommandError("--type \(entry): unknown program type '\(typeName)'; known: \(ProgramType.allCases.map(\.kernelName).joined(separator: ", "))")
            }
            let names = parts.count == 2 ? [parts[0]] : object.programs.map(\.name)
            for name in names { options.programTypes[name] = type }
        }
        for entry in constants {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let global = object.global(named: parts[0]) else {
                throw CommandError("--set \(entry): give NAME=BYTES with NAME a global variable of the object")
            }
            options.constants[parts[0]] = try parseBytes(parts[1].split(separator: " ").map(String.init),
                                                         expected: global.size, what: "--set \(parts[0])")
        }
        let collection: ObjectCollection
        do { collection = try object.load(options: options) } catch {
            throw commandError(error, "\(file): cannot load \(error.subject ?? "the object")")
        }
        defer { collection.close() }
        var pinned: [String] = []
        if let pin {
            pinned = try kernel("cannot pin under \(pin)") { () throws(BPFError) in try collection.pin(directory: pin) }
        }
        let programRows: [[String: Any]] = collection.programNames.compactMap { name in
            guard let program = collection.programs[name] else { return nil }
            return ["name": name, "id": program.id, "type": program.type?.kernelName ?? "?", "tag": program.tagText]
        }
        let mapRows: [[String: Any]] = collection.mapNames.compactMap { name in
            guard let map = collection.maps[name] else { return nil }
            var row: [String: Any] = ["name": name, "id": map.id, "type": map.type.kernelName]
            if let path = collection.pinnedMaps[name] { row["pinned"] = path }
            return row
        }
        if json {
            print(try jsonText(["programs": programRows, "maps": mapRows, "pinned": pinned]))
            return
        }
        print("\(file): loaded \(programRows.count) program\(programRows.count == 1 ? "" : "s") and \(mapRows.count) map\(mapRows.count == 1 ? "" : "s")")
        for row in programRows { print("  prog \(row["id"] ?? 0): \(row["type"] ?? "")  name \(row["name"] ?? "")  tag \(row["tag"] ?? "")") }
        for row in mapRows {
            print("  map \(row["id"] ?? 0): \(row["type"] ?? "")  name \(row["name"] ?? "")" + ((row["pinned"] as? String).map { "  pinned \($0)" } ?? ""))
        }
        if pin != nil { print("pinned \(pinned.count) objects under \(pin ?? "")") } else { print("(released on exit: use --pin DIR to keep them)") }
    }
}
