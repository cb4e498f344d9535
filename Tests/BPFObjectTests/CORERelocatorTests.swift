import BPFInstructions
import BPFObject
import Foundation
import Testing

/// Every CO-RE relocation kind of Fixtures/core-kinds.bpf.c relocated against the
/// synthetic kernel of Fixtures/core-target.c, whose layout is written out in that file:
/// the values, the patched instructions, and libbpf agreeing on every decision.
@Suite(.enabled(if: BTFTestSupport.toolchainMissing == nil, "needs clang and llvm-objcopy"))
struct CORERelocatorTests {
    /// The program relocated against the synthetic target, with both BTFs.
    private func relocated(_ name: String) throws -> (result: CORERelocationResult, program: ProgramSpec, local: BTF, target: BTF) {
        let directory = try BTFTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let object = try ObjectFixtures.object("core-kinds")
        let program = try #require(object.program(named: name))
        let local = try #require(object.btf)
        let target = try CORETestSupport.target("core-target", in: directory).btf
        return (try program.relocatingCORE(localBTF: local, targetBTF: target), program, local, target)
    }

    private func only(_ result: CORERelocationResult, _ access: String, _ kind: CORERelocationKind = .fieldByteOffset,
                      root: String = "task_struct", local: BTF) throws -> CORERelocationDecision {
        let found = CORETestSupport.decisions(result, access, kind, root: root, in: local)
        #expect(found.count == 1, "\(root) \(access) \(kind.name): \(found.count) relocations")
        return try #require(found.first)
    }

    @Test func fieldAccesses() throws {
        let (result, program, local, _) = try relocated("fields")
        let code = result.instructions
        func slot(_ decision: CORERelocationDecision) -> RawInstruction { code[decision.relocation.instructionIndex] }
        func original(_ decision: CORERelocationDecision) -> RawInstruction { program.instructions[decision.relocation.instructionIndex] }

        // task->pid: moved from 0 to 20; loaded and stored (STX) at the new offset.
        let pids = CORETestSupport.decisions(result, "0:0", .fieldByteOffset, root: "task_struct", in: local)
        #expect(pids.count == 2)
        for pid in pids {
            #expect(pid.originalValue == 0 && pid.newValue == 20 && slot(pid).offset == 20)
            #expect(slot(pid).opcode == original(pid).opcode)
        }
        #expect(Set(pids.map { original($0).opcode }) == [0x61, 0x63])  // LDX W, STX W
        // task->tgid = 7: a store, 4 -> 16.
        let tgid = try only(result, "0:1", local: local)
        #expect(original(tgid).opcode == 0x63 && slot(tgid).offset == 16)

        // flags: u32 at 8 became u64 at 0, so the 4-byte load becomes an 8-byte one.
        let flags = try only(result, "0:2", local: local)
        #expect(flags.newValue == 0 && flags.originalSize == 4 && flags.newSize == 8 && !flags.failsSizeAdjustment)
        #expect(original(flags).opcode == 0x61 && slot(flags).opcode == 0x79 && slot(flags).offset == 0)
        #expect(flags.patch == .offset(from: 8, to: 0, sizeChange: .init(from: 4, to: 8)))

        // prio: int became a signed long; a wider load would read a wrong value: poisoned.
        let prio = try only(result, "0:3", local: local)
        #expect(prio.failsSizeAdjustment && !prio.isPoisoned && prio.patch == .poisoned)
        #expect(slot(prio) == CORETestSupport.poison)

        // task->cred->uid: both steps moved (16 -> 64, 0 -> 8).
        #expect(try only(result, "0:4", local: local).newValue == 64)
        let uid = try only(result, "0:0", root: "cred", local: local)
        #expect(uid.newValue == 8 && slot(uid).offset == 8)

        // comm[3]: an element of an array that moved and grew (24 + 3 -> 32 + 3).
        let comm = try only(result, "0:5:3", local: local)
        #expect(comm.newValue == 35 && slot(comm).offset == 35 && slot(comm).opcode == 0x71)
        #expect(comm.targetSpec?.rawAccess == [0, 5, 3])
        // &comm[2] as an immediate (mov): 26 -> 34.
        let address = try only(result, "0:5:2", local: local)
        #expect(address.patch == .immediate(from: 26, to: 34) && slot(address).imm == 34)

        // inner_value lives in an anonymous union in the target: 0:7 became 0:1:0.
        let inner = try only(result, "0:7", local: local)
        #expect(inner.newValue == 8 && inner.targetSpec?.rawAccess == [0, 1, 0])
        #expect(inner.targetSpec?.accessors.compactMap(\.name) == ["inner_value"])

        // matrix[1]: rows of 2 ints (8 bytes) at 48 became rows of 3 (12 bytes) at 76.
        let row = try only(result, "0:8:1", local: local)
        #expect(row.originalValue == 56 && row.newValue == 88 && slot(row).imm == 88)

        // gone: no such field, the load is poisoned.
        let gone = try only(result, "0:9", local: local)
        #expect(gone.isPoisoned && gone.targetSpec == nil && slot(gone) == CORETestSupport.poison)
        #expect(gone.candidates.count == 1 && gone.candidates.first?.matched == false)

        // A flavor: task_struct___old matches the target's task_struct by essential name.
        let old = try only(result, "0:0", root: "task_struct___old", local: local)
        #expect(old.newValue == 20 && old.candidates.count == 1 && old.candidates.first?.matched == true)

        // files_struct is only declared in the target: a forward declaration is no
        // candidate for a struct, so the read through task->files is poisoned.
        let files = CORETestSupport.decisions(result, "0:10", .fieldByteOffset, root: "task_struct", in: local)
        #expect(files.count == 2 && files.allSatisfy { $0.newValue == 112 })
        let count = try only(result, "0:0", root: "files_struct", local: local)
        #expect(count.candidates.isEmpty && count.isPoisoned)

        // An element of a flexible array (the last member, zero-length) past its "end".
        let tail = try only(result, "0:11:5", local: local)
        #expect(tail.originalValue == 100 && tail.newValue == 140 && slot(tail).offset == 140)
        // No preserve_access_index on struct plain: __builtin_preserve_access_index alone.
        let plain = try only(result, "0:1", root: "plain", local: local)
        #expect(plain.originalValue == 4 && plain.newValue == 8 && slot(plain).offset == 8)

        // Nothing else changed.
        let patched = Set(result.decisions.map(\.relocation.instructionIndex))
        for index in code.indices where !patched.contains(index) { #expect(code[index] == program.instructions[index], "slot \(index)") }
    }

    /// clang stores constants through a register; an ST with an immediate is patched the
    /// same way, its immediate untouched.
    @Test func storeOfAnImmediate() throws {
        let (_, program, local, target) = try relocated("fields")
        let tgid = try #require(program.coreRelocations.first { $0.accessString == "0:1" }).instructionIndex
        var store = program
        store.instructions[tgid] = RawInstruction(opcode: 0x62, dst: program.instructions[tgid].dst, offset: 4, imm: 7)
        let result = try store.relocatingCORE(localBTF: local, targetBTF: target)
        #expect(result.instructions[tgid] == RawInstruction(opcode: 0x62, dst: program.instructions[tgid].dst, offset: 16, imm: 7))
    }

    @Test func fieldFacts() throws {
        let (result, _, local, _) = try relocated("facts")
        func value(_ access: String, _ kind: CORERelocationKind) throws -> CORERelocationDecision {
            let found = CORETestSupport.decisions(result, access, kind, root: "task_struct", in: local)
            return try #require(found.first, "\(access) \(kind.name)")
        }
        // state: 3 bits at bit 320 locally; 7 bits at bit 581 of an unsigned int in the target.
        #expect(try value("0:6", .fieldExists).newValue == 1)
        #expect(try value("0:6", .fieldByteSize).newValue == 4)
        #expect(try value("0:6", .fieldSigned).newValue == 0)
        #expect(try value("0:6", .fieldLeftShift).newValue == 64 - (581 + 7 - 72 * 8))
        #expect(try value("0:6", .fieldRightShift).newValue == 64 - 7)
        let stateOffsets = CORETestSupport.decisions(result, "0:6", .fieldByteOffset, root: "task_struct", in: local)
        #expect(stateOffsets.count == 5)  // the offset fact and the four loads of the bitfield read
        for decision in stateOffsets {
            #expect(decision.newValue == 72 && !decision.validatesOriginal && decision.originalSize == 0)
        }
        // Bitfield positions are not checked against the instruction: clang says 8 bytes
        // for the local size, libbpf computes 4.
        #expect(try value("0:6", .fieldByteSize).originalValue == 4)
        #expect(!(try value("0:6", .fieldByteSize).validatesOriginal))
        #expect(try value("0:6", .fieldRightShift).validatesOriginal)

        #expect(try value("0:5", .fieldByteOffset).newValue == 32)
        #expect(try value("0:5", .fieldByteSize).newValue == 32)
        #expect(try value("0:3", .fieldSigned).newValue == 1)
        // A missing field does not exist (0); its offset has no answer (poisoned).
        #expect(try value("0:9", .fieldExists).newValue == 0)
        let missing = try value("0:9", .fieldByteOffset)
        #expect(missing.isPoisoned && result.instructions[missing.relocation.instructionIndex] == CORETestSupport.poison)
        let old = try #require(CORETestSupport.decisions(result, "0:1", .fieldExists, root: "task_struct___old", in: local).first)
        #expect(old.newValue == 0 && !old.isPoisoned)
    }

    @Test func typeFacts() throws {
        let (result, _, local, target) = try relocated("types")
        func value(_ kind: CORERelocationKind, _ root: String) throws -> CORERelocationDecision {
            try CORETestSupport.first(CORETestSupport.decisions(result, "0", kind, root: root, in: local), "\(kind.name) \(root)")
        }
        let localTask = try #require(local.ids(named: "task_struct", kind: .struct).first)
        let targetTask = try #require(target.ids(named: "task_struct", kind: .struct).first)
        let localID = try value(.typeIDLocal, "task_struct")
        #expect(localID.newValue == UInt64(localTask) && localID.candidates.isEmpty && !localID.validatesOriginal)
        let targetID = try value(.typeIDTarget, "task_struct")
        #expect(targetID.newValue == UInt64(targetTask))
        #expect(targetID.patch == .wideImmediate(from: UInt64(localTask), to: UInt64(targetTask)))
        #expect(try value(.typeExists, "task_struct").newValue == 1)
        #expect(try value(.typeSize, "task_struct").newValue == 120)
        #expect(try value(.typeMatches, "matched_type").newValue == 1)
        // `int a` against `long a`: the type exists, but does not match.
        #expect(try value(.typeMatches, "mismatched_type").newValue == 0)
        #expect(try value(.typeExists, "mismatched_type").newValue == 1)
        // A type the target lacks: exists 0, size 0, id 0 — never poisoned.
        for kind in [CORERelocationKind.typeExists, .typeSize, .typeIDTarget] {
            let absent = try value(kind, "only_local")
            #expect(absent.newValue == 0 && !absent.isPoisoned && absent.candidates.isEmpty, "\(kind.name)")
        }
        #expect(try value(.typeSize, "sized").newValue == 40)
        // A typedef root finds typedef candidates.
        #expect(try value(.typeExists, "pid_t").newValue == 1)
    }

    @Test func enumValues() throws {
        let (result, program, local, _) = try relocated("enums")
        func value(_ access: String, _ kind: CORERelocationKind, _ root: String = "task_state") throws -> CORERelocationDecision {
            try #require(CORETestSupport.decisions(result, access, kind, root: root, in: local).first, "\(access) \(kind.name)")
        }
        #expect(try value("1", .enumValueExists).newValue == 1)
        #expect(try value("1", .enumValue).newValue == 5)
        #expect(try value("2", .enumValueExists).newValue == 0)
        // A missing value has no answer: the 64-bit load is poisoned in both slots.
        let gone = try value("2", .enumValue)
        let slot = gone.relocation.instructionIndex
        #expect(gone.isPoisoned && program.instructions[slot].opcode == 0x18)
        #expect(result.instructions[slot] == CORETestSupport.poison && result.instructions[slot + 1] == CORETestSupport.poison)
        // enum64: a 64-bit immediate load.
        let big = try value("0", .enumValue, "big_values")
        #expect(big.patch == .wideImmediate(from: 0x1_2345_6789, to: 0x11_2233_4455))
        #expect(result.instructions[big.relocation.instructionIndex].imm == Int32(bitPattern: 0x2233_4455))
        #expect(result.instructions[big.relocation.instructionIndex + 1].imm == 0x11)
        #expect(try value("1", .enumValue, "big_values").isPoisoned)
        // An enum may match an enum64 of the same name.
        #expect(try value("0", .enumValue, "grown").patch == .wideImmediate(from: 1, to: 0x1_0000_0000))
    }

    /// libbpf (through bpftool) logs the same specifications, candidates and matches for
    /// every relocation of the object.
    @Test func libbpfAgrees() throws {
        let directory = try BTFTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let compiled = try ObjectFixtures.compile("core-kinds")
        let object = try ObjectFile(parsing: compiled.bytes, name: "core-kinds")
        let target = try CORETestSupport.target("core-target", in: directory)
        guard let reference = try CORETestSupport.bpftoolLog(target: target.path, object: compiled.path, directory: directory) else {
            #expect(!BTFTestSupport.peersRequired, "bpftool is not installed")
            print("CO-RE libbpf comparison: skipped, bpftool is not installed")
            return
        }
        let ours = try CORETestSupport.ourLog(object, target: target.btf)
        #expect(ours.count > 60)
        let differences = CORETestSupport.differences(ours, reference)
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
    }

    /// The explanation reads like libbpf's log, with the patch at the end.
    @Test func explanation() throws {
        let (result, _, local, target) = try relocated("fields")
        let flags = try only(result, "0:2", local: local)
        let slot = flags.relocation.instructionIndex
        let index = flags.index
        #expect(flags.explanation(localBTF: local, targetBTF: target) == [
            "relo #\(index): <byte_off> [\(flags.relocation.typeID)] struct task_struct.flags (0:2 @ offset 8)",
            "relo #\(index): matching candidate #0 <byte_off> [\(flags.candidates[0].typeID)] struct task_struct.flags (0:0 @ offset 0)",
            "relo #\(index): patched insn #\(slot) (LDX/ST/STX) off 8 -> 0",
            "relo #\(index): patched insn #\(slot) (LDX/ST/STX) mem_sz 4 -> 8",
        ])
    }
}
