// swiftbpf-skeleton: the generator the BPFCompilerPlugin runs at build time. It compiles
// one `.bpf.c` with the clang it is given, reads the object, and writes a Swift "skeleton"
// for it (the object's bytes and typed access to its programs, maps and globals); or it
// writes the support file the skeletons of a target share. It runs clang itself so that
// the object is not a declared output, which SwiftPM would copy into a resource bundle.
// Kept to the standard library, Glibc and BPFObject so that it builds quickly.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BPFObject

let usage = """
    usage: swiftbpf-skeleton SOURCE.bpf.c OUTPUT.swift CLANG [CLANG-OPTIONS...]
             compiles SOURCE with `CLANG CLANG-OPTIONS -c SOURCE -o OUTPUT-FOLDER/NAME.bpf.o`
             and writes its skeleton to OUTPUT.swift
           swiftbpf-skeleton --support OUTPUT.swift
    """

func fail(_ message: String) -> Never {
    let line = Array("swiftbpf-skeleton: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(1)
}

let arguments = Array(CommandLine.arguments.dropFirst())
do {
    if arguments.count == 2 && arguments[0] == "--support" {
        try FileBytes.write(Array(SkeletonSupport.text.utf8), to: arguments[1])
    } else if arguments.count >= 3 {
        let source = arguments[0], output = arguments[1]
        let sourceName = String(source.split(separator: "/").last ?? Substring(source))
        let name = SkeletonNames.objectName(forSource: sourceName)
        let folder = output.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let objectPath = (folder.isEmpty ? "." : folder) + "/\(name).bpf.o"
        try Compiler.run(arguments[2], Array(arguments[3...]) + ["-c", source, "-o", objectPath])
        let bytes = try FileBytes.read(objectPath)
        let object: ObjectFile
        do { object = try ObjectFile(parsing: bytes, name: name) } catch {
            fail("\(objectPath) (compiled from \(source)): \(error)")
        }
        let text = SkeletonWriter(object: object, bytes: bytes, sourceName: sourceName).text()
        try FileBytes.write(Array(text.utf8), to: output)
    } else {
        fail("expected a source, an output and a compiler\n\(usage)")
    }
} catch {
    fail("\(error)")
}
