import BPFInstructions
import BPFObject
import Testing

/// Global data of Fixtures/globals.bpf.c: one array map per data section, named as the
/// kernel names it, with the section's initial contents, and every variable's place in it.
@Suite(.enabled(if: ObjectFixtures.clangAvailable, "needs clang"))
struct ObjectGlobalsTests {
    @Test func oneArrayMapPerDataSectionWithLibbpfNamesAndFlags() throws {
        let object = try ObjectFixtures.object("globals")
        let expected: [(section: String, name: String, size: UInt32, flags: UInt32)] = [
            (".data", "globals.data", 44, 0x400),
            (".rodata", "globals.rodata", 12, 0x480),
            (".data.custom", ".data.custom", 4, 0x400),
            (".rodata.custom", ".rodata.custom", 4, 0x480),
            (".bss", "globals.bss", 76, 0x400),
            (".rodata.str1.1", ".rodata.str1.1", 12, 0x80),  // no DATASEC: not mmapable
        ]
        #expect(object.maps.map(\.sectionName) == expected.map(\.section))
        for (map, expectation) in zip(object.maps, expected) {
            #expect(map.origin == .globalData)
            #expect(map.name == expectation.name)
            #expect(map.type == .array && map.keySize == 4 && map.maxEntries == 1)
            #expect(map.valueSize == expectation.size, "\(map.sectionName)")
            #expect(map.flags == expectation.flags, "\(map.sectionName)")
            #expect(map.initialValue?.count == Int(expectation.size))
        }
        let btf = try #require(object.btf)
        #expect(object.map(named: ".data")?.valueTypeID.flatMap { btf.name(of: $0) } == ".data")
        #expect(object.map(named: ".rodata.str1.1")?.valueTypeID == nil)
    }

    @Test func longObjectNamesAreCutAsTheKernelNeeds() throws {
        let bytes = try ObjectFixtures.compile("globals").bytes
        let object = try ObjectFile(parsing: bytes, name: "a_very-long object name")
        #expect(object.map(named: ".data")?.name == "a_very_l.data")
        #expect(object.map(named: ".rodata")?.name == "a_very_l.rodata")
        #expect(object.map(named: ".data.custom")?.name == ".data.custom")
        #expect(try ObjectFile(parsing: bytes).map(named: ".bss")?.name == ".bss")
        #expect(try ObjectFile(parsing: bytes, name: "x y").map(named: ".bss")?.name == "x_y.bss")
    }

    @Test func initialContentsAreTheSections() throws {
        let object = try ObjectFixtures.object("globals")
        let data = try #require(object.map(named: ".data")?.initialValue)
        func u32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
            (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
        }
        #expect(u32(data, 0) == 42)  // counter
        #expect((0..<4).map { u32(data, 8 + 8 * $0) } == [1, 2, 3, 4])  // table
        #expect(u32(data, 40) == 5)  // hidden_value
        let rodata = try #require(object.map(named: ".rodata")?.initialValue)
        #expect(u32(rodata, 0) == 7 && u32(rodata, 4) & 0xffff == 8080 && rodata[6] == 1 && rodata[7] == 2)
        #expect(u32(rodata, 8) == 1000)
        #expect(object.map(named: ".bss")?.initialValue == [UInt8](repeating: 0, count: 76))
        #expect(object.map(named: ".rodata.str1.1")?.initialValue == Array("literal %d\n\0".utf8))
    }

    @Test func variablesHaveOffsetsSizesLinkageAndTypes() throws {
        let object = try ObjectFixtures.object("globals")
        let btf = try #require(object.btf)
        let expected: [(name: String, section: String, offset: Int, size: Int, isStatic: Bool, type: String?)] = [
            ("counter", ".data", 0, 4, false, "int"),
            ("table", ".data", 8, 32, false, nil),
            ("hidden_value", ".data", 40, 4, true, "int"),
            ("config", ".rodata", 0, 8, false, nil),
            ("limit", ".rodata", 8, 4, false, nil),
            ("custom_data", ".data.custom", 0, 4, false, "int"),
            ("custom_ro", ".rodata.custom", 0, 4, false, nil),
            ("hits", ".bss", 0, 8, false, "__u64"),
            ("histogram", ".bss", 8, 64, false, nil),
            ("static_counter", ".bss", 72, 4, true, "__u32"),
        ]
        #expect(object.globals.map(\.name) == expected.map(\.name))
        for (global, expectation) in zip(object.globals, expected) {
            #expect(global.sectionName == expectation.section, "\(global.name)")
            #expect(global.offset == expectation.offset, "\(global.name)")
            #expect(global.size == expectation.size, "\(global.name)")
            #expect(global.isStatic == expectation.isStatic, "\(global.name)")
            #expect(object.maps[global.mapIndex].sectionName == expectation.section)
            let typeID = try #require(global.btfTypeID, "\(global.name)")
            #expect(btf.size(of: typeID) == expectation.size, "\(global.name)")
            if let name = expectation.type { #expect(btf.name(of: typeID) == name, "\(global.name)") }
        }
    }

    @Test func accessesBecomeMapValueReferencesWithTheVariablesOffset() throws {
        let object = try ObjectFixtures.object("globals")
        let program = try #require(object.program(named: "use_globals"))
        var seen: Set<String> = []
        for relocation in program.relocations {
            guard case .mapValue(let index, let offset) = relocation.target else { continue }
            let slot = program.instructions[relocation.instruction]
            let next = program.instructions[relocation.instruction + 1]
            #expect(slot.src == PseudoSource.mapIndexValue.rawValue && slot.imm == Int32(index))
            #expect(next.imm == Int32(offset))
            let section = object.maps[index].sectionName
            #expect(Int(offset) < Int(object.maps[index].valueSize))
            if let variable = object.globals.first(where: { $0.mapIndex == index && $0.offset == Int(offset) }) {
                seen.insert(variable.name)
            } else {
                seen.insert("\(section)+\(offset)")
            }
        }
        // table[3] is read at its own offset: the addend is folded in.
        #expect(seen.isSuperset(of: ["counter", "hits", "limit", "config", "hidden_value", "custom_data", "custom_ro",
                                     "histogram", "static_counter", ".rodata.str1.1+0"]))
        #expect(program.program != nil)
    }
}
