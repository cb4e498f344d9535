import BPFInstructions
import BPFObject
import Testing

/// Maps of Fixtures/maps.bpf.c (BTF-defined, every declaration style) and
/// Fixtures/legacy.bpf.c (`struct bpf_map_def` in `maps`), checked against their C source.
@Suite(.enabled(if: ObjectFixtures.clangAvailable, "needs clang"))
struct ObjectMapTests {
    @Test func typedKeysAndValuesGiveSizesAndBTFTypes() throws {
        let object = try ObjectFixtures.object("maps")
        let btf = try #require(object.btf)
        let flows = try #require(object.map(named: "flows"))
        #expect(flows.origin == .btf)
        #expect(flows.sectionName == ".maps")
        #expect(flows.type == .hash)
        #expect(flows.keySize == 16)  // 13 bytes of fields, padded to 4-byte alignment
        #expect(flows.valueSize == 16)
        #expect(flows.maxEntries == 1024)
        #expect(flows.keyTypeID.flatMap { btf.name(of: $0) } == "flow")
        #expect(flows.valueTypeID.flatMap { btf.name(of: $0) } == "stats")
        #expect(flows.flags == 0 && flows.pinning == .none && flows.innerMap == nil && flows.initialValue == nil)
    }

    @Test func sizesFlagsPinningNumaAndExtra() throws {
        let object = try ObjectFixtures.object("maps")
        let sized = try #require(object.map(named: "sized"))
        #expect((sized.type, sized.keySize, sized.valueSize, sized.maxEntries) == (.array, 4, 24, 8))
        #expect(sized.keyTypeID == nil && sized.valueTypeID == nil)

        let pinned = try #require(object.map(named: "pinned"))
        #expect((pinned.type, pinned.keySize, pinned.valueSize, pinned.maxEntries) == (.lruPerCPUHash, 8, 8, 4096))
        #expect(pinned.flags == 2)  // BPF_F_NO_COMMON_LRU
        #expect(pinned.pinning == .byName)

        let numa = try #require(object.map(named: "numa"))
        #expect((numa.type, numa.keySize, numa.valueSize, numa.maxEntries) == (.hash, 4, 8, 16))
        #expect(numa.flags == 1 | 4)  // BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE
        #expect(numa.numaNode == 1)
        #expect(numa.valueTypeID == nil && numa.keyTypeID != nil)

        let events = try #require(object.map(named: "events"))
        #expect((events.type, events.keySize, events.valueSize, events.maxEntries) == (.ringBuffer, 0, 0, 256 * 1024))

        let bloom = try #require(object.map(named: "bloom"))
        #expect((bloom.type, bloom.keySize, bloom.valueSize, bloom.maxEntries) == (.bloomFilter, 0, 4, 100))
        #expect(bloom.mapExtra == 3)

        let perf = try #require(object.map(named: "perf"))
        #expect((perf.type, perf.keySize, perf.valueSize, perf.maxEntries) == (.perfEventArray, 4, 4, 0))
    }

    @Test func mapInMapsHaveInnerTemplatesAndInitialSlots() throws {
        let object = try ObjectFixtures.object("maps")
        let outer = try #require(object.map(named: "outer_array"))
        #expect((outer.type, outer.keySize, outer.valueSize, outer.maxEntries) == (.arrayOfMaps, 4, 4, 3))
        let inner = try #require(outer.innerMap)
        #expect(inner.name == "outer_array.inner")
        #expect(inner.origin == .inner)
        #expect((inner.type, inner.keySize, inner.valueSize, inner.maxEntries) == (.array, 4, 8, 4))
        #expect(outer.initialSlots == [0: .map("inner_a"), 2: .map("inner_b")])

        let hash = try #require(object.map(named: "outer_hash"))
        #expect((hash.type, hash.keySize, hash.valueSize, hash.maxEntries) == (.hashOfMaps, 4, 4, 2))
        let hashInner = try #require(hash.innerMap)
        #expect((hashInner.type, hashInner.keySize, hashInner.valueSize, hashInner.maxEntries) == (.hash, 4, 4, 64))
        #expect(hash.initialSlots.isEmpty)

        for name in ["inner_a", "inner_b"] {
            let map = try #require(object.map(named: name))
            #expect((map.type, map.keySize, map.valueSize, map.maxEntries) == (.array, 4, 8, 4))
        }
    }

    @Test func programArrayValuesNamePrograms() throws {
        let object = try ObjectFixtures.object("maps")
        let table = try #require(object.map(named: "jump_table"))
        #expect((table.type, table.keySize, table.valueSize, table.maxEntries) == (.programArray, 4, 4, 4))
        #expect(table.initialSlots == [1: .program("tail_target")])
        #expect(table.innerMap == nil)
    }

    @Test func mapsAreInSectionOrderAndProgramsReferThemByIndex() throws {
        let object = try ObjectFixtures.object("maps")
        let btfMaps = object.maps.filter { $0.origin == .btf }
        #expect(btfMaps.map(\.sectionOffset) == btfMaps.map(\.sectionOffset).sorted())
        #expect(Set(btfMaps.map(\.name)) == ["flows", "sized", "pinned", "numa", "events", "bloom", "perf", "inner_a",
                                              "inner_b", "outer_array", "outer_hash", "jump_table"])

        let program = try #require(object.program(named: "use_maps"))
        var referenced: Set<String> = []
        for relocation in program.relocations {
            guard case .map(let index) = relocation.target else { continue }
            referenced.insert(object.maps[index].name)
            // Loader form: BPF_PSEUDO_MAP_IDX with the index into `maps`.
            let slot = program.instructions[relocation.instruction]
            #expect(slot.opcode == 0x18 && slot.src == PseudoSource.mapIndex.rawValue && slot.imm == Int32(index))
        }
        #expect(referenced == ["flows", "outer_array", "outer_hash", "sized", "pinned", "numa", "events", "bloom", "jump_table"])
        #expect(object.license == "Dual BSD/GPL")
    }

    @Test func legacyMapDefinitionsBySymbol() throws {
        let object = try ObjectFixtures.object("legacy")
        #expect(object.maps.count == 2)
        let packets = try #require(object.map(named: "packets"))
        #expect(packets.origin == .legacy && packets.sectionName == "maps" && packets.sectionOffset == 0)
        #expect((packets.type, packets.keySize, packets.valueSize, packets.maxEntries, packets.flags) == (.array, 4, 8, 256, 0))
        #expect(packets.keyTypeID == nil)
        let sockets = try #require(object.map(named: "sockets"))
        #expect(sockets.sectionOffset == 20)
        #expect((sockets.type, sockets.keySize, sockets.valueSize, sockets.maxEntries, sockets.flags) == (.hash, 8, 16, 1024, 1))
        // BPF_ANNOTATE_KV_PAIR's struct ____btf_map_sockets gives the types.
        let btf = try #require(object.btf)
        #expect(sockets.keyTypeID.flatMap { btf.size(of: $0) } == 8)
        #expect(sockets.valueTypeID.flatMap { btf.size(of: $0) } == 16)
        #expect(object.kernelVersion == 0x050a00)

        let program = try #require(object.program(named: "count"))
        let targets = program.relocations.map(\.target)
        #expect(targets == [.map(index: 0), .map(index: 1)])
    }

    @Test(arguments: ["bpfel", "bpfeb"])
    func legacyDefinitionsReadInTheObjectsByteOrder(target: String) throws {
        let object = try ObjectFixtures.object("legacy", target: target)
        #expect(object.maps.map(\.maxEntries) == [256, 1024])
    }
}
