#if os(Linux)
@testable import BPFLinux
import BPFObject
import Foundation
import Testing

private typealias K = KernelTests

/// `swiftbpf prog|map|link` against bpftool on the same kernel objects: ids, types, names,
/// tags, sizes, entries, flags and dumped contents agree.
@Suite struct InspectionTests {
    /// The swiftbpf executable, built beside the test bundle.
    static let executable: String = {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        while directory.path != "/" && !FileManager.default.fileExists(atPath: directory.appendingPathComponent("swiftbpf").path) {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("swiftbpf").path
    }()

    static func swiftbpfJSON(_ arguments: [String]) throws -> Any {
        try JSONSerialization.jsonObject(with: try K.runTool(executable, arguments))
    }

    @Test func programsMapsAndLinksAsBpftoolShowsThem() throws {
        try K.run {
            guard FileManager.default.isExecutableFile(atPath: Self.executable), K.bpftool() != nil else { return }
            try K.withPinDirectory { pins in
                let collection = try K.object("collection").load(options: ObjectCollection.Options(pinDirectory: pins))
                defer { collection.close() }
                _ = try collection.program("compute").testRun(context: [])

                for name in collection.programNames {
                    let id = try collection.program(name).id
                    let ours = try #require(try Self.swiftbpfJSON(["prog", "show", "\(id)", "--json"]) as? [String: Any])
                    let theirs = try #require(try K.bpftoolJSON(["prog", "show", "id", "\(id)"]) as? [String: Any])
                    for key in ["id", "type", "name", "tag", "gpl_compatible", "bytes_xlated", "bytes_jited", "map_ids", "btf_id", "uid"] {
                        #expect((ours[key] as? NSObject) == (theirs[key] as? NSObject), "prog \(name) \(key)")
                    }
                }
                let listed = try #require(try Self.swiftbpfJSON(["prog", "list", "--json"]) as? [[String: Any]])
                #expect(Set(collection.programs.values.map(\.id)).isSubset(of: Set(listed.compactMap { $0["id"] as? UInt32 })))

                for name in collection.mapNames {
                    let id = try collection.map(name).id
                    let ours = try #require(try Self.swiftbpfJSON(["map", "show", "\(id)", "--json"]) as? [String: Any])
                    let theirs = try #require(try K.bpftoolJSON(["map", "show", "id", "\(id)"]) as? [String: Any])
                    for key in ["id", "type", "name", "flags", "bytes_key", "bytes_value", "max_entries", "frozen", "btf_id", "bytes_memlock"] {
                        #expect((ours[key] as? NSObject) == (theirs[key] as? NSObject), "map \(name) \(key)")
                    }
                    let type = try collection.map(name).type
                    guard type == .array || type == .hash else { continue }
                    let ourDump = try #require(try Self.swiftbpfJSON(["map", "dump", "\(id)", "--json"]) as? [[String: Any]])
                    let theirDump = try #require(try K.bpftoolJSON(["map", "dump", "id", "\(id)"]) as? [[String: Any]])
                    #expect(ourDump.map { $0["key"] as? [String] } == theirDump.map { $0["key"] as? [String] }, "map \(name) keys")
                    #expect(ourDump.map { $0["value"] as? [String] } == theirDump.map { $0["value"] as? [String] }, "map \(name) values")
                }

                // Update, lookup and delete through the CLI, checked through the map.
                let results = try collection.map("results")
                try K.runTool(Self.executable, ["map", "update", "\(results.id)", "--key", "0x05000000", "--value", "9", "0", "0", "0", "0", "0", "0", "0"])
                #expect(try results.lookup(key: K.bytes(UInt32(5))) == K.bytes(UInt64(9)))
                try K.runTool(Self.executable, ["map", "delete", "\(results.id)", "--key", "5", "0", "0", "0"])
                #expect(try results.lookup(key: K.bytes(UInt32(5))) == nil)

                let ourLinks = try #require(try Self.swiftbpfJSON(["link", "list", "--json"]) as? [[String: Any]])
                let theirLinks = try #require(try K.bpftoolJSON(["link", "list"]) as? [[String: Any]])
                #expect(Set(ourLinks.compactMap { $0["id"] as? Int }) == Set(theirLinks.compactMap { $0["id"] as? Int }))
            }
        }
    }

    // MARK: Entries formatted from BTF

    /// Bytes with `value` stored at `offset`.
    static func put<T: BitwiseCopyable>(_ value: T, at offset: Int, in bytes: inout [UInt8]) {
        withUnsafeBytes(of: value) { bytes.replaceSubrange(offset..<offset + $0.count, with: $0) }
    }

    /// A `struct record` of map_btf.bpf.c (72 bytes; offsets from its BTF).
    static func record(label: [UInt8], color: UInt32, full: Bool) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 72)
        if full {
            put(UInt8(200), at: 0, in: &bytes)
            put(Int8(-5), at: 1, in: &bytes)
            put(UInt16(60000), at: 2, in: &bytes)
            put(Int16(-300), at: 4, in: &bytes)
            put(UInt32(4_000_000_000), at: 8, in: &bytes)
            put(Int32(-70000), at: 12, in: &bytes)
            put(UInt64(1) << 63 | 5, at: 16, in: &bytes)
            put(Int64(-1) << 40, at: 24, in: &bytes)
            put(UInt8(1), at: 32, in: &bytes)
            for (index, count) in [UInt32(1), 2, 3].enumerated() { put(count, at: 40 + 4 * index, in: &bytes) }
            put(Int16(-1), at: 56, in: &bytes)
            put(Int16(2), at: 58, in: &bytes)
            put(UInt32(0x0102_0304), at: 60, in: &bytes)
            // low = 5 (3 bits), middle = -3 (5 bits), high = 123456 (24 bits)
            put(UInt32(5) | UInt32(bitPattern: -3 & 0x1f) << 3 | UInt32(123_456) << 8, at: 64, in: &bytes)
        }
        bytes.replaceSubrange(33..<33 + label.count, with: label)
        put(color, at: 52, in: &bytes)
        return bytes
    }

    /// Without whitespace: bpftool's plain dump lays out arrays oddly; the tokens must agree.
    static func tokens(_ data: Data) -> String {
        String(decoding: data, as: UTF8.self).filter { !$0.isWhitespace }
    }

    /// `map dump` and `map lookup`, human and --json, against bpftool's for the same maps:
    /// ints of every size signed and unsigned, a bool, char arrays that are strings and that
    /// are not (no NUL, a control byte), an int array, enums named and not, a nested struct,
    /// a union, bitfields, a struct key, per-CPU structs and global data sections.
    @Test func entriesFormattedFromBTFAsBpftoolShowsThem() throws {
        try K.run {
            guard FileManager.default.isExecutableFile(atPath: Self.executable), let bpftool = K.bpftool() else { return }
            let collection = try K.object("map_btf").load()
            defer { collection.close() }
            let records = try collection.map("records")
            try records.update(key: K.bytes(UInt32(1)), value: Self.record(label: Array("ab\u{1}c".utf8), color: 7, full: true))
            try records.update(key: K.bytes(UInt32(2)), value: Self.record(label: Array("hello".utf8), color: 5, full: false))
            try records.update(key: K.bytes(UInt32(3)), value: Self.record(label: Array("abcdefg".utf8), color: 1, full: true))
            try records.update(key: K.bytes(UInt32(4)), value: Self.record(label: [], color: .max, full: false))
            try records.update(key: K.bytes(UInt32.max), value: Self.record(label: Array("ab\0cd".utf8), color: 0, full: false))
            let colors = try collection.map("colors")
            try colors.update(key: K.bytes(UInt32(1)), value: K.bytes(UInt32(1)))
            try colors.update(key: K.bytes(UInt32(2)), value: K.bytes(UInt32(9)))
            let perCPU = try collection.map("per_cpu")
            var values = [UInt8](repeating: 0, count: perCPU.valueBufferSize)
            for cpu in 0..<perCPU.valueCount {
                Self.put(UInt32(cpu + 1), at: cpu * 8, in: &values)
                Self.put(UInt16(cpu * 100 + 80), at: cpu * 8 + 4, in: &values)
            }
            try perCPU.update(key: K.bytes(UInt32(1)), value: values)
            try collection.map("by_point").update(key: K.bytes((Int16(-1), Int16(3))), value: K.bytes(UInt64(5)))

            #expect(collection.mapNames.count == 7, "four maps and three data sections: \(collection.mapNames)")
            for name in collection.mapNames {
                let id = try collection.map(name).id
                let ours = try Self.swiftbpfJSON(["map", "dump", "\(id)", "--json"]) as? NSArray
                let theirs = try K.bpftoolJSON(["map", "dump", "id", "\(id)"]) as? NSArray
                #expect(ours != nil && ours == theirs, "map \(name) --json: \(String(describing: ours)) ≠ \(String(describing: theirs))")
                #expect((theirs?.firstObject as? [String: Any])?["formatted"] != nil, "bpftool formats map \(name) from BTF")
                let ourText = Self.tokens(try K.runTool(Self.executable, ["map", "dump", "\(id)"]))
                let theirText = Self.tokens(try K.runTool(bpftool, ["map", "dump", "id", "\(id)"]))
                #expect(ourText == theirText, "map \(name) as text")
            }
            for (name, key) in [("records", ["1", "0", "0", "0"]), ("per_cpu", ["1", "0", "0", "0"]), ("by_point", ["0xff", "0xff", "3", "0"])] {
                let id = try collection.map(name).id
                let ours = try Self.swiftbpfJSON(["map", "lookup", "\(id)", "--key"] + key + ["--json"]) as? NSDictionary
                let theirs = try K.bpftoolJSON(["map", "lookup", "id", "\(id)", "key"] + key) as? NSDictionary
                #expect(ours != nil && ours == theirs, "lookup in \(name)")
                #expect(Self.tokens(try K.runTool(Self.executable, ["map", "lookup", "\(id)", "--key"] + key))
                        == Self.tokens(try K.runTool(bpftool, ["map", "lookup", "id", "\(id)", "key"] + key)), "lookup in \(name) as text")
            }
        }
    }

    /// `prog dump --jited`: the machine code function by function under the kernel's
    /// symbol for each (bpftool here has no disassembler to compare with), the pieces end to
    /// end and together the whole JIT'd image.
    @Test func jitedCodeByFunction() throws {
        try K.run {
            guard FileManager.default.isExecutableFile(atPath: Self.executable) else { return }
            let collection = try K.object("map_btf").load()
            defer { collection.close() }
            let program = try collection.program("touch")
            let code = try SystemCall.jitedInstructions(fd: program.fileDescriptor.rawValue)
            #expect(code.count == program.jitedSize)
            let dump = try #require(try Self.swiftbpfJSON(["prog", "dump", "\(program.id)", "--jited", "--json"]) as? [String: Any])
            #expect(dump["jited"] as? [String] == code.map { "0x" + ($0 < 16 ? "0" : "") + String($0, radix: 16) })
            let functions = try #require(dump["functions"] as? [[String: Any]])
            #expect(functions.count == 2, "touch and its subprogram: \(functions)")
            #expect(functions.first?["name"] as? String == "bpf_prog_\(program.tagText)_touch")
            #expect((functions.last?["name"] as? String)?.hasSuffix("_verdict_for") == true, "\(functions)")
            #expect(functions.map { $0["offset"] as? Int } == [0, functions.first?["length"] as? Int])
            #expect(functions.compactMap { $0["length"] as? Int }.reduce(0, +) == code.count)

            let text = String(decoding: try K.runTool(Self.executable, ["prog", "dump", "\(program.id)", "--jited"]), as: UTF8.self)
            let lines = text.split(separator: "\n")
            #expect(lines.first == "bpf_prog_\(program.tagText)_touch:")
            #expect(lines.filter { $0.hasSuffix(":") }.count == 2)
            let bytes = lines.filter { !$0.hasSuffix(":") }.flatMap { $0.split(separator: ":", maxSplits: 1).last?.split(separator: " ") ?? [] }
            #expect(bytes.compactMap { UInt8($0, radix: 16) } == code)
        }
    }

    /// Formatting takes any bytes: too few for the type, or types with no value, are errors
    /// that say where; random bytes of every length never trap.
    @Test func formattingFromBTFChecksTheBytes() throws {
        let btf = try #require(try K.object("map_btf").btf)
        let record = try #require(btf.ids(named: "record", kind: .struct).first)
        #expect(throws: BTFError.self) { try btf.formatted([UInt8](repeating: 0, count: 71), as: record) }
        #expect(throws: BTFError.self) { try btf.formatted([], as: BTFTypeID(btf.count + 5)) }
        let short = #expect(throws: BTFError.self) { try btf.formatted([1, 2], as: record) }
        #expect(short?.description.contains("truncated") == true, "\(String(describing: short))")
        var generator = SystemRandomNumberGenerator()
        for id in btf.ownIDs {
            for length in [0, 1, 3, 8, 72, 300] {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                _ = try? btf.formatted(bytes, as: id)
            }
        }
        let value = try btf.formatted(Self.record(label: Array("hi".utf8), color: 1, full: true), as: record)
        guard case .object(let members) = value else {
            Issue.record("a struct formats as an object: \(value)")
            return
        }
        #expect(members.map(\.name).prefix(3) == ["u8", "s8", "u16"])
        #expect(members.first { $0.name == "label" }?.value == .scalar(json: "\"hi\"", plain: "\"hi\""))
        #expect(members.first { $0.name == "middle" }?.value == .scalar(json: "\"0x1d\"", plain: "0x1d"))
    }
}
#endif
