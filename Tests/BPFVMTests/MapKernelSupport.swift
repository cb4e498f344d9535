#if os(Linux)
import BPFLinux
import BPFObject
import BPFVM
import Foundation
import Glibc
import TestPeers
import Testing

/// The kernel as the reference for the userspace maps: runs a test alone among the kernel
/// tests (under `KernelTestLock`) when bpf(2) works, else skips with the reason (or fails under
/// SWIFTBPF_REQUIRE_KERNEL=1), and checks that it left no bpf descriptor open.
enum MapKernel {
    static func run(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) throws {
        guard available(sourceLocation: sourceLocation) else { return }
        try KernelTestLock.run {
            let before = openBPFDescriptors()
            try body()
            #expect(openBPFDescriptors() == before, "bpf descriptors left open", sourceLocation: sourceLocation)
        }
    }

    static func available(sourceLocation: SourceLocation) -> Bool {
        do {
            try KernelTestLock.run { try Map(type: .array, keySize: 4, valueSize: 4, maxEntries: 1).close() }
            return true
        } catch {
            if ProcessInfo.processInfo.environment["SWIFTBPF_REQUIRE_KERNEL"] == "1" {
                Issue.record("bpf(2) is required (SWIFTBPF_REQUIRE_KERNEL=1) but failed: \(error)", sourceLocation: sourceLocation)
            } else {
                print("skipped: bpf(2) is not usable here: \(error)")
            }
            return false
        }
    }

    static func openBPFDescriptors() -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return entries.compactMap { entry -> String? in
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(entry)")) ?? ""
            return target.hasPrefix("anon_inode:bpf") || target == "anon_inode:btf" ? "\(entry)→\(target)" : nil
        }.sorted()
    }

    static func spec(_ type: MapType, key: UInt32, value: UInt32, entries: UInt32, flags: UInt32 = 0, extra: UInt64 = 0,
                     inner: MapSpec? = nil, name: String = "vm_diff") -> MapSpec {
        MapSpec(name: name, sectionName: ".maps", origin: .btf, type: type, keySize: key, valueSize: value,
                maxEntries: entries, flags: flags, mapExtra: extra, innerMap: inner)
    }
}

/// What one operation gave: a result in words, or the errno it failed with.
enum Outcome: Equatable, CustomStringConvertible {
    case result(String)
    case failed(Int32)

    var description: String {
        switch self {
        case .result(let text): return text
        case .failed(let errno): return "errno \(errno)"
        }
    }

    static func of(_ body: () throws -> String) -> Outcome {
        do {
            return .result(try body())
        } catch let error as BPFError {
            return .failed(error.errno)
        } catch let error as MapError {
            return .failed(error.errno)
        } catch {
            return .failed(-1)
        }
    }
}

func hex(_ bytes: [UInt8]?) -> String {
    guard let bytes else { return "nil" }
    return bytes.map { String($0, radix: 16) }.joined(separator: ".")
}
#endif
