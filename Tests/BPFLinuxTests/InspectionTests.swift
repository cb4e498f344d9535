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
}
#endif
