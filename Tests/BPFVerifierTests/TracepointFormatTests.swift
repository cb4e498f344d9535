import BPFInstructions
import BPFVerifier
import Foundation
import Testing
#if os(Linux)
import BPFLinux
import TestPeers
#endif

/// Tracepoint contexts laid out by tracefs' format files: the parser, the reads the verifier
/// then refuses, and the kernel's own verdict (it refuses to attach a program that reads past
/// the record) on the same programs.
@Suite struct TracepointFormatTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/sys_enter_openat.format")

    static func openat() throws -> TracepointFormat {
        try TracepointFormat(parsing: String(decoding: try Data(contentsOf: fixture), as: UTF8.self))
    }

    @Test func parsesAFormatFile() throws {
        let format = try Self.openat()
        #expect(format.name == "sys_enter_openat")
        #expect(format.id == 782)
        #expect(format.fields.map(\.name) == ["common_type", "common_flags", "common_preempt_count", "common_pid",
                                             "__syscall_nr", "dfd", "filename", "flags", "mode"])
        #expect(format.recordSize == 48)
        let filename = try #require(format.field(at: 30))
        #expect(filename.name == "filename" && filename.type == "const char *" && filename.offset == 24 && filename.size == 8)
        #expect(format.field(at: 12) == nil, "bytes 12-15 are padding")

        let array = try TracepointFormat(parsing: """
            name: sched_switch
            format:
            \tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;
            \tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;
            """)
        #expect(array.fields[0].name == "prev_comm" && array.fields[0].type == "char[16]")
        #expect(array.fields[1].isSigned && array.recordSize == 28 && array.id == nil)
    }

    @Test(arguments: [
        ("name: x\nformat:\n\tfield:int a;\toffset:z;\tsize:4;\tsigned:1;\n", "line 3: the field's offset is missing or not a number below 65536"),
        ("name: x\n\tfield:int a;\toffset:8;\tsize:0;\tsigned:1;\n", "line 2: the field's size is missing or not a positive number below 65536"),
        ("name: x\nID: seven\n", "line 2: the ID is not a number"),
        ("format:\n\tfield:int a;\toffset:8;\tsize:4;\tsigned:1;\n", "line 1: there is no 'name:' line"),
        ("name: x\nprint fmt: \"\"\n", "line 1: there are no 'field:' lines"),
        ("name: x\n\tfield:;\toffset:8;\tsize:4;\n", "line 2: the field has no type and name"),
    ])
    func malformedFormatsNameTheLine(text: String, message: String) {
        #expect(throws: TracepointFormatError.self) { try TracepointFormat(parsing: text) }
        do { _ = try TracepointFormat(parsing: text) } catch { #expect(error.description == message) }
    }

    static func reading(_ offset: Int, size: String = "u64") throws -> Program {
        try Assembler.assemble("r0 = *(\(size) *)(r1 + \(offset))\nr0 = 0\nexit", syntax: .kernel)
    }

    @Test func readsPastTheRecordAreRefused() throws {
        let options = Verifier.Options(tracepointFormat: try Self.openat())
        _ = try Verifier.verify(try Self.reading(40), as: .kernel(.tracepoint), options: options)
        _ = try Verifier.verify(try Self.reading(44, size: "u32"), as: .kernel(.tracepoint), options: options)
        let error = try #require(throws: Rejection.self) {
            try Verifier.verify(try Self.reading(48, size: "u32"), as: .kernel(.tracepoint), options: options)
        }
        #expect(error.kind == .invalidContextAccess)
        #expect(error.message == "this 4-byte read of the tracepoint context at offset 48 is past the end of the sys_enter_openat record (48 bytes)",
                "\(error.message)")
        // Without a layout, the kernel verifier's own bounds.
        _ = try Verifier.verify(try Self.reading(48), as: .kernel(.tracepoint))
        _ = try Verifier.verify(try Self.reading(8184), as: .kernel(.tracepoint))
        #expect(throws: Rejection.self) { try Verifier.verify(try Self.reading(8192), as: .kernel(.tracepoint)) }
        for options in [Verifier.Options(), options] {
            let common = try #require(throws: Rejection.self) {
                try Verifier.verify(try Self.reading(4, size: "u32"), as: .kernel(.tracepoint), options: options)
            }
            #expect(common.message.contains("common to all events"), "\(common.message)")
        }
    }

    #if os(Linux)
    /// Each read, as the kernel judges it: loaded (its verifier) and attached to
    /// syscalls/sys_enter_openat (its check of the record's size), against ours with the
    /// layout read from tracefs.
    @Test func theKernelAgreesOnEveryOffset() throws {
        guard KernelPeer.available() else { return }
        let format = try TracepointFormat(parsing: try Tracefs.tracepointFormat(category: "syscalls", name: "sys_enter_openat"))
        let options = Verifier.Options(tracepointFormat: format)
        var agreed = 0
        try KernelTestLock.run {
            let before = KernelPeer.openBPFDescriptors()
            defer { #expect(KernelPeer.openBPFDescriptors() == before, "bpf descriptors left open") }
            for (offset, size) in [(4, "u32"), (8, "u64"), (16, "u32"), (24, "u64"), (40, "u64"), (44, "u32"), (48, "u64"),
                                   (56, "u16"), (200, "u64"), (8184, "u64"), (8192, "u32")] {
                let program = try Self.reading(offset, size: size)
                let ours = (try? Verifier.verify(program, as: .kernel(.tracepoint), options: options)) != nil
                var kernel = false
                if let loaded = try? KernelProgram(program, type: .tracepoint, name: "verifier_tp") {
                    defer { loaded.close() }
                    if let link = try? Link.tracepoint("syscalls", "sys_enter_openat", program: loaded) {
                        link.close()
                        kernel = true
                    }
                }
                #expect(ours == kernel, "a \(size) read at \(offset): SwiftBPF \(ours ? "accepts" : "refuses"), the kernel \(kernel ? "accepts" : "refuses")")
                if ours == kernel { agreed += 1 }
            }
        }
        print("tracepoint record reads: \(agreed) of 11 agree with the kernel")
    }
    #endif
}
