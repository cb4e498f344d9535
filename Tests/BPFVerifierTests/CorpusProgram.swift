import BPFInstructions
import BPFObject
import BPFVerifier
import Foundation

/// A hand-written program of the corpus: assembly with a header that says what it checks,
/// its program type, the maps it uses (by `map[idx:N]`) and the verdict it must get.
struct CorpusProgram {
    struct MapDefinition {
        var type: MapType
        var keySize: Int, valueSize: Int, maxEntries: Int
    }

    var name: String
    var checks: String
    var type: ProgramType
    var maps: [MapDefinition]
    var expectsAcceptance: Bool
    var program: Program

    var mapInfo: [Int32: MapInfo] {
        var result: [Int32: MapInfo] = [:]
        for (index, map) in maps.enumerated() {
            result[Int32(index)] = MapInfo(name: "map\(index)", type: map.type, keySize: map.keySize, valueSize: map.valueSize,
                                           maxEntries: map.maxEntries)
        }
        return result
    }

    struct FormatError: Error, CustomStringConvertible { var description: String }

    init(url: URL) throws {
        let text = String(decoding: try Data(contentsOf: url), as: UTF8.self)
        name = url.deletingPathExtension().lastPathComponent
        var checks: String?, type: ProgramType?, expect: Bool?, maps: [MapDefinition] = []
        for line in text.split(separator: "\n") where line.hasPrefix("# ") {
            let parts = line.dropFirst(2).split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            switch parts[0] {
            case "Checks": checks = parts[1]
            case "Type": type = ProgramType.allCases.first { $0.kernelName == parts[1] }
            case "Expect": expect = parts[1] == "accept" ? true : parts[1] == "reject" ? false : nil
            case "Maps":
                for definition in parts[1].split(separator: ",") {
                    let fields = definition.split(separator: " ")
                    guard fields.count == 4, let mapType = (UInt32(0)..<40).map(MapType.init(rawValue:)).first(where: { $0.kernelName == fields[0] }),
                          let key = Int(fields[1]), let value = Int(fields[2]), let entries = Int(fields[3]) else {
                        throw FormatError(description: "\(name): bad map definition '\(definition)'")
                    }
                    maps.append(MapDefinition(type: mapType, keySize: key, valueSize: value, maxEntries: entries))
                }
            default: break
            }
        }
        guard let checks, let type, let expect else {
            throw FormatError(description: "\(name): needs '# Checks:', '# Type:' and '# Expect: accept|reject'")
        }
        self.checks = checks
        self.type = type
        self.expectsAcceptance = expect
        self.maps = maps
        program = try Assembler.assemble(text, syntax: .kernel)
    }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/programs")

    static func all() throws -> [CorpusProgram] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".s") }.sorted()
        return try names.map { try CorpusProgram(url: directory.appendingPathComponent($0)) }
    }
}
