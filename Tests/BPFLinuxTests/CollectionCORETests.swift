#if os(Linux)
@testable import BPFLinux
import BPFInstructions
import BPFObject
import Foundation
import Testing

private typealias K = KernelTests

/// CO-RE relocations applied by `ObjectCollection` against the running kernel's BTF: the
/// loads of `task->pid` land on the kernel's offsets, and the programs pass the verifier.
@Suite struct CollectionCORETests {
    /// The byte offset of `member` in the kernel's `struct task_struct`.
    static func taskOffset(_ member: String) throws -> Int? {
        let btf = try KernelBTF.vmlinux()
        guard let id = btf.ids(named: "task_struct", kind: .struct).first,
              case .struct(let composite)? = btf.type(id)?.body else { return nil }
        return composite.members.first { btf.strings.string(at: $0.nameOffset) == member }.map { Int($0.bitOffset / 8) }
    }

    /// Whether the translated program reads 4 bytes at `offset` from some register.
    static func readsWord(at offset: Int, in program: KernelProgram) throws -> Bool {
        try program.translatedInstructions().contains { $0.opcode == 0x61 && Int($0.offset) == offset }
    }

    @Test func minimalPreserveAccessIndexStructIsRelocated() throws {
        try K.run {
            let object = try K.object("collection_core")
            #expect(object.programs.allSatisfy { !$0.coreRelocations.isEmpty })
            let collection = try object.load()
            defer { collection.close() }
            let pid = try #require(try Self.taskOffset("pid"))
            let tgid = try #require(try Self.taskOffset("tgid"))
            #expect(pid > 0)
            #expect(try Self.readsWord(at: pid, in: collection.program("on_switch")))
            #expect(try Self.readsWord(at: tgid, in: collection.program("on_enter")))
            #expect(try collection.program("on_switch").info().attachBTFID != 0)
        }
    }

    @Test func vmlinuxHeaderFromOurDumpBuildsACOREProgram() throws {
        try K.run {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-vmlinux-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            // What `swiftbpf btf dump /sys/kernel/btf/vmlinux --format c` writes.
            let header = try KernelBTF.vmlinux().cHeaderBytes()
            try Data(header).write(to: directory.appendingPathComponent("vmlinux.h"))
            let output = directory.appendingPathComponent("collection_vmlinux.bpf.o")
            try K.runTool(K.clang, ["-target", "bpf", "-O2", "-g", "-c", "-I" + directory.path,
                                    K.fixtures.appendingPathComponent("collection_vmlinux.bpf.c").path, "-o", output.path])
            let object = try ObjectFile(parsing: Array(try Data(contentsOf: output)), name: "collection_vmlinux")
            let collection = try object.load()
            defer { collection.close() }
            let pid = try #require(try Self.taskOffset("pid"))
            let tgid = try #require(try Self.taskOffset("tgid"))
            #expect(try Self.readsWord(at: pid, in: collection.program("on_switch")))
            #expect(try Self.readsWord(at: tgid, in: collection.program("on_enter")))
            let info = try collection.program("on_enter").info()
            #expect(info.type == .tracing)
            let target = try KernelBTF.vmlinux().ids(named: "btf_trace_sys_enter", kind: .typedef).first
            #expect(info.attachBTFID == target)
        }
    }
}
#endif
