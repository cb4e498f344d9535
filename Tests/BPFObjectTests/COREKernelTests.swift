import BPFInstructions
import BPFObject
import Foundation
import Testing

/// The CO-RE fixtures relocated against the running kernel's BTF: field offsets are the
/// kernel's (as bpftool prints them), and libbpf, through bpftool, makes the same
/// decision for every relocation.
@Suite(.enabled(if: BTFTestSupport.toolchainMissing == nil, "needs clang and llvm-objcopy"))
struct COREKernelTests {
    private func kernelBTF() throws -> BTF? {
        guard let result = BTFTestSupport.vmlinux else {
            #expect(!BTFTestSupport.kernelRequired, "\(BTFTestSupport.vmlinuxPath) is absent")
            print("CO-RE kernel tests: skipped, \(BTFTestSupport.vmlinuxPath) is absent")
            return nil
        }
        return try result.get()
    }

    /// `'name' type_id=N bits_offset=M` of a struct in bpftool's raw dump: the byte offset.
    private func bpftoolOffset(of member: String, in structure: String, dump: [String]) -> Int? {
        guard let start = dump.firstIndex(where: { $0.contains("] STRUCT '\(structure)' ") }) else { return nil }
        for line in dump[(start + 1)...] {
            guard line.hasPrefix("\t") else { break }
            guard line.hasPrefix("\t'\(member)' "), let range = line.range(of: "bits_offset=") else { continue }
            return Int(line[range.upperBound...].prefix { $0.isNumber }).map { $0 / 8 }
        }
        return nil
    }

    @Test func fieldReadsGetTheKernelsOffsets() throws {
        guard let vmlinux = try kernelBTF() else { return }
        let object = try ObjectFixtures.object("core-kinds")
        let local = try #require(object.btf)
        let program = try #require(object.program(named: "fields"))
        let result = try program.relocatingCORE(localBTF: local, targetBTF: vmlinux)
        let dump = try BTFTestSupport.bpftoolDump(BTFTestSupport.vmlinuxPath)
        if dump == nil { #expect(!BTFTestSupport.peersRequired, "bpftool is not installed") }

        let task = try #require(vmlinux.ids(named: "task_struct", kind: .struct).first)
        let members = try #require(vmlinux.type(task)?.body.composite).members
        func kernelOffset(_ name: String) throws -> Int {
            Int(try #require(members.first { vmlinux.strings.string(at: $0.nameOffset) == name }).bitOffset / 8)
        }
        for (access, name) in [("0:0", "pid"), ("0:1", "tgid"), ("0:2", "flags"), ("0:4", "cred"), ("0:10", "files")] {
            let offset = try kernelOffset(name)
            if let dump { #expect(bpftoolOffset(of: name, in: "task_struct", dump: dump) == offset, "bpftool's \(name)") }
            for decision in CORETestSupport.decisions(result, access, .fieldByteOffset, root: "task_struct", in: local) {
                #expect(!decision.isPoisoned && decision.newValue == UInt64(offset), "\(name)")
                #expect(Int(result.instructions[decision.relocation.instructionIndex].offset) == offset, "\(name)")
            }
        }
        let comm = try #require(CORETestSupport.decisions(result, "0:5:3", .fieldByteOffset, root: "task_struct", in: local).first)
        #expect(comm.newValue == UInt64(try kernelOffset("comm") + 3))
        // The kernel has no `gone`, and its cred's uid is a kuid_t struct, not an int:
        // no match, so those loads are poisoned.
        for (access, root) in [("0:9", "task_struct"), ("0:0", "cred")] {
            let decision = try #require(CORETestSupport.decisions(result, access, .fieldByteOffset, root: root, in: local).first)
            #expect(decision.isPoisoned && result.instructions[decision.relocation.instructionIndex] == CORETestSupport.poison, "\(root) \(access)")
        }
    }

    /// libbpf's log for each fixture against vmlinux, line for line.
    @Test(arguments: ["core-kinds", "core", "btf-core"])
    func libbpfAgrees(fixture: String) throws {
        guard let vmlinux = try kernelBTF() else { return }
        let directory = try BTFTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path: String, object: ObjectFile
        if fixture == "btf-core" {
            let compiled = try BTFTestSupport.compile(fixture, target: "bpfel", into: directory)
            path = compiled.object.path
            object = try ObjectFile(parsing: Array(try Data(contentsOf: compiled.object)), name: fixture)
        } else {
            let compiled = try ObjectFixtures.compile(fixture)
            path = compiled.path
            object = try ObjectFile(parsing: compiled.bytes, name: fixture)
        }
        guard let reference = try CORETestSupport.bpftoolLog(target: BTFTestSupport.vmlinuxPath, object: path, directory: directory) else {
            #expect(!BTFTestSupport.peersRequired, "bpftool is not installed")
            print("CO-RE libbpf comparison: skipped, bpftool is not installed")
            return
        }
        let ours = try CORETestSupport.ourLog(object, target: vmlinux)
        #expect(!ours.isEmpty)
        let differences = CORETestSupport.differences(ours, reference)
        #expect(differences.isEmpty, "\(fixture):\n\(differences.joined(separator: "\n"))")
    }

    /// Every program of every fixture relocates against the kernel (or fails as libbpf
    /// would), and poisoned slots are exactly the undecidable ones.
    @Test func wholeObjectsRelocate() throws {
        guard let vmlinux = try kernelBTF() else { return }
        for name in ["core", "core-kinds"] {
            let object = try ObjectFixtures.object(name)
            let local = try #require(object.btf)
            var relocator = CORERelocator(localBTF: local, targetBTF: vmlinux)
            for program in object.programs {
                let result = try relocator.relocate(program)
                #expect(result.decisions.count == program.coreRelocations.count)
                for decision in result.decisions where decision.patch == .poisoned {
                    #expect(result.instructions[decision.relocation.instructionIndex] == CORETestSupport.poison)
                    #expect(decision.isPoisoned || decision.failsSizeAdjustment)
                }
            }
        }
    }
}
