#if os(Linux)
import BPFInstructions
import BPFLinux
import BPFObject
import Foundation
import Glibc
import Testing

/// Pins in bpffs, and maps read and written through memory.
@Suite struct MapPinningTests {
    typealias K = KernelTests

    @Test func pinOpenAndUnpin() throws {
        try K.run {
            try K.withPinDirectory { directory in
                let map = try Map(type: .hash, keySize: 4, valueSize: 4, maxEntries: 8, name: "pinned")
                defer { map.close() }
                try map.update(key: K.bytes(UInt32(1)), value: K.bytes(UInt32(11)))
                let path = directory + "/nested/deeper/pinned"
                try map.pin(at: path)
                #expect(BPFFileSystem.contains(path))

                let opened = try Map(pinnedAt: path)
                defer { opened.close() }
                #expect(opened.id == map.id)
                #expect(opened.name == "pinned" && opened.type == .hash)
                #expect(try opened.lookup(key: K.bytes(UInt32(1))) == K.bytes(UInt32(11)))

                // Read-only opening refuses writes.
                let readOnly = try Map(pinnedAt: path, flags: .readOnly)
                defer { readOnly.close() }
                let write = #expect(throws: BPFError.self) { try readOnly.update(key: K.bytes(UInt32(2)), value: K.bytes(UInt32(2))) }
                #expect(write?.errno == EPERM)

                if let shown = try K.bpftoolJSON(["map", "show", "pinned", path]) as? [String: Any] {
                    #expect(shown["id"] as? Int == Int(map.id))
                }

                let twice = #expect(throws: BPFError.self) { try map.pin(at: path) }
                #expect(twice?.errno == EEXIST)
                #expect(twice?.description.contains("already pinned") == true)

                // A program pinned there is not a map.
                let program = try KernelProgram(Assembler.assemble("r0 = 0\nexit", syntax: .kernel), type: .socketFilter, name: "pinned_prog")
                defer { program.close() }
                try program.pin(at: directory + "/program")
                let notAMap = #expect(throws: BPFError.self) { try Map(pinnedAt: directory + "/program") }
                #expect(notAMap?.detail?.contains("is a program, not a map") == true)
                let reopened = try KernelProgram(pinnedAt: directory + "/program")
                #expect(reopened.id == program.id)
                reopened.close()
                try BPFFileSystem.unpin(directory + "/program")

                try BPFFileSystem.unpin(path)
                let gone = #expect(throws: BPFError.self) { try Map(pinnedAt: path) }
                #expect(gone?.errno == ENOENT)
                #expect(gone?.description.contains("nothing is pinned at this path") == true)
            }
        }
    }

    @Test func pinningByNameReusesAMatchingMap() throws {
        try K.run {
            try K.withPinDirectory { directory in
                let spec = MapSpec(name: "shared_counts", sectionName: ".maps", origin: .btf, type: .hash,
                                   keySize: 4, valueSize: 8, maxEntries: 16, pinning: .byName)
                let first = try Map.pinnedOrCreated(spec: spec, directory: directory)
                defer { first.close() }
                try first.update(key: K.bytes(UInt32(1)), value: K.bytes(UInt64(7)))
                let second = try Map.pinnedOrCreated(spec: spec, directory: directory)
                defer { second.close() }
                #expect(second.id == first.id)
                #expect(try second.lookup(key: K.bytes(UInt32(1))) == K.bytes(UInt64(7)))
                var different = spec
                different.maxEntries = 32
                let mismatch = #expect(throws: BPFError.self) { try Map.pinnedOrCreated(spec: different, directory: directory) }
                #expect(mismatch?.detail?.contains("does not match the declaration of 'shared_counts'") == true)
            }
        }
    }

    @Test func pinOutsideBPFFileSystemSaysWhy() throws {
        try K.run {
            let map = try Map(type: .array, keySize: 4, valueSize: 4, maxEntries: 1)
            defer { map.close() }
            let error = #expect(throws: BPFError.self) { try map.pin(at: "/tmp/swiftbpf-not-bpffs-\(getpid())") }
            #expect(error?.detail?.contains("not in a bpf filesystem") == true)
            let directory = #expect(throws: BPFError.self) { try map.pin(at: "/tmp/swiftbpf-\(getpid())-missing/sub/map") }
            #expect(directory?.detail?.contains("is not in a bpf filesystem") == true)
            #expect(!FileManager.default.fileExists(atPath: "/tmp/swiftbpf-\(getpid())-missing"))
        }
    }

    @Test func memoryMappedArrayIsTheMapItself() throws {
        try K.run {
            let map = try Map(type: .array, keySize: 4, valueSize: 12, maxEntries: 10, flags: .mmapable, name: "mapped")
            defer { map.close() }
            #expect(map.elementStride == 16)
            let memory = try map.memoryMap()
            #expect(memory.count == 160)
            try memory.store(UInt64(0xfeed), at: 3 * 16)
            try memory.store(UInt32(7), at: 3 * 16 + 8)
            #expect(try map.lookup(key: K.bytes(UInt32(3))) == K.bytes(UInt64(0xfeed)) + K.bytes(UInt32(7)))
            try map.update(key: K.bytes(UInt32(9)), value: [UInt8](repeating: 0xab, count: 12))
            #expect(try memory.bytes(at: 9 * 16, count: 12) == [UInt8](repeating: 0xab, count: 12))
            #expect(try memory.load(UInt32.self, at: 9 * 16 + 8) == 0xabab_abab)

            let outside = #expect(throws: BPFError.self) { try memory.load(UInt64.self, at: 156) }
            #expect(outside?.errno == ERANGE)
            #expect(outside?.detail == "bytes 156..<164 are outside the 160-byte mapping")
            #expect(throws: BPFError.self) { try memory.write([1], at: -1) }

            // Writable mappings keep the map from being frozen; read-only ones do not.
            let busy = #expect(throws: BPFError.self) { try map.freeze() }
            #expect(busy?.errno == EBUSY)
            memory.close()
            let closed = #expect(throws: BPFError.self) { try memory.load(UInt8.self, at: 0) }
            #expect(closed?.errno == EBADF)
            try map.freeze()
            let writable = #expect(throws: BPFError.self) { try map.memoryMap() }
            #expect(writable?.errno == EPERM)
            let readOnly = try map.memoryMap(writable: false)
            defer { readOnly.close() }
            #expect(try readOnly.load(UInt64.self, at: 48) == 0xfeed)
            let refused = #expect(throws: BPFError.self) { try readOnly.store(UInt8(1), at: 0) }
            #expect(refused?.errno == EACCES)

            let plain = try Map(type: .array, keySize: 4, valueSize: 4, maxEntries: 1)
            defer { plain.close() }
            let notMappable = #expect(throws: BPFError.self) { try plain.memoryMap() }
            #expect(notMappable?.detail?.contains("BPF_F_MMAPABLE") == true)
        }
    }
}
#endif
