#if os(Linux)
import BPFInstructions
import ClassicBPF
import Foundation
import Glibc
import PacketFilter
import TestPeers
import Testing

/// The real kernel as the peer: `SO_ATTACH_FILTER` for the validator, and the
/// socket-filter translation loaded with bpf(2) and run with BPF_PROG_TEST_RUN against
/// the interpreter. Skips with a reason where the kernel will not, unless
/// SWIFTBPF_REQUIRE_KERNEL=1.
@Suite(.serialized) struct KernelTests {
    func skip(_ reason: String) {
        if ClassicTestSupport.kernelRequired {
            Issue.record("\(reason) and SWIFTBPF_REQUIRE_KERNEL=1")
        } else {
            print("skipped: \(reason)")
        }
    }

    /// Whether the kernel takes `instructions` on a socket, or the errno it refuses them with.
    static func attach(_ instructions: [RawClassicInstruction], to socket: Int32) -> Int32 {
        var bytes: [UInt8] = []
        for instruction in instructions { instruction.append(to: &bytes) }
        return bytes.withUnsafeBytes { code -> Int32 in
            // struct sock_fprog: unsigned short len, then the pointer at offset 8.
            var program = [UInt8](repeating: 0, count: 16)
            program.withUnsafeMutableBytes { raw in
                raw.storeBytes(of: UInt16(truncatingIfNeeded: instructions.count), toByteOffset: 0, as: UInt16.self)
                raw.storeBytes(of: UInt(bitPattern: code.baseAddress), toByteOffset: 8, as: UInt.self)
            }
            let result = program.withUnsafeBytes { setsockopt(socket, 1 /* SOL_SOCKET */, 26 /* SO_ATTACH_FILTER */, $0.baseAddress, 16) }
            return result == 0 ? 0 : errno
        }
    }

    @Test func validatorAgreesWithSoAttachFilter() throws {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard socket >= 0 else { return skip("no UDP socket (errno \(errno))") }
        defer { close(socket) }
        var generator = SeededGenerator(seed: 81)
        let codes = EncodingTests.kernelOpcodes.sorted()
        var programs: [[RawClassicInstruction]] = ClassicTestSupport.compiledFilters.map(\.instructions)
        programs += try Self.ourGeneveFilters(linkType: .ethernet).map { $0.program.instructions.map(\.raw) }
        for round in 0..<12_000 {
            switch round % 3 {
            case 0:
                programs.append(RandomClassicPrograms.instructions(using: &generator, linux: true, maxLength: 16).map(\.raw))
            case 1:
                var program = RandomClassicPrograms.instructions(using: &generator, linux: true, maxLength: 16).map(\.raw)
                let at = Int.random(in: 0..<program.count, using: &generator)
                switch Int.random(in: 0..<5, using: &generator) {
                case 0: program[at].code = codes[Int.random(in: 0..<codes.count, using: &generator)]
                case 1: program[at].k = [0, 15, 16, 31, 32, 0xffff_f000 + UInt32.random(in: 0...70, using: &generator),
                                         UInt32.random(in: 0...UInt32.max, using: &generator)][Int.random(in: 0..<7, using: &generator)]
                case 2: program[at].jt = UInt8.random(in: 0...20, using: &generator)
                case 3: program[at].code = UInt16.random(in: 0...0x1ff, using: &generator)
                default: program.removeLast()
                }
                programs.append(program)
            default:
                programs.append((0..<Int.random(in: 0...8, using: &generator)).map { _ in
                    RawClassicInstruction(code: codes[Int.random(in: 0..<codes.count, using: &generator)],
                                          jt: UInt8.random(in: 0...3, using: &generator), jf: UInt8.random(in: 0...3, using: &generator),
                                          k: UInt32.random(in: 0...17, using: &generator))
                })
            }
        }
        programs.append([RawClassicInstruction](repeating: ClassicInstruction.ret(.a).raw, count: 4096))
        programs.append([RawClassicInstruction](repeating: ClassicInstruction.ret(.a).raw, count: 4097))
        var accepted = 0, disagreements = 0
        for program in programs {
            let kernel = Self.attach(program, to: socket)
            let ours = Result { try ClassicProgram(program) }
            if kernel == 0 { accepted += 1 }
            switch (kernel, ours) {
            case (0, .success), (EINVAL, .failure): continue
            default:
                disagreements += 1
                if disagreements <= 3 {
                    let verdict = kernel == 0 ? "accepts" : "refuses (errno \(kernel))"
                    Issue.record("kernel \(verdict), we say \(ours)\n\(ClassicTextFormat.cArray.format(program))")
                }
            }
        }
        #expect(accepted > 2000 && accepted < programs.count - 2000)
        print("SO_ATTACH_FILTER: \(programs.count) programs, \(accepted) accepted, \(disagreements) disagreements")
    }

    /// Holds the process-wide kernel test lock: the programs it loads would otherwise show
    /// up in other targets' descriptor leak checks.
    @Test func socketFilterTranslationRunsInTheKernel() throws {
        try KernelTestLock.run { try translationRunsInTheKernel() }
    }

    private func translationRunsInTheKernel() throws {
        guard let bpf = BPFSyscall() else { return skip("bpf(2) is not available") }
        // Probe: a program that returns the packet's length.
        let probe = try ClassicTranslator.translate(try ClassicProgram([.loadA(.length), .ret(.a)]), to: .socketFilter)
        let probeFD: Int32
        switch bpf.loadSocketFilter(probe) {
        case .success(let fd): probeFD = fd
        case .failure(let error):
            if error.errno == EPERM || error.errno == ENOSYS {
                skip("bpf(2) BPF_PROG_LOAD refused: \(error)")
            } else {
                Issue.record("\(error)")
            }
            return
        }
        defer { close(probeFD) }
        let frame = [UInt8](repeating: 0xab, count: 60)
        // BPF_PROG_TEST_RUN strips the Ethernet header for socket filters (eth_type_trans).
        #expect(try bpf.testRun(probeFD, packet: frame) == 46)

        var generator = SeededGenerator(seed: 91)
        var packets = ClassicTestSupport.capturedPackets(limit: 600) + ClassicTestSupport.randomPackets(count: 200, using: &generator)
        packets += GenevePackets.outerPackets.map { GenevePackets.ethernet($0.first.map { $0 >> 4 } == 6 ? 0x86dd : 0x0800, $0) }
        packets = packets.filter(Self.testRunTakes)
        var programs: [(String, ClassicProgram, ClassicSemantics)] = ClassicTestSupport.validFilterPrograms.map { ("\($0.filter)", $0.program, .libpcap) }
        // The test run passes what follows the Ethernet header: raw IP.
        programs += try Self.ourGeneveFilters(linkType: .raw).map { ("ours, raw IP: \($0.expression)", $0.program, .libpcap) }
        for index in 0..<120 {
            if let program = RandomClassicPrograms.program(using: &generator, linux: false) { programs.append(("random \(index)", program, .libpcap)) }
            if let program = RandomClassicPrograms.program(using: &generator, linux: true), Self.kernelComparable(program) {
                programs.append(("random linux \(index)", program, .linux))
            }
        }
        var runs = 0, oursAccepted = 0
        for (name, program, semantics) in programs {
            let translation = try ClassicTranslator.translate(program, to: .socketFilter, semantics: semantics)
            let fd: Int32
            switch bpf.loadSocketFilter(translation) {
            case .success(let descriptor): fd = descriptor
            case .failure(let error):
                Issue.record("\(name): the kernel refuses the translation: \(error)\n\(ClassicTextFormat.listing.format(program))")
                continue
            }
            defer { close(fd) }
            let interpreter = ClassicInterpreter(program: program)
            var mismatches = 0
            for packet in packets {
                let data = Array(packet.dropFirst(14))
                let expected = semantics == .libpcap
                    ? interpreter.run(packet: data) : interpreter.run(packet: data, ancillary: Self.testRunAncillary(frame: packet))
                let actual = try bpf.testRun(fd, packet: packet)
                runs += 1
                if name.hasPrefix("ours"), actual != 0 { oursAccepted += 1 }
                if actual != expected {
                    mismatches += 1
                    if mismatches <= 2 {
                        Issue.record("""
                            \(name): kernel 0x\(String(actual, radix: 16)), interpreter 0x\(String(expected, radix: 16))
                            frame: \(packet.map { String($0, radix: 16) }.joined(separator: " "))
                            \(ClassicTextFormat.listing.format(program))
                            """)
                    }
                }
            }
        }
        print("kernel: \(programs.count) programs loaded, \(runs) test runs compared; our geneve programs accepted \(oursAccepted) frames")
        // The Geneve frames reach past the Geneve header, not only the outer tests.
        #expect(oursAccepted > 0)
    }

    /// PacketFilter's programs for `geneve` followed by primitives (and a second `geneve`),
    /// which keep the inner frame's offset in a scratch word and read with X set to 40 over
    /// IPv6: the kernel must take them as they are (every scratch word written before it is
    /// read) and translated.
    static func ourGeneveFilters(linkType: FilterLinkType) throws -> [(expression: String, program: ClassicProgram)] {
        let expressions = ["geneve", "geneve and tcp", "geneve and tcp port 80", "geneve 5 and udp port 53", "(geneve and tcp) or udp port 53",
                           "geneve and vlan 5 and ip", "geneve and ether host 02:00:00:00:00:01", "geneve and ip6 and udp",
                           "geneve and portrange 50-90", "geneve or ip", "not geneve and ip", "geneve and ip[9] = 6", "geneve and not tcp",
                           "geneve and geneve 5 and tcp port 80", "geneve and (geneve or ip)"]
        return try expressions.map { ($0, try PacketFilter.compile($0, linkType: linkType)) }
    }

    /// BPF_PROG_TEST_RUN refuses frames outside 14...~3.5k bytes and IP frames without a
    /// whole IP header.
    static func testRunTakes(_ frame: [UInt8]) -> Bool {
        guard frame.count >= 14, frame.count <= 1500 else { return false }
        switch (frame[12], frame[13]) {
        case (0x08, 0x00): return frame.count >= 34
        case (0x86, 0xdd): return frame.count >= 54
        default: return true
        }
    }

    /// Linux programs whose results the test run can reproduce: no CPU number or random
    /// value, nothing the socket filter cannot read, no link-layer header (it lies before
    /// the data the test run passes, where AncillaryData cannot point).
    static func kernelComparable(_ program: ClassicProgram) -> Bool {
        for instruction in program.instructions {
            if let field = instruction.ancillaryField, [.cpu, .random, .hardwareType, .payloadOffset, .netlinkAttribute,
                                                        .nestedNetlinkAttribute].contains(field) { return false }
            let k: UInt32
            switch instruction {
            case .loadA(.packet(_, let offset)), .loadA(.packetIndexed(_, let offset)), .loadX(.headerLength(let offset)): k = offset
            default: continue
            }
            if Int32(bitPattern: k) < AncillaryField.networkHeaderOffset + 0x10000 && Int32(bitPattern: k) < 0 { return false }
        }
        return true
    }

    /// What the test run's skb holds: eth_type_trans on the loopback device.
    static func testRunAncillary(frame: [UInt8]) -> AncillaryData {
        let etherType = UInt16(frame[12]) << 8 | UInt16(frame[13])
        let proto: UInt16 = etherType >= 0x600 ? etherType
            : frame.count >= 16 && frame[14] == 0xff && frame[15] == 0xff ? 0x0001 : 0x0004
        let packetType: UInt8
        if frame[0] & 1 != 0 {
            packetType = frame.prefix(6).allSatisfy { $0 == 0xff } ? 1 : 2
        } else {
            packetType = frame.prefix(6).allSatisfy { $0 == 0 } ? 0 : 3
        }
        return AncillaryData(protocol: proto, packetType: packetType, interfaceIndex: 1, networkHeaderOffset: 0)
    }
}

/// The two bpf(2) commands the test needs, through libc's `syscall` (variadic in C, so
/// called through a fixed prototype; its integer arguments pass the same way).
struct BPFSyscall {
    struct Failure: Error, CustomStringConvertible {
        var errno: Int32
        var log: String
        var description: String { "errno \(errno) (\(String(cString: strerror(errno))))" + (log.isEmpty ? "" : "\n\(log)") }
    }

    typealias Function = @convention(c) (Int, Int, UnsafeMutableRawPointer?, Int) -> Int
    let call: Function
    #if arch(x86_64)
    static let number = 321
    #elseif arch(arm64)
    static let number = 280
    #else
    static let number = -1
    #endif

    init?() {
        guard Self.number > 0, let symbol = dlsym(dlopen(nil, RTLD_NOW), "syscall") else { return nil }
        call = unsafeBitCast(symbol, to: Function.self)
    }

    private func bpf(_ command: Int, _ attributes: inout [UInt8]) -> Int {
        attributes.withUnsafeMutableBytes { call(Self.number, command, $0.baseAddress, $0.count) }
    }

    /// BPF_PROG_LOAD as BPF_PROG_TYPE_SOCKET_FILTER; the verifier's log comes with a refusal.
    func loadSocketFilter(_ program: Program) -> Result<Int32, Failure> {
        let code = program.bytes(order: .host)
        let license = Array("GPL".utf8CString)
        var log = [CChar](repeating: 0, count: 1 << 20)
        for logLevel: UInt32 in [0, 1] {
            var attributes = [UInt8](repeating: 0, count: 160)
            let fd = code.withUnsafeBytes { insns in
                license.withUnsafeBytes { licenseBytes in
                    log.withUnsafeMutableBytes { logBytes in
                        attributes.withUnsafeMutableBytes { raw in
                            raw.storeBytes(of: UInt32(1), toByteOffset: 0, as: UInt32.self)  // BPF_PROG_TYPE_SOCKET_FILTER
                            raw.storeBytes(of: UInt32(program.slots.count), toByteOffset: 4, as: UInt32.self)
                            raw.storeBytes(of: UInt64(UInt(bitPattern: insns.baseAddress)), toByteOffset: 8, as: UInt64.self)
                            raw.storeBytes(of: UInt64(UInt(bitPattern: licenseBytes.baseAddress)), toByteOffset: 16, as: UInt64.self)
                            if logLevel > 0 {
                                raw.storeBytes(of: logLevel, toByteOffset: 24, as: UInt32.self)
                                raw.storeBytes(of: UInt32(logBytes.count), toByteOffset: 28, as: UInt32.self)
                                raw.storeBytes(of: UInt64(UInt(bitPattern: logBytes.baseAddress)), toByteOffset: 32, as: UInt64.self)
                            }
                        }
                        return bpf(5, &attributes)  // BPF_PROG_LOAD
                    }
                }
            }
            if fd >= 0 { return .success(Int32(fd)) }
            let error = errno
            if logLevel == 1 || error == EPERM || error == ENOSYS {
                let text = String(decoding: log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                return .failure(Failure(errno: error, log: String(text.suffix(4000))))
            }
        }
        return .failure(Failure(errno: EINVAL, log: ""))
    }

    /// BPF_PROG_TEST_RUN once on `packet`; the program's return value.
    func testRun(_ fd: Int32, packet: [UInt8]) throws -> UInt32 {
        var attributes = [UInt8](repeating: 0, count: 160)
        let result = packet.withUnsafeBytes { data in
            attributes.withUnsafeMutableBytes { raw in
                raw.storeBytes(of: UInt32(fd), toByteOffset: 0, as: UInt32.self)
                raw.storeBytes(of: UInt32(data.count), toByteOffset: 8, as: UInt32.self)
                raw.storeBytes(of: UInt64(UInt(bitPattern: data.baseAddress)), toByteOffset: 16, as: UInt64.self)
                raw.storeBytes(of: UInt32(1), toByteOffset: 32, as: UInt32.self)  // repeat
            }
            return bpf(10, &attributes)  // BPF_PROG_TEST_RUN
        }
        guard result == 0 else { throw Failure(errno: errno, log: "BPF_PROG_TEST_RUN returned \(result), fd \(fd), \(packet.count) bytes") }
        return attributes.withUnsafeBytes { $0.load(fromByteOffset: 4, as: UInt32.self) }
    }
}
#endif
