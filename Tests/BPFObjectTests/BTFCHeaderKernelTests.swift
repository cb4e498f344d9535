import BPFInstructions
import BPFObject
import Foundation
import Testing

/// vmlinux.h from the running kernel's BTF: bpftool writes the same header, it compiles
/// for BPF, every type's layout survives the round trip, and a CO-RE program built
/// against it relocates to the kernel's real offsets.
@Suite(.serialized) struct BTFCHeaderKernelTests {
    /// The kernel's BTF and our header for it, or nil after recording why not.
    private func kernelHeader() throws -> (btf: BTF, header: String)? {
        guard let result = BTFTestSupport.vmlinux else {
            #expect(!BTFTestSupport.kernelRequired, "\(BTFTestSupport.vmlinuxPath) is absent")
            print("vmlinux.h tests: skipped, \(BTFTestSupport.vmlinuxPath) is absent")
            return nil
        }
        let btf = try result.get()
        return (btf, try btf.cHeader())
    }

    private var toolchainReady: Bool {
        if let missing = BTFTestSupport.toolchainMissing {
            #expect(!BTFTestSupport.peersRequired, "\(missing)")
            print("vmlinux.h compile tests: skipped, \(missing)")
            return false
        }
        return true
    }

    /// The same text as `bpftool btf dump file /sys/kernel/btf/vmlinux format c`, so the
    /// same type names, in the same order, with the same definitions.
    @Test func matchesBPFTool() throws {
        guard let (_, header) = try kernelHeader() else { return }
        guard let reference = try BTFCHeaderSupport.bpftoolHeader(BTFTestSupport.vmlinuxPath) else {
            #expect(!BTFTestSupport.peersRequired, "bpftool is not installed")
            print("vmlinux.h bpftool comparison: skipped, bpftool is not installed")
            return
        }
        let ours = BTFCHeaderSupport.comparable(header, with: reference)
        let names = BTFCHeaderSupport.definedNames(ours), referenceNames = BTFCHeaderSupport.definedNames(reference)
        #expect(Set(names) == Set(referenceNames), "only ours: \(Set(names).subtracting(referenceNames).prefix(5)), only bpftool's: \(Set(referenceNames).subtracting(names).prefix(5))")
        let differences = BTFCHeaderSupport.differences(ours, reference)
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))")
        print("vmlinux.h bpftool comparison: \(names.count) definitions, \(ours.utf8.count) bytes, \(differences.count) differing lines shown")
    }

    /// Compiles the header with a probe that declares one variable of every type it
    /// defines; clang's BTF for the probe must give each struct, union and enum the size
    /// and member offsets the kernel's BTF gives.
    @Test func layoutsRoundTrip() throws {
        guard let (btf, header) = try kernelHeader(), toolchainReady else { return }
        let directory = try BTFTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let probe = try BTFCHeaderSupport.compileProbe(header: header, in: directory)
        let layout = BTFCHeaderSupport.layoutDifferences(original: btf, probe: probe)
        #expect(layout.differences.isEmpty, "\(layout.differences.count) differences:\n\(layout.differences.prefix(10).joined(separator: "\n"))")
        #expect(layout.compared > 5000)
        print("vmlinux.h layout round trip: \(layout.compared) types compared, \(layout.differences.count) differences")
    }

    /// A CO-RE program that includes the header builds with `clang -target bpf -O2 -g`,
    /// and its field reads relocate to the offsets the kernel's BTF gives.
    @Test func coreProgramBuildsAndRelocates() throws {
        guard let (btf, header) = try kernelHeader(), toolchainReady else { return }
        let directory = try BTFTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try header.write(to: directory.appendingPathComponent("vmlinux.h"), atomically: true, encoding: .utf8)
        let source = directory.appendingPathComponent("reader.bpf.c")
        try """
            #include "vmlinux.h"
            #define SEC(name) __attribute__((section(name), used))
            unsigned long long out[4];
            SEC("fentry/do_exit") int reader(struct task_struct *task) {
                out[0] = task->pid;
                out[1] = task->tgid;
                out[2] = task->real_parent->pid;
                out[3] = task->comm[0];
                return 0;
            }
            char LICENSE[] SEC("license") = "GPL";
            """.write(to: source, atomically: true, encoding: .utf8)
        let object = directory.appendingPathComponent("reader.bpf.o")
        try BTFTestSupport.run(BTFTestSupport.clang, ["-target", "bpf", "-O2", "-g", "-Werror", "-c", source.path, "-o", object.path])

        let file = try ObjectFile(parsing: Array(try Data(contentsOf: object)), name: "reader")
        let program = try #require(file.program(named: "reader"))
        let result = try program.relocatingCORE(localBTF: try #require(file.btf), targetBTF: btf)
        let task = try #require(btf.ids(named: "task_struct", kind: .struct).first)
        let members = try #require(btf.type(task)?.body.composite).members
        func offset(_ member: String) -> Int? {
            members.first { btf.strings.string(at: $0.nameOffset) == member }.map { Int($0.bitOffset / 8) }
        }
        let byAccess = Dictionary(grouping: result.decisions, by: \.relocation.accessString)
        for (access, member) in [("0:\(try index(of: "pid", in: task, btf))", "pid"), ("0:\(try index(of: "tgid", in: task, btf))", "tgid")] {
            let decisions = try #require(byAccess[access], "no relocation for \(member)")
            let expected = try #require(offset(member))
            for decision in decisions {
                #expect(!decision.isPoisoned && decision.newValue == UInt64(expected), "\(member)")
                #expect(Int(result.instructions[decision.relocation.instructionIndex].offset) == expected)
            }
        }
        // The header was generated from this kernel: nothing moves.
        #expect(result.decisions.allSatisfy { !$0.isPoisoned && $0.newValue == $0.originalValue })
    }

    private func index(of member: String, in id: BTFTypeID, _ btf: BTF) throws -> Int {
        let composite = try #require(btf.type(id)?.body.composite)
        return try #require(composite.members.firstIndex { btf.strings.string(at: $0.nameOffset) == member }) - composite.members.startIndex
    }
}
