import BPFInstructions
import BPFObject
import Foundation
import TestPeers
import Synchronization

/// The object-file fixtures (`Fixtures/*.bpf.c`), compiled with the toolchain's clang into
/// a temporary directory once per fixture and target, and the llvm-objdump peer.
enum ObjectFixtures {
    static let clang = "/opt/swift/usr/bin/clang"
    static let objdump = "/opt/swift/usr/bin/llvm-objdump"
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let names = ["maps", "globals", "subprograms", "core", "externs", "legacy", "sections"]

    static var clangAvailable: Bool { FileManager.default.isExecutableFile(atPath: clang) }
    static var objdumpAvailable: Bool { FileManager.default.isExecutableFile(atPath: objdump) }

    struct Compiled: Sendable {
        var path: String
        var bytes: [UInt8]
    }

    private static let cache = Mutex<[String: Compiled]>([:])
    private static let outputDirectory: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-objects-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    /// `Fixtures/<name>.bpf.c` built with `clang -target <target> -O2 -g -c`.
    static func compile(_ name: String, target: String = "bpfel") throws -> Compiled {
        let key = "\(name)-\(target)"
        if let cached = cache.withLock({ $0[key] }) { return cached }
        let source = directory.appendingPathComponent("\(name).bpf.c").path
        let output = outputDirectory.appendingPathComponent("\(key).o").path
        try run(clang, ["-target", target, "-O2", "-g", "-c", source, "-o", output])
        let compiled = Compiled(path: output, bytes: Array(try Data(contentsOf: URL(fileURLWithPath: output))))
        cache.withLock { $0[key] = compiled }
        return compiled
    }

    /// C source given inline (for objects that must fail), built like the fixtures, with
    /// the fixtures' header on the include path.
    static func compile(source: String, named name: String) throws -> [UInt8] {
        let sourceURL = outputDirectory.appendingPathComponent("\(name).bpf.c")
        try source.write(to: sourceURL, atomically: true, encoding: .utf8)
        let output = outputDirectory.appendingPathComponent("\(name).o").path
        try run(clang, ["-target", "bpfel", "-O2", "-g", "-I", directory.path, "-c", sourceURL.path, "-o", output])
        return Array(try Data(contentsOf: URL(fileURLWithPath: output)))
    }

    /// The fixture parsed as an object named after it.
    static func object(_ name: String, target: String = "bpfel") throws -> ObjectFile {
        try ObjectFile(parsing: try compile(name, target: target).bytes, name: name)
    }

    struct ProcessFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs a tool and returns its standard output; throws with its standard error on failure.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        String(decoding: try Subprocess.output(executable, arguments), as: UTF8.self)
    }
}

extension ObjectFile {
    /// The map's index by name (kernel name, or section name for global data).
    func mapIndex(_ name: String) -> Int? {
        maps.firstIndex { $0.name == name || ($0.origin == .globalData && $0.sectionName == name) }
    }
}

extension ProgramSpec {
    func function(named name: String) -> Function? { functions.first { $0.name == name } }

    /// The relocation at slot `index`, if any.
    func relocation(at index: Int) -> ProgramRelocation.Target? {
        relocations.first { $0.instruction == index }?.target
    }
}
