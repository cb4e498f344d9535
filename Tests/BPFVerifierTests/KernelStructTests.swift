#if os(Linux)
import BPFInstructions
import BPFObject
import BPFVerifier
import Foundation
import Testing

/// Pointers to kernel structs typed by the running kernel's BTF: bpf_get_current_task_btf's
/// task_struct, its pointer fields, bpf_task_pt_regs. Fixtures/kernel_structs.bpf.c is judged
/// by the kernel too (KernelAgreementTests); these check the messages and the cases without BTF.
@Suite struct KernelStructTests {
    /// vmlinux BTF, or nil (and a skip, or a failure under SWIFTBPF_REQUIRE_KERNEL=1) without it.
    static func kernelTypes(sourceLocation: SourceLocation = #_sourceLocation) -> KernelTypes? {
        if let types = KernelAgreementTests.kernelTypes { return types }
        if ProcessInfo.processInfo.environment["SWIFTBPF_REQUIRE_KERNEL"] == "1" {
            Issue.record("/sys/kernel/btf/vmlinux is required (SWIFTBPF_REQUIRE_KERNEL=1) but cannot be read as BTF", sourceLocation: sourceLocation)
        } else {
            print("skipped: /sys/kernel/btf/vmlinux cannot be read as BTF here")
        }
        return nil
    }

    static func verify(_ text: String, as type: ProgramType = .rawTracepoint, types: KernelTypes?) throws -> Result<VerifiedProgram, Rejection> {
        let program = try Assembler.assemble(text, syntax: .kernel)
        return Result { () throws(Rejection) in try Verifier.verify(program, as: .kernel(type), options: .init(kernelTypes: types)) }
    }

    @Test func withoutTheKernelsBTFTheTaskPointerIsRefusedWithAReason() throws {
        let result = try Self.verify("call 158\nr0 = 0\nexit", types: nil)
        guard case .failure(let rejection) = result else { Issue.record("accepted without BTF"); return }
        #expect(rejection.kind == .unsupported)
        #expect(rejection.message.contains("typed by the kernel's BTF") && rejection.message.contains("/sys/kernel/btf/vmlinux"), "\(rejection)")
    }

    @Test func readsMustFallInsideAField() throws {
        guard let types = Self.kernelTypes() else { return }
        let size = try #require(types.btf.ids(named: "task_struct", kind: .struct).first.flatMap(types.btf.size(of:)))
        // The first 4 bytes of the task are a number (on x86, part of thread_info's flags).
        guard case .success = try Self.verify("call 158\nr0 = *(u32 *)(r0 + 0)\nr0 = 0\nexit", types: types) else {
            Issue.record("a read at offset 0 refused")
            return
        }
        let past = try Self.verify("call 158\nr0 = *(u32 *)(r0 + \(size))\nr0 = 0\nexit", types: types)
        guard case .failure(let end) = past else { Issue.record("a read past the task accepted"); return }
        #expect(end.message.contains("past the end of struct task_struct"), "\(end)")
        let variable = try Self.verify("""
            r6 = r1
            call 158
            r1 = *(u64 *)(r6 + 0)
            r1 &= 8
            r0 += r1
            r0 = *(u32 *)(r0 + 0)
            r0 = 0
            exit
            """, types: types)
        guard case .failure(let offset) = variable else { Issue.record("a variable offset accepted"); return }
        #expect(offset.message.contains("variable offset"), "\(offset)")
    }

    @Test func theTaskMayNotBeWrittenNorPassedAsAnotherStruct() throws {
        guard let types = Self.kernelTypes() else { return }
        guard case .failure(let write) = try Self.verify("call 158\nr1 = 1\n*(u32 *)(r0 + 0) = r1\nr0 = 0\nexit", types: types) else {
            Issue.record("a write accepted")
            return
        }
        #expect(write.message.contains("may only be read"), "\(write)")
        // pt_regs is not a task_struct.
        guard case .failure(let argument) = try Self.verify("call 158\nr1 = r0\ncall 175\nr1 = r0\ncall 175\nr0 = 0\nexit",
                                                            as: .kprobe, types: types) else {
            Issue.record("pt_regs passed as a task accepted")
            return
        }
        #expect(argument.index == 4 && argument.message.contains("struct task_struct"), "\(argument)")
    }

    @Test func kfuncCallsAreRefusedNamingTheFunction() throws {
        guard let types = Self.kernelTypes() else { return }
        let id = try #require(types.btf.ids(named: "bpf_task_acquire", kind: .function).first)
        let program = try Program([.callKernelFunction(btfID: Int32(id), module: 0), .arithmetic(.mov, .bits64, dst: .r0, source: .immediate(0)), .exit])
        let error = try #require(throws: Rejection.self) {
            try Verifier.verify(program, as: .kernel(.rawTracepoint), options: .init(kernelTypes: types))
        }
        #expect(error.kind == .unsupported && error.message.contains("kfuncs"), "\(error)")
        #expect(error.facts == ["the call names bpf_task_acquire (BTF id \(id)) in the kernel's BTF"], "\(error.facts)")
    }
}
#endif
