import BPFInstructions
import BPFObject
import Foundation
import Testing

/// The running kernel's BTF as a test peer: it parses, known facts hold, and bpftool
/// prints the same raw dump for it.
@Suite struct BTFKernelTests {
    /// The kernel's parsed BTF, or nil after recording why it is skipped.
    private func kernelBTF() throws -> BTF? {
        guard let result = BTFTestSupport.vmlinux else {
            #expect(!BTFTestSupport.kernelRequired, "\(BTFTestSupport.vmlinuxPath) is absent")
            print("BTF kernel tests: skipped, \(BTFTestSupport.vmlinuxPath) is absent")
            return nil
        }
        return try result.get()
    }

    @Test func vmlinuxParsesWithKnownFacts() throws {
        guard let btf = try kernelBTF() else { return }
        #expect(btf.count > 10_000)
        #expect(btf.base == nil && btf.ownIDs.lowerBound == 1)

        let int = try #require(btf.ids(named: "int", kind: .int).first)
        guard case .int(let info) = btf.type(int)?.body else { Issue.record("int is not an INT"); return }
        #expect(info.size == 4 && info.bits == 32 && info.encoding == .signed && info.bitOffset == 0)
        #expect(btf.size(of: int) == 4)

        let task = try #require(btf.ids(named: "task_struct", kind: .struct).first)
        guard case .struct(let composite) = btf.type(task)?.body else { Issue.record("task_struct is not a struct"); return }
        let pid = try #require(composite.members.first { btf.strings.string(at: $0.nameOffset) == "pid" })
        #expect(btf.name(of: pid.type) == "pid_t")
        #expect(btf.kind(of: pid.type) == .typedef)
        #expect(btf.resolved(pid.type) == int)
        #expect(btf.size(of: pid.type) == 4)
        #expect(btf.size(of: task) == Int(composite.size))
        #expect(pid.bitOffset % 8 == 0 && pid.bitfieldSize == 0)

        // A pointer member is 8 bytes; `comm` is a char array of TASK_COMM_LEN (16).
        let comm = try #require(composite.members.first { btf.strings.string(at: $0.nameOffset) == "comm" })
        #expect(btf.size(of: comm.type) == 16)
        guard case .array(let array) = btf.type(btf.resolved(comm.type) ?? 0)?.body else {
            Issue.record("comm is not an array"); return
        }
        #expect(array.count == 16 && btf.name(of: btf.resolved(array.elementType) ?? 0) == "char")
        let mm = try #require(composite.members.first { btf.strings.string(at: $0.nameOffset) == "mm" })
        #expect(btf.kind(of: mm.type) == .pointer && btf.size(of: mm.type) == 8)

        #expect(btf.ids(named: "no_such_type_swiftbpf").isEmpty)
        #expect(btf.name(of: 0) == nil && btf.type(0)?.body == .void)
        #expect(btf.type(BTFTypeID(btf.count)) == nil)
        // Every function's type is a prototype, every variable in a data section is a var.
        var functions = 0
        for id in btf.ownIDs {
            guard let type = btf.type(id) else { Issue.record("type \(id) missing"); continue }
            if case .function(let function) = type.body {
                functions += 1
                #expect(btf.kind(of: function.type) == .functionPrototype, "FUNC [\(id)]")
            }
        }
        #expect(functions > 1000)
    }

    /// Same types, names and fields as `bpftool btf dump file /sys/kernel/btf/vmlinux`.
    @Test func vmlinuxRawDumpMatchesBPFTool() throws {
        guard let btf = try kernelBTF() else { return }
        guard let reference = try BTFTestSupport.bpftoolDump(BTFTestSupport.vmlinuxPath) else {
            #expect(!BTFTestSupport.peersRequired, "bpftool is not installed")
            print("BTF bpftool comparison: skipped, bpftool is not installed")
            return
        }
        let ours = BTFTestSupport.rawDumpLines(btf)
        let typeLines = reference.filter { $0.hasPrefix("[") }
        #expect(typeLines.count == btf.count - 1, "type count: bpftool \(typeLines.count), ours \(btf.count - 1)")
        let mismatches = BTFTestSupport.mismatches(ours, reference)
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
        print("BTF bpftool comparison: vmlinux \(ours.count) lines, \(reference.count) from bpftool, \(mismatches.count) differences shown")
    }

    /// The same text as `bpftool -j btf dump file /sys/kernel/btf/vmlinux`, but for one
    /// bpftool slip: in JSON it sign-extends the values of unsigned 32-bit enums (its raw
    /// output does not), which is copied here before comparing.
    @Test func vmlinuxJSONDumpMatchesBPFTool() throws {
        guard let btf = try kernelBTF() else { return }
        guard let reference = try BTFTestSupport.bpftoolJSON(BTFTestSupport.vmlinuxPath) else {
            #expect(!BTFTestSupport.peersRequired, "bpftool is not installed")
            print("BTF bpftool JSON comparison: skipped, bpftool is not installed")
            return
        }
        var objects: [String] = []
        for id in btf.ownIDs {
            guard var text = btf.jsonDump(of: id) else { Issue.record("no JSON for [\(id)]"); continue }
            if case .enum(let values)? = btf.type(id)?.body, !values.isSigned {
                for value in values.values where value.unsignedValue >= 1 << 31 {
                    text = text.replacingOccurrences(
                        of: "\"val\":\(value.unsignedValue)}", with: "\"val\":\(value.unsignedValue | 0xffff_ffff_0000_0000)}")
                }
            }
            objects.append(text)
        }
        let ours = "{\"types\":[" + objects.joined(separator: ",") + "]}\n"
        guard ours != reference else { return }
        let mismatch = zip(ours.utf8, reference.utf8).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            ?? min(ours.utf8.count, reference.utf8.count)
        let context = { (text: String) in String(decoding: text.utf8.dropFirst(max(0, mismatch - 80)).prefix(160), as: UTF8.self) }
        Issue.record("first difference at byte \(mismatch): ours ...\(context(ours))... bpftool ...\(context(reference))...")
    }

    /// Every module's BTF parses as split BTF on top of vmlinux.
    @Test func moduleBTFParsesAsSplitBTF() throws {
        guard let vmlinux = try kernelBTF() else { return }
        let directory = "/sys/kernel/btf"
        let modules = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0 != "vmlinux" }.sorted()
        if modules.isEmpty { print("BTF module tests: no module BTF in \(directory) (kernel without loadable modules)") }
        for module in modules.prefix(50) {
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(module)")))
            let btf = try BTF(parsing: bytes, base: vmlinux)
            #expect(btf.ownIDs.lowerBound == BTFTypeID(vmlinux.count), "\(module)")
            #expect(btf.type(1) == vmlinux.type(1), "\(module): base types reachable")
            for id in btf.ownIDs { #expect(btf.rawDump(of: id) != nil) }
        }
    }
}
