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

/// One key and its value (or per-CPU values) as bpftool prints them.
func entryJSON(_ map: Map, key: [UInt8], value: [UInt8]) -> [String: Any] {
    guard map.isPerCPU else { return ["key": hexBytes(key), "value": hexBytes(value)] }
    let stride = (map.valueSize + 7) & ~7
    let values = (0..<map.valueCount).map { cpu -> [String: Any] in
        let start = cpu * stride
        return ["cpu": cpu, "value": hexBytes(Array(value[start..<min(start + map.valueSize, value.count)]))]
    }
    return ["key": hexBytes(key), "values": values]
}

func entryText(_ map: Map, key: [UInt8], value: [UInt8]) -> String {
    let keyText = hexBytes(key).map { String($0.dropFirst(2)) }.joined(separator: " ")
    guard map.isPerCPU else {
        return "key: \(keyText)  value: " + hexBytes(value).map { String($0.dropFirst(2)) }.joined(separator: " ")
    }
    let stride = (map.valueSize + 7) & ~7
    var text = "key:\n\(keyText)\n"
    for cpu in 0..<map.valueCount {
        let start = cpu * stride
        let bytes = Array(value[start..<min(start + map.valueSize, value.count)])
        text += "value (CPU \(cpu < 10 ? "0" : "")\(cpu)): " + hexBytes(bytes).map { String($0.dropFirst(2)) }.joined(separator: " ") + "\n"
    }
    return String(text.dropLast())
}

struct MapDumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump", abstract: "Print every key and value of a map (bpftool map dump id ID).")

    @Argument(help: "The map's kernel id.") var id: UInt32
    @Flag(help: "Print the result as JSON.") var json = false

    func run() throws {
        let map = try MapCommand.open(id)
        defer { map.close() }
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
            print(try jsonText(entries.map { entryJSON(map, key: $0.key, value: $0.value) }))
        } else {
            for entry in entries { print(entryText(map, key: entry.key, value: entry.value)) }
            print("Found \(entries.count) element\(entries.count == 1 ? "" : "s")")
        }
    }
}

struct MapLookupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lookup", abstract: "Print the value for one key.")

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
        print(json ? try jsonText(entryJSON(map, key: keyBytes, value: value)) : entryText(map, key: keyBytes, value: value))
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
