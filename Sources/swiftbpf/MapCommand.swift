import ArgumentParser
import BPFLinux
import BPFObject
import Foundation

struct MapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "map",
        abstract: "Inspect and change the maps in the kernel, as bpftool map does.",
        discussion: """
            Maps are named by their kernel id (the first number `swiftbpf map list` prints). Keys \
            and values are bytes, written as bpftool writes them: 0x01 0x00 0x00 0x00, or one run \
            such as 0x01000000, or decimal bytes (1 0 0 0). Per-CPU maps take and show one value \
            per possible CPU. Needs root (or CAP_BPF and CAP_SYS_ADMIN).

            Examples:
              swiftbpf map list
              swiftbpf map show 7 --json
              swiftbpf map dump 7
              swiftbpf map lookup 7 --key 0x01 0x00 0x00 0x00
              swiftbpf map update 7 --key 0x01000000 --value 0x2a00000000000000
              swiftbpf map delete 7 --key 1 0 0 0
            """,
        subcommands: [MapListCommand.self, MapShowCommand.self, MapDumpCommand.self, MapLookupCommand.self,
                      MapUpdateCommand.self, MapDeleteCommand.self])

    static func open(_ id: UInt32) throws -> Map {
        try kernel("cannot open map \(id)") { () throws(BPFError) in try Map(id: id) }
    }
}

/// What `map list` and `map show` print for one map.
struct MapSummary {
    var info: MapInfo
    var memlock: Int?
    var frozen: Bool

    init(id: UInt32) throws {
        let map = try MapCommand.open(id)
        defer { map.close() }
        info = try kernel("cannot read map \(id)") { () throws(BPFError) in try SystemCall.mapInfo(fd: map.fileDescriptor.rawValue) }
        let fields = fdInfo(map.fileDescriptor)
        memlock = fields["memlock"].flatMap { Int($0) }
        frozen = fields["frozen"] == "1"
    }

    var human: String {
        var text = "\(info.id): \(info.type.kernelName)  "
        if !info.name.isEmpty { text += "name \(info.name)  " }
        text += "flags 0x\(String(info.flags, radix: 16))\n"
        text += "\tkey \(info.keySize)B  value \(info.valueSize)B  max_entries \(info.maxEntries)"
        if let memlock { text += "  memlock \(memlock)B" }
        var extras: [String] = []
        if info.btfID != 0 { extras.append("btf_id \(info.btfID)") }
        if frozen { extras.append("frozen") }
        if !extras.isEmpty { text += "\n\t" + extras.joined(separator: "  ") }
        return text + "\n"
    }

    var json: [String: Any] {
        var object: [String: Any] = [
            "id": info.id, "type": info.type.kernelName, "flags": info.flags, "bytes_key": info.keySize,
            "bytes_value": info.valueSize, "max_entries": info.maxEntries,
        ]
        if !info.name.isEmpty { object["name"] = info.name }
        if let memlock { object["bytes_memlock"] = memlock }
        object["frozen"] = frozen ? 1 : 0   // bpftool always prints it
        if info.btfID != 0 { object["btf_id"] = info.btfID }
        return object
    }
}

struct MapListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List every map (bpftool map list).")

    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        let summaries = try kernelIDs(.map).compactMap { try? MapSummary(id: $0) }
        print(json ? try jsonText(summaries.map(\.json)) : summaries.map(\.human).joined(), terminator: json ? "\n" : "")
    }
}

struct MapShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one map by id (bpftool map show id ID).")

    @Argument(help: "The map's kernel id.") var id: UInt32
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        let summary = try MapSummary(id: id)
        print(json ? try jsonText(summary.json) : summary.human, terminator: json ? "\n" : "")
    }
}

/// How `map dump` and `map lookup` show entries: raw bytes as bpftool does without BTF,
/// and also read through the map's BTF key and value types when it has them.
struct EntryPrinter {
    let map: Map
    let btf: BTF?
    let keyType: BTFTypeID
    let valueType: BTFTypeID

    init(_ map: Map) throws {
        self.map = map
        let info = try kernel("cannot read map \(map.id)") { () throws(BPFError) in try SystemCall.mapInfo(fd: map.fileDescriptor.rawValue) }
        keyType = info.btfKeyTypeID
        valueType = info.btfValueTypeID
        guard info.btfID != 0, info.btfValueTypeID != 0 else {
            btf = nil
            return
        }
        let kernelBTF = try kernelBTFBytes(id: info.btfID)
        let base = kernelBTF.isModule ? try kernel("cannot read the kernel's BTF") { () throws(BPFError) in try KernelBTF.vmlinux() } : nil
        do { btf = try BTF(parsing: kernelBTF.bytes, base: base) } catch {
            throw CommandError("map \(map.id): its BTF (id \(info.btfID)) does not parse: \(error)")
        }
    }

    /// bpftool's `formatted` part: key (absent when the key has no BTF type, as for global
    /// data) and value, or per-CPU values.
    func formatted(key: [UInt8], value: [UInt8]) throws -> BTFFormattedValue? {
        guard let btf else { return nil }
        func read(_ bytes: [UInt8], _ type: BTFTypeID, _ what: String) throws -> BTFFormattedValue {
            do { return try btf.formatted(bytes, as: type) } catch {
                throw CommandError("map \(map.id): the \(what) does not read as its BTF type [\(type)]: \(error)")
            }
        }
        var members: [BTFFormattedMember] = []
        if keyType != 0 { members.append(BTFFormattedMember(name: "key", value: try read(key, keyType, "key"))) }
        if map.isPerCPU {
            let values = try perCPU(value).enumerated().map { cpu, bytes in
                BTFFormattedValue.object([BTFFormattedMember(name: "cpu", value: .scalar(json: "\(cpu)", plain: "\(cpu)")),
                                          BTFFormattedMember(name: "value", value: try read(bytes, valueType, "value of CPU \(cpu)"))])
            }
            members.append(BTFFormattedMember(name: "values", value: .array(values)))
        } else {
            members.append(BTFFormattedMember(name: "value", value: try read(value, valueType, "value")))
        }
        return .object(members)
    }

    /// Each possible CPU's value, without the kernel's padding to 8 bytes.
    func perCPU(_ value: [UInt8]) -> [[UInt8]] {
        let stride = (map.valueSize + 7) & ~7
        return (0..<map.valueCount).map { cpu in
            let start = min(cpu * stride, value.count)
            return Array(value[start..<min(start + map.valueSize, value.count)])
        }
    }

    /// One entry as `bpftool -j` prints it: raw bytes, and `formatted` when there is BTF.
    func json(key: [UInt8], value: [UInt8]) throws -> String {
        func list(_ bytes: [UInt8]) -> String { "[" + hexBytes(bytes).map { "\"\($0)\"" }.joined(separator: ",") + "]" }
        var text = "{\"key\":\(list(key)),"
        if map.isPerCPU {
            text += "\"values\":[" + perCPU(value).enumerated().map { "{\"cpu\":\($0),\"value\":\(list($1))}" }.joined(separator: ",") + "]"
        } else {
            text += "\"value\":\(list(value))"
        }
        if let formatted = try formatted(key: key, value: value) { text += ",\"formatted\":" + formatted.jsonText }
        return text + "}"
    }

    /// One entry as bpftool prints it for people: the formatted object when there is BTF,
    /// hex bytes otherwise.
    func text(key: [UInt8], value: [UInt8], indent: Int = 0) throws -> String {
        if let formatted = try formatted(key: key, value: value) { return formatted.plainText(indent: indent) }
        let keyText = hexBytes(key).map { String($0.dropFirst(2)) }.joined(separator: " ")
        guard map.isPerCPU else {
            return "key: \(keyText)  value: " + hexBytes(value).map { String($0.dropFirst(2)) }.joined(separator: " ")
        }
        var text = "key:\n\(keyText)\n"
        for (cpu, bytes) in perCPU(value).enumerated() {
            text += "value (CPU \(cpu < 10 ? "0" : "")\(cpu)): " + hexBytes(bytes).map { String($0.dropFirst(2)) }.joined(separator: " ") + "\n"
        }
        return String(text.dropLast())
    }
}

struct MapDumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump", abstract: "Print every key and value of a map (bpftool map dump id ID).",
        discussion: """
            When the map has BTF (maps from objects built with -g), keys and values are shown \
            through their C types: numbers, enum names, structs, strings, bitfields in hex; \
            --json then gives each entry's raw bytes and a "formatted" part, as bpftool -j does.
            """)

    @Argument(help: "The map's kernel id.") var id: UInt32
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        let map = try MapCommand.open(id)
        defer { map.close() }
        let printer = try EntryPrinter(map)
        var entries: [(key: [UInt8], value: [UInt8])] = []
        var key: [UInt8]? = nil
        while let next = try kernel("cannot iterate map \(id)", { () throws(BPFError) in try map.nextKey(after: key) }) {
            // A key deleted between the two calls is skipped.
            if let value = try kernel("cannot read map \(id)", { () throws(BPFError) in try map.lookup(key: next) }) {
                entries.append((next, value))
            }
            key = next
            if entries.count > 1 << 24 { break }
        }
        if json {
            print("[" + (try entries.map { try printer.json(key: $0.key, value: $0.value) }).joined(separator: ",") + "]")
        } else if printer.btf != nil {
            let objects = try entries.map { "    " + (try printer.text(key: $0.key, value: $0.value, indent: 4)) }
            print(objects.isEmpty ? "[]" : "[\n" + objects.joined(separator: ",\n") + "\n]")
        } else {
            for entry in entries { print(try printer.text(key: entry.key, value: entry.value)) }
            print("Found \(entries.count) element\(entries.count == 1 ? "" : "s")")
        }
    }
}

struct MapLookupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lookup", abstract: "Print the value for one key (formatted from BTF as in map dump).")

    @Argument(help: "The map's kernel id.") var id: UInt32
    @Option(parsing: .upToNextOption, help: "The key's bytes.") var key: [String]
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        let map = try MapCommand.open(id)
        defer { map.close() }
        let keyBytes = try parseBytes(key, expected: map.keySize, what: "the key")
        guard let value = try kernel("cannot look up the key in map \(id)", { () throws(BPFError) in try map.lookup(key: keyBytes) }) else {
            throw CommandError("map \(id) has no entry for key \(hexBytes(keyBytes).joined(separator: " "))")
        }
        let printer = try EntryPrinter(map)
        print(json ? try printer.json(key: keyBytes, value: value) : try printer.text(key: keyBytes, value: value))
    }
}

struct MapUpdateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update", abstract: "Create or replace the value for one key.",
        discussion: "For per-CPU maps the value is every CPU's, each padded to 8 bytes.")

    @Argument(help: "The map's kernel id.") var id: UInt32
    @Option(parsing: .upToNextOption, help: "The key's bytes.") var key: [String]
    @Option(parsing: .upToNextOption, help: "The value's bytes.") var value: [String]
    @Flag(help: "Only create: fail if the key exists.") var noexist = false
    @Flag(help: "Only replace: fail if the key does not exist.") var exist = false

    func run() throws {
        let map = try MapCommand.open(id)
        defer { map.close() }
        let keyBytes = try parseBytes(key, expected: map.keySize, what: "the key")
        let valueBytes = try parseBytes(value, expected: map.valueBufferSize, what: "the value")
        let flags: Map.ElementFlags = noexist ? .noExist : exist ? .exist : .any
        try kernel("cannot update map \(id)") { () throws(BPFError) in try map.update(key: keyBytes, value: valueBytes, flags: flags) }
    }
}

struct MapDeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete one key.")

    @Argument(help: "The map's kernel id.") var id: UInt32
    @Option(parsing: .upToNextOption, help: "The key's bytes.") var key: [String]

    func run() throws {
        let map = try MapCommand.open(id)
        defer { map.close() }
        let keyBytes = try parseBytes(key, expected: map.keySize, what: "the key")
        let deleted = try kernel("cannot delete from map \(id)") { () throws(BPFError) in try map.delete(key: keyBytes) }
        if !deleted { throw CommandError("map \(id) has no entry for key \(hexBytes(keyBytes).joined(separator: " "))") }
    }
}
