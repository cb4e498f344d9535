#if os(Linux)
import BPFInstructions
import BPFLinux
import BPFObject
import Foundation
import Glibc
import Testing

/// Programs loaded into the real kernel: from objects (with BTF, global data and maps) and
/// from Swift-built instructions; test runs; verifier rejections.
@Suite struct ProgramLoadTests {
    typealias K = KernelTests

    /// 60 bytes of Ethernet (dst 11.., src 22.., IPv4) and padding.
    static let packet: [UInt8] = [UInt8](repeating: 0x11, count: 6) + [UInt8](repeating: 0x22, count: 6) + [0x08, 0x00]
        + (0..<46).map { UInt8($0) }

    @Test func xdpObjectWithGlobalDataRunsAndRewritesThePacket() throws {
        try K.run {
            let object = try K.object("xdp_rewrite")
            let btf = try LoadedBTF(object: object)
            defer { btf.close() }
            let maps = try K.createMaps(object, btf: btf)
            defer { for map in maps { map.close() } }
            func index(_ section: String) throws -> Int {
                try #require(object.maps.firstIndex { $0.sectionName == section })
            }
            let rodata = try GlobalData(map: maps[index(".rodata")], index: index(".rodata"), of: object)
            let data = try GlobalData(map: maps[index(".data")], index: index(".data"), of: object)
            let bss = try GlobalData(map: maps[index(".bss")], index: index(".bss"), of: object)
            defer {
                rodata.close()
                data.close()
                bss.close()
            }
            #expect(try maps[index(".rodata")].name == "xdp_rewr.rodata")
            #expect(try rodata.value(of: "verdict", as: UInt32.self) == 2)   // XDP_PASS, the initial value
            #expect(try data.value(of: "marker", as: UInt64.self) == 0x1122_3344_5566_7788)
            try rodata.set("verdict", to: UInt32(3))                         // XDP_TX
            try rodata.freeze()
            #expect(try rodata.value(of: "verdict", as: UInt32.self) == 3)
            let frozen = #expect(throws: BPFError.self) { try rodata.set("verdict", to: UInt32(1)) }
            #expect(frozen?.errno == EACCES)
            #expect(maps[try index(".rodata")].isFrozen)
            #expect(!maps[try index(".data")].isFrozen)
            let wrongSize = #expect(throws: BPFError.self) { try rodata.set("verdict", to: UInt8(1)) }
            #expect(wrongSize?.detail == "'verdict' is 4 bytes; got 1")
            let unknown = #expect(throws: BPFError.self) { try bss.value(of: "nothing", as: UInt8.self) }
            #expect(unknown?.detail == "no variable 'nothing'; there are: packets")

            let spec = try #require(object.program(named: "rewrite"))
            let program = try KernelProgram(spec, maps: maps, btf: btf)
            defer { program.close() }
            #expect(program.type == .xdp)
            #expect(program.name == "rewrite")
            #expect(program.jitedSize > 0)
            #expect(program.tag.count == 8)

            let run = try program.testRun(data: Self.packet)
            #expect(run.returnValue == 3)
            #expect(Array(run.data[0..<6]) == [UInt8](repeating: 0x22, count: 6))
            #expect(Array(run.data[6..<12]) == [UInt8](repeating: 0x11, count: 6))
            #expect(Array(run.data[12...]) == Array(Self.packet[12...]))
            #expect(try bss.value(of: "packets", as: UInt64.self) == 1)
            #expect(try data.value(of: "marker", as: UInt64.self) == 0x1122_3344_5566_7789)

            let repeated = try program.testRun(data: Self.packet, repeat: 5)
            #expect(repeated.returnValue == 3)
            #expect(try bss.value(of: "packets", as: UInt64.self) == 6)
            let counts = try TypedMap<UInt16, UInt64>(maps[try index(".maps")])
            #expect(try counts.lookup(0x0800) == 6)

            // The kernel's account of the program, and bpftool's.
            let info = try program.info()
            #expect(info.mapIDs.sorted() == maps.map(\.id).sorted())
            #expect(info.btfID == btf.id)
            #expect(info.functionInfoCount == 1)
            #expect(info.lineInfoCount > 0)
            #expect(try program.translatedInstructions().count * 8 == program.translatedSize)
            if let shown = try K.bpftoolJSON(["prog", "show", "id", String(program.id)]) as? [String: Any] {
                #expect(shown["id"] as? Int == Int(program.id))
                #expect(shown["type"] as? String == "xdp")
                #expect(shown["name"] as? String == "rewrite")
                #expect(shown["tag"] as? String == info.tagText)
                #expect(shown["bytes_xlated"] as? Int == program.translatedSize)
                #expect(shown["bytes_jited"] as? Int == program.jitedSize)
                #expect((shown["map_ids"] as? [Int])?.sorted() == info.mapIDs.map(Int.init).sorted())
                #expect(shown["btf_id"] as? Int == Int(btf.id))
            }
        }
    }

    @Test func verifierRejectionNamesTheInstructionAndSourceLine() throws {
        try K.run {
            let object = try K.object("verifier_reject")
            let btf = try LoadedBTF(object: object)
            defer { btf.close() }
            let maps = try K.createMaps(object, btf: btf)
            defer { for map in maps { map.close() } }
            let spec = try #require(object.program(named: "unchecked"))
            let error = #expect(throws: BPFError.self) { try KernelProgram(spec, maps: maps, btf: btf) }
            let failure = try #require(error)
            #expect(failure.operation == "BPF_PROG_LOAD")
            #expect(failure.errno == EACCES)
            #expect(failure.subject == "unchecked, socket_filter")
            let log = try #require(failure.log)
            #expect(log.contains("invalid mem access 'map_value_or_null'"))
            let failing = try #require(failure.failingInstruction)
            #expect(failing.index == VerifierLog.failingInstructionIndex(in: log))
            let instruction = try Instruction(decoding: spec.instructions, at: failing.index)
            #expect(failing.disassembly == Disassembler.text(of: instruction, syntax: .kernel))
            // The load through the lookup's result, on the line that forgot the check.
            #expect(failing.disassembly?.contains("*(u64 *)(r") == true)
            #expect(failing.sourceLine?.contains("verifier_reject.bpf.c:") == true)
            #expect(failing.sourceLine?.contains("*value += skb->len;") == true)
            #expect(log.contains("*value += skb->len;"))   // the kernel prints the line from BTF too
            let text = failure.description
            #expect(text.contains("the verifier rejected the program"))
            #expect(text.contains("failed at instruction \(failing.index): \(failing.disassembly ?? "")"))
            #expect(text.contains("verifier_reject.bpf.c:16: *value += skb->len;"))

            // Without BTF the instruction is still found, from the log alone.
            let bare = #expect(throws: BPFError.self) { try KernelProgram(spec, maps: maps) }
            #expect(bare?.failingInstruction?.index == failing.index)
            #expect(bare?.failingInstruction?.sourceLine == nil)
        }
    }

    @Test func swiftBuiltProgramsRunWithDataAndContext() throws {
        try K.run {
            let filter = try KernelProgram(Assembler.assemble("r0 = 17\nexit", syntax: .kernel), type: .socketFilter, name: "seventeen")
            defer { filter.close() }
            #expect(filter.type == .socketFilter)
            #expect(try filter.testRun(data: Self.packet).returnValue == 17)

            // A classifier that writes the packet's first byte.
            let writer = try KernelProgram(Assembler.assemble("""
                r2 = *(u32 *)(r1 + 76)
                r3 = *(u32 *)(r1 + 80)
                r4 = r2
                r4 += 1
                if r4 > r3 goto +2
                r5 = 0xaa
                *(u8 *)(r2 + 0) = r5
                r0 = 0
                exit
                """, syntax: .kernel), type: .schedulerClassifier, name: "writer")
            defer { writer.close() }
            let written = try writer.testRun(data: Self.packet)
            #expect(written.returnValue == 0)
            #expect(written.data.first == 0xaa)
            #expect(Array(written.data.dropFirst()) == Array(Self.packet.dropFirst()))

            // A syscall program reads and writes its context.
            let object = try K.object("syscall_context")
            let spec = try #require(object.program(named: "double_it"))
            let program = try KernelProgram(spec)
            defer { program.close() }
            let run = try program.testRun(context: K.bytes(UInt64(21)) + K.bytes(UInt64(0)))
            #expect(run.returnValue == 42)
            let context = try #require(run.context)
            #expect(context.count == 16)
            #expect(K.value(Array(context[8..<16]), as: UInt64.self) == 42)

            // Types without test runs say so.
            let tracepoint = try KernelProgram(Assembler.assemble("r0 = 0\nexit", syntax: .kernel), type: .tracepoint)
            defer { tracepoint.close() }
            let unsupported = #expect(throws: BPFError.self) { try tracepoint.testRun(data: Self.packet) }
            #expect(unsupported?.likelyCause == "this program type cannot be test-run (BPF_PROG_TEST_RUN)")
        }
    }

    @Test func tracingProgramsGetTheirAttachBTFID() throws {
        try K.run {
            let object = try K.object("tracing_btf")
            let btf = try LoadedBTF(object: object)
            defer { btf.close() }
            let maps = try K.createMaps(object, btf: btf)
            defer { for map in maps { map.close() } }
            let spec = try #require(object.program(named: "on_switch"))
            #expect(spec.type == .tracing && spec.expectedAttachType == .traceRawTracepoint)
            let program = try KernelProgram(spec, maps: maps, btf: btf)
            defer { program.close() }
            let expected = try #require(try KernelBTF.vmlinux().ids(named: "btf_trace_sched_switch", kind: .typedef).first)
            #expect(try program.info().attachBTFID == expected)

            // A target the kernel does not have is named in the error.
            var missing = spec
            missing.attachTarget = "no_such_tracepoint"
            let error = #expect(throws: BPFError.self) { try KernelProgram(missing, maps: maps, btf: btf) }
            #expect(error?.detail == "the kernel's BTF has no TYPEDEF 'btf_trace_no_such_tracepoint' to attach to")
        }
    }

    @Test func rawTracepointTestRunTakesItsArguments() throws {
        try K.run {
            let program = try KernelProgram(Assembler.assemble("r0 = *(u64 *)(r1 + 8)\nexit", syntax: .kernel),
                                            type: .rawTracepoint, name: "second_arg")
            defer { program.close() }
            let run = try program.testRun(context: K.bytes(UInt64(5)) + K.bytes(UInt64(1234)))
            #expect(run.returnValue == 1234)
            let repeated = #expect(throws: BPFError.self) { try program.testRun(context: K.bytes(UInt64(5)) + K.bytes(UInt64(6)), repeat: 3) }
            #expect(repeated?.errno == EINVAL)
        }
    }

    @Test func logsOnRequestGrowUntilTheyFit() throws {
        try K.run {
            var source = ""
            for index in 0..<200 { source += "r\(index % 9 + 1) = \(index)\n" }
            source += "r0 = 0\nexit"
            let program = try Assembler.assemble(source, syntax: .kernel)
            let loaded = try KernelProgram(program, type: .socketFilter, options: .init(logLevel: 2, logSize: 1024))
            defer { loaded.close() }
            let log = try #require(loaded.verifierLog)
            #expect(log.utf8.count > 1024)
            #expect(log.contains("processed 202 insns"))
            #expect(loaded.verifiedInstructions == 202)

            let quiet = try KernelProgram(program, type: .socketFilter)
            defer { quiet.close() }
            #expect(quiet.verifierLog == nil)
        }
    }

    @Test func programArraysHoldProgramsByID() throws {
        try K.run {
            let program = try KernelProgram(Assembler.assemble("r0 = 1\nexit", syntax: .kernel), type: .socketFilter)
            defer { program.close() }
            let array = try TypedMap<UInt32, UInt32>(Map(type: .programArray, keySize: 4, valueSize: 4, maxEntries: 4))
            defer { array.map.close() }
            try array.update(2, UInt32(bitPattern: program.fileDescriptor.rawValue))
            #expect(try array.lookup(2) == program.id)
            #expect(try array.delete(2))
            let reopened = try KernelProgram(id: program.id)
            #expect(reopened.tag == program.tag)
            reopened.close()
        }
    }

    @Test func objectIDsAndInformation() throws {
        try K.run {
            let map = try Map(type: .array, keySize: 4, valueSize: 4, maxEntries: 1, name: "ids")
            defer { map.close() }
            #expect(try SystemCall.ids(of: .map).contains(map.id))
            #expect(try SystemCall.nextID(of: .map, after: UInt32.max) == nil)
            let opened = try SystemCall.fileDescriptor(of: .map, id: map.id)
            #expect(SystemCall.objectKind(fd: opened.rawValue) == .map)
            opened.close()
            let gone = #expect(throws: BPFError.self) { try SystemCall.fileDescriptor(of: .program, id: UInt32.max) }
            #expect(gone?.likelyCause == "no object with this id (it may have been freed)")

            let btfIDs = try SystemCall.ids(of: .btf)
            #expect(!btfIDs.isEmpty)
            let vmlinux = try SystemCall.fileDescriptor(of: .btf, id: try #require(btfIDs.first))
            defer { vmlinux.close() }
            let info = try SystemCall.btfInfo(fd: vmlinux.rawValue)
            #expect(info.isKernel && info.name == "vmlinux")

            let statistics = try SystemCall.enableStatistics()
            statistics.close()

            let badBTF = #expect(throws: BPFError.self) { try LoadedBTF(bytes: [0x9f, 0xeb, 1, 0, 24, 0, 0, 0] + [UInt8](repeating: 0xff, count: 16)) }
            #expect(badBTF?.operation == "BPF_BTF_LOAD")
            #expect(badBTF?.log?.isEmpty == false)
        }
    }
}
#endif
