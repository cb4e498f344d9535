#if os(Linux)
import BPFLinux
import BPFObject
import Foundation
import Glibc
import Testing

/// Every map type the running kernel has, created from parameters and checked against the
/// kernel's own account and bpftool's.
@Suite struct MapTypeTests {
    struct Case: CustomStringConvertible {
        var type: MapType
        var keySize = 4
        var valueSize = 8
        var maxEntries = 4
        var flags: Map.Flags = []
        var needsInnerMap = false
        var needsBTF = false
        var mapExtra: UInt64 = 0
        var description: String { type.kernelName }
    }

    static let cases: [Case] = [
        Case(type: .hash),
        Case(type: .array),
        Case(type: .programArray, valueSize: 4),
        Case(type: .perfEventArray, valueSize: 4),
        Case(type: .perCPUHash),
        Case(type: .perCPUArray),
        Case(type: .stackTrace, valueSize: 8 * 16),
        Case(type: .cgroupArray, valueSize: 4),
        Case(type: .lruHash),
        Case(type: .lruPerCPUHash),
        Case(type: .longestPrefixMatchTrie, keySize: 8, flags: .noPreallocation),
        Case(type: .arrayOfMaps, valueSize: 4, needsInnerMap: true),
        Case(type: .hashOfMaps, valueSize: 4, needsInnerMap: true),
        Case(type: .deviceMap, valueSize: 4),
        Case(type: .socketMap, valueSize: 4),
        Case(type: .cpuMap, valueSize: 4, maxEntries: 2),
        Case(type: .xdpSocketMap, valueSize: 4),
        Case(type: .socketHash, valueSize: 4),
        Case(type: .cgroupStorage, keySize: 16, maxEntries: 0),
        Case(type: .reuseportSocketArray, valueSize: 8),
        Case(type: .perCPUCgroupStorage, keySize: 16, maxEntries: 0),
        Case(type: .queue, keySize: 0),
        Case(type: .stack, keySize: 0),
        Case(type: .socketStorage, maxEntries: 0, flags: .noPreallocation, needsBTF: true),
        Case(type: .deviceMapHash, valueSize: 4),
        Case(type: .ringBuffer, keySize: 0, valueSize: 0, maxEntries: 4096 * 4),
        Case(type: .inodeStorage, maxEntries: 0, flags: .noPreallocation, needsBTF: true),
        Case(type: .taskStorage, maxEntries: 0, flags: .noPreallocation, needsBTF: true),
        Case(type: .bloomFilter, keySize: 0, mapExtra: 3),
        Case(type: .userRingBuffer, keySize: 0, valueSize: 0, maxEntries: 4096 * 4),
        Case(type: .cgroupStorageByID, maxEntries: 0, flags: .noPreallocation, needsBTF: true),
        Case(type: .arena, keySize: 0, valueSize: 0, maxEntries: 4, flags: .mmapable),
    ]

    @Test func createsEveryMapTypeOfTheKernel() throws {
        try KernelTests.run {
            let btf = try LoadedBTF(bytes: KernelTests.integerBTF())
            defer { btf.close() }
            let inner = try Map(type: .array, keySize: 4, valueSize: 4, maxEntries: 2, name: "inner")
            defer { inner.close() }
            var created: [(Case, Map)] = []
            defer { for (_, map) in created { map.close() } }
            for item in Self.cases {
                var attributes = SystemCall.MapAttributes(
                    type: item.type, keySize: UInt32(item.keySize), valueSize: UInt32(item.valueSize),
                    maxEntries: UInt32(item.maxEntries), flags: item.flags.rawValue, name: "t_\(item.type.kernelName)",
                    innerMapFD: item.needsInnerMap ? inner.fileDescriptor.rawValue : nil, mapExtra: item.mapExtra)
                if item.needsBTF {
                    attributes.btfFD = btf.fileDescriptor.rawValue
                    attributes.btfKeyTypeID = 1
                    attributes.btfValueTypeID = 2
                }
                do {
                    let map = try Map(attributes)
                    created.append((item, map))
                } catch {
                    Issue.record("\(item.type.kernelName): \(error)")
                }
            }
            #expect(created.count == Self.cases.count)
            for (item, map) in created {
                #expect(map.type == item.type)
                #expect(map.keySize == item.keySize, "\(item)")
                #expect(map.valueSize == item.valueSize, "\(item)")
                #expect(map.name == String("t_\(item.type.kernelName)".prefix(15)))
                #expect(map.id > 0)
                #expect(map.isPerCPU == [.perCPUHash, .perCPUArray, .lruPerCPUHash, .perCPUCgroupStorage].contains(item.type))
                let reopened = try Map(id: map.id)
                #expect(reopened.type == map.type && reopened.maxEntries == map.maxEntries && reopened.flags == map.flags)
                reopened.close()
            }
            // bpftool names every type as MapType.kernelName does.
            guard KernelTests.bpftool() != nil else { return }
            for (item, map) in created {
                guard let shown = try KernelTests.bpftoolJSON(["map", "show", "id", String(map.id)]) as? [String: Any] else {
                    Issue.record("bpftool map show id \(map.id) gave no object")
                    continue
                }
                #expect(shown["id"] as? Int == Int(map.id))
                // An older bpftool prints the number of a type it does not know.
                let type = shown["type"] as? String ?? (shown["type"] as? Int).map { MapType(rawValue: UInt32($0)).kernelName }
                #expect(type == item.type.kernelName, "\(item)")
                #expect(shown["name"] as? String == map.name)
                #expect(shown["bytes_key"] as? Int == map.keySize)
                #expect(shown["bytes_value"] as? Int == map.valueSize)
                #expect(shown["max_entries"] as? Int == map.maxEntries)
                #expect(shown["flags"] as? Int == Int(map.flags.rawValue))
            }
        }
    }

    @Test func refusesWhatTheKernelRefusesWithTheReason() throws {
        try KernelTests.run {
            let error = #expect(throws: BPFError.self) {
                try Map(type: .hash, keySize: 0, valueSize: 8, maxEntries: 4, name: "bad")
            }
            #expect(error?.operation == "BPF_MAP_CREATE")
            #expect(error?.errno == EINVAL)
            #expect(error?.subject == "bad, hash")
            #expect(error?.description.contains("unsupported type, flag or size") == true)

            let noInner = #expect(throws: BPFError.self) {
                try Map(spec: MapSpec(name: "outer", sectionName: ".maps", origin: .btf, type: .arrayOfMaps,
                                      keySize: 4, valueSize: 4, maxEntries: 2))
            }
            #expect(noInner?.detail?.contains("inner map template") == true)

            let badCount = #expect(throws: BPFError.self) { try Map(type: .array, keySize: 4, valueSize: 4, maxEntries: -1) }
            #expect(badCount?.detail?.contains("fit in 32 bits") == true)

            let notAMap = #expect(throws: BPFError.self) {
                try Map(fileDescriptor: FileDescriptor(owning: open("/dev/null", O_RDONLY | O_CLOEXEC)))
            }
            #expect(notAMap?.detail?.contains("not a map") == true)
        }
    }
}
#endif
