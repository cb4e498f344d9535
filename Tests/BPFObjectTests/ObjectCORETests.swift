import BPFInstructions
import BPFObject
import Testing

/// CO-RE relocations of Fixtures/core.bpf.c, re-based onto the linked program so that each
/// still names the instruction it patches — in the program and in its subprogram.
@Suite(.enabled(if: ObjectFixtures.clangAvailable, "needs clang"))
struct ObjectCORETests {
    @Test func relocationsPointAtTheInstructionsTheyPatch() throws {
        let object = try ObjectFixtures.object("core")
        let program = try #require(object.program(named: "read_task"))
        #expect(program.functions.map(\.name) == ["read_task", "vm_pages"])
        #expect(program.type == .tracing && program.expectedAttachType == .traceFentry && program.attachTarget == "do_exit")

        let kinds = Set(program.coreRelocations.map(\.kind))
        #expect(kinds.isSuperset(of: [.fieldByteOffset, .fieldExists, .typeSize, .enumValue]))

        // vm_pages reads task->mm (member 3, at byte 16) then mm->total_vm (member 0).
        let pages = try #require(program.function(named: "vm_pages"))
        let inPages = program.coreRelocations.filter { pages.start..<pages.start + pages.count ~= $0.instructionIndex }
        #expect(inPages.map(\.accessString) == ["0:3", "0:0"])
        #expect(inPages.allSatisfy { $0.kind == .fieldByteOffset })
        for (relocation, offset) in zip(inPages, [Int16(16), 0]) {
            let slot = program.instructions[relocation.instructionIndex]
            #expect(slot.opcode & 0x07 == 0x01, "LDX at \(relocation.instructionIndex)")  // BPF_LDX
            #expect(slot.offset == offset)
        }

        // read_task's own field reads: pid (member 0) and comm (member 4, at byte 24).
        let main = try #require(program.function(named: "read_task"))
        let inMain = program.coreRelocations.filter { main.start..<main.start + main.count ~= $0.instructionIndex }
        #expect(inMain.contains { $0.accessString == "0:0" && $0.kind == .fieldByteOffset })
        #expect(inMain.contains { $0.accessString == "0:4:1" && $0.kind == .fieldByteOffset })
        for relocation in program.coreRelocations {
            #expect(relocation.instructionIndex < program.instructions.count)
            #expect(object.btf?.type(relocation.typeID) != nil)
        }
    }

    @Test func theSameRecordsAsBTFExtHolds() throws {
        let object = try ObjectFixtures.object("core")
        let ext = try #require(object.btfExt)
        let program = try #require(object.program(named: "read_task"))
        let total = ext.coreRelocations.reduce(0) { $0 + $1.records.count }
        #expect(program.coreRelocations.count == total)
        #expect(Set(program.coreRelocations.map(\.accessString)) == Set(ext.coreRelocations.flatMap { $0.records.map(\.accessString) }))
    }
}

/// Externs of Fixtures/externs.bpf.c: the `.kconfig` map laid out as libbpf lays it out,
/// ksyms and kfunc calls left for the loader by name.
@Suite(.enabled(if: ObjectFixtures.clangAvailable, "needs clang"))
struct ObjectExternTests {
    @Test func kconfigExternsAreLaidOutByAlignmentSizeAndName() throws {
        let object = try ObjectFixtures.object("externs")
        let layout = object.externs.compactMap { external -> (String, Int, Int)? in
            guard case .kconfig(let offset, let size, _) = external.kind else { return nil }
            return (external.name, offset, size)
        }
        #expect(layout.map(\.0) == ["CONFIG_NR_CPUS", "CONFIG_BPF_LSM", "CONFIG_HZ", "LINUX_KERNEL_VERSION",
                                    "CONFIG_BPF_JIT", "CONFIG_DEFAULT_HOSTNAME"])
        #expect(layout.map(\.1) == [0, 8, 12, 16, 20, 21])
        #expect(layout.map(\.2) == [8, 4, 4, 4, 1, 8])
        let types = Dictionary(uniqueKeysWithValues: object.externs.compactMap { external -> (String, ExternSpec.KconfigType)? in
            guard case .kconfig(_, _, let type) = external.kind else { return nil }
            return (external.name, type)
        })
        #expect(types["CONFIG_BPF_JIT"] == .bool)
        #expect(types["CONFIG_BPF_LSM"] == .tristate)
        #expect(types["CONFIG_DEFAULT_HOSTNAME"] == .characterArray)
        #expect(types["CONFIG_HZ"] == .integer(signed: true))
        #expect(types["LINUX_KERNEL_VERSION"] == .integer(signed: false))
        #expect(object.externs.filter(\.isWeak).map(\.name).sorted()
                == ["CONFIG_BPF_JIT", "CONFIG_BPF_LSM", "CONFIG_DEFAULT_HOSTNAME", "CONFIG_NR_CPUS", "bpf_task_release"])

        let kconfig = try #require(object.maps.last)
        #expect(kconfig.origin == .kconfig && kconfig.name == "externs.kconfig")
        #expect((kconfig.type, kconfig.keySize, kconfig.valueSize, kconfig.maxEntries, kconfig.flags) == (.array, 4, 29, 1, 0x480))
    }

    @Test func ksymsAndKfuncs() throws {
        let object = try ObjectFixtures.object("externs")
        let kinds = Dictionary(uniqueKeysWithValues: object.externs.map { ($0.name, $0.kind) })
        #expect(kinds["bpf_prog_active"] == .kernelVariable(typed: false))
        #expect(kinds["runqueues"] == .kernelVariable(typed: true))
        #expect(kinds["bpf_task_acquire"] == .kernelFunction)
        #expect(kinds["bpf_task_release"] == .kernelFunction)
    }

    @Test func relocationsInLoaderForm() throws {
        let object = try ObjectFixtures.object("externs")
        let program = try #require(object.program(named: "use_externs"))
        let kconfigIndex = try #require(object.maps.firstIndex { $0.origin == .kconfig })
        var kfuncs: [String] = [], ksyms: [String] = [], kconfigs: [String] = []
        for relocation in program.relocations {
            let slot = program.instructions[relocation.instruction]
            switch relocation.target {
            case .kconfig(let name, let mapIndex, let offset):
                kconfigs.append(name)
                #expect(mapIndex == kconfigIndex)
                #expect(slot.src == PseudoSource.mapIndexValue.rawValue && slot.imm == Int32(kconfigIndex))
                #expect(program.instructions[relocation.instruction + 1].imm == Int32(offset))
            case .kernelVariable(let name):
                ksyms.append(name)
                #expect(slot.opcode == 0x18)
            case .kernelFunction(let name):
                kfuncs.append(name)
                #expect(slot.opcode == 0x85 && slot.src == 2 && slot.imm == 0)
            default:
                Issue.record("unexpected relocation \(relocation)")
            }
        }
        #expect(Set(kconfigs) == ["LINUX_KERNEL_VERSION", "CONFIG_HZ", "CONFIG_BPF_JIT", "CONFIG_BPF_LSM",
                                  "CONFIG_DEFAULT_HOSTNAME", "CONFIG_NR_CPUS"])
        #expect(Set(ksyms) == ["bpf_prog_active", "runqueues"])
        #expect(kfuncs == ["bpf_task_acquire", "bpf_task_release"])
        #expect(program.program != nil)  // kfunc calls decode as calls by BTF id 0, to be filled
    }
}
