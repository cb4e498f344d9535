import ClassicBPF
import Foundation
import Testing

/// libpcap's `bpf_filter` semantics, and the Linux socket filter's where they differ.
@Suite struct InterpreterTests {
    /// Runs the `tcpdump -d` style `listing` on `packet`.
    func run(_ listing: String, _ packet: [UInt8] = [], wireLength: UInt32? = nil, ancillary: AncillaryData? = nil) throws -> UInt32 {
        let program = try ClassicProgram(ClassicTextFormat.listing.parse(listing))
        return ClassicInterpreter(program: program).run(packet: packet, wireLength: wireLength, ancillary: ancillary)
    }

    let bytes: [UInt8] = [0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0]

    @Test func loadsAreBigEndianAndOutOfRangeDrops() throws {
        #expect(try run("ld [0]\nret a", bytes) == 0x1234_5678)
        #expect(try run("ldh [6]\nret a", bytes) == 0xdef0)
        #expect(try run("ldb [7]\nret a", bytes) == 0xf0)
        #expect(try run("ld [4]\nret a", bytes) == 0x9abc_def0)
        // One byte past the end ends the program with 0, whatever comes after.
        #expect(try run("ld [5]\nret #1", bytes) == 0)
        #expect(try run("ldh [7]\nret #1", bytes) == 0)
        #expect(try run("ldb [8]\nret #1", bytes) == 0)
        #expect(try run("ldb [0]\nret #1", []) == 0)
        #expect(try run("ld [4000000000]\nret #1", bytes) == 0)
        #expect(try run("ld [2147483647]\nret #1", bytes) == 0)
    }

    @Test func indexedLoadsCheckTheSumWithoutWrapping() throws {
        #expect(try run("ldx #4\nld [x + 0]\nret a", bytes) == 0x9abc_def0)
        #expect(try run("ldx #1\nldh [x + 5]\nret a", bytes) == 0xdef0)
        #expect(try run("ldx #7\nldb [x + 1]\nret #1", bytes) == 0)
        // X + k wraps to 0 on 32 bits; libpcap refuses, Linux reads byte 0.
        #expect(try run("ldx #0xffffffff\nldb [x + 1]\nret a", bytes) == 0)
        #expect(try run("ldx #0xffffffff\nldb [x + 1]\nret a", bytes, ancillary: AncillaryData()) == 0x12)
        #expect(try run("ldx #1\nldb [x + -1]\nret a", bytes) == 0)
        #expect(try run("ldx #1\nldb [x + -1]\nret a", bytes, ancillary: AncillaryData()) == 0x12)
    }

    @Test func lengthIsTheWireLength() throws {
        #expect(try run("ld #pktlen\nret a", bytes) == 8)
        #expect(try run("ld #len\nret a", bytes, wireLength: 1514) == 1514)
        #expect(try run("ldx #len\ntxa\nret a", bytes, wireLength: 60) == 60)
    }

    @Test func arithmeticWrapsOn32Bits() throws {
        #expect(try run("ld #0xffffffff\nadd #2\nret a") == 1)
        #expect(try run("ld #1\nsub #2\nret a") == 0xffff_ffff)
        #expect(try run("ld #0x10000\nmul #65536\nret a") == 0)
        #expect(try run("ld #0x80000000\nneg\nret a") == 0x8000_0000)
        #expect(try run("ld #5\nneg\nret a") == 0xffff_fffb)
        #expect(try run("ld #100\ndiv #7\nret a") == 14)
        #expect(try run("ld #100\nmod #7\nret a") == 2)
        #expect(try run("ld #0xf0f0\nand #0xff00\nor #0x1\nxor #0xffff0000\nret a") == 0xffff_f001)
        #expect(try run("ld #0xffffffff\ndiv #2\nret a") == 0x7fff_ffff)  // unsigned
        #expect(try run("ld #3\nlsh #31\nrsh #1\nret a") == 0x4000_0000)
        #expect(try run("ldx #3\nld #10\nsub x\nmul x\nadd x\nret a") == 24)
    }

    @Test func divisionByAnXOfZeroDrops() throws {
        #expect(try run("ldx #0\nld #7\ndiv x\nret #1") == 0)
        #expect(try run("ldx #0\nld #7\nmod x\nret #1") == 0)
        #expect(try run("ldx #3\nld #7\nmod x\nret a") == 1)
        #expect(try run("ldx #3\nld #7\ndiv x\nret a") == 2)
    }

    @Test func shiftsByXOf32OrMore() throws {
        #expect(try run("ldx #31\nld #1\nlsh x\nret a") == 0x8000_0000)
        // libpcap: 0; Linux masks the amount as eBPF does.
        #expect(try run("ldx #33\nld #1\nlsh x\nret a") == 0)
        #expect(try run("ldx #33\nld #1\nlsh x\nret a", ancillary: AncillaryData()) == 2)
        #expect(try run("ldx #32\nld #0x80\nrsh x\nret a") == 0)
        #expect(try run("ldx #36\nld #0x80\nrsh x\nret a", ancillary: AncillaryData()) == 8)
    }

    @Test func headerLengthAndTransfers() throws {
        var frame = [UInt8](repeating: 0, count: 40)
        frame[14] = 0x46
        #expect(try run("ld #7\nldxb 4*([14]&0xf)\nadd x\nret a", frame) == 31)  // A kept, X = 24
        #expect(try run("ldxb 4*([40]&0xf)\nret #1", frame) == 0)
        #expect(try run("ld #9\ntax\nld #0\ntxa\nret a") == 9)
    }

    @Test func jumpsAndScratch() throws {
        let listing = """
        (000) ldb      [0]
        (001) jeq      #0x12            jt 2	jf 5
        (002) ldx      #0x12
        (003) jgt      x                jt 5	jf 4
        (004) ja       6
        (005) ret      #1
        (006) st       M[3]
        (007) ldx      M[3]
        (008) jset     #0x1             jt 9	jf 10
        (009) ret      #2
        (010) jge      #0x13            jt 11	jf 12
        (011) ret      #3
        (012) ret      
        """
        #expect(try run(listing, [0x12]) == 0x12)
        #expect(try run(listing, [0x13]) == 1)
        #expect(try run(listing.replacingOccurrences(of: "#0x1 ", with: "#0x2 "), [0x12]) == 2)
        #expect(try run(listing.replacingOccurrences(of: "#0x13", with: "#0x12"), [0x12]) == 3)
    }

    @Test func tcpPort80() throws {
        // tcpdump -d -y EN10MB 'tcp port 80'
        let listing = """
        (000) ldh      [12]
        (001) jeq      #0x86dd          jt 2	jf 8
        (002) ldb      [20]
        (003) jeq      #0x6             jt 4	jf 19
        (004) ldh      [54]
        (005) jeq      #0x50            jt 18	jf 6
        (006) ldh      [56]
        (007) jeq      #0x50            jt 18	jf 19
        (008) jeq      #0x800           jt 9	jf 19
        (009) ldb      [23]
        (010) jeq      #0x6             jt 11	jf 19
        (011) ldh      [20]
        (012) jset     #0x1fff          jt 19	jf 13
        (013) ldxb     4*([14]&0xf)
        (014) ldh      [x + 14]
        (015) jeq      #0x50            jt 18	jf 16
        (016) ldh      [x + 16]
        (017) jeq      #0x50            jt 18	jf 19
        (018) ret      #262144
        (019) ret      #0
        """
        let interpreter = ClassicInterpreter(program: try ClassicProgram(ClassicTextFormat.listing.parse(listing)))
        var ipv4 = [UInt8](repeating: 0, count: 14) + [0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]
        ipv4[12] = 0x08
        let http = ipv4 + [0xc0, 0x01, 0x00, 0x50] + [UInt8](repeating: 0, count: 16)
        #expect(interpreter.run(packet: http) == 262_144)
        var fromServer = http
        (fromServer[34], fromServer[35], fromServer[36], fromServer[37]) = (0, 0x50, 0xc0, 1)
        #expect(interpreter.run(packet: fromServer) == 262_144)
        var other = http
        other[37] = 0x51
        #expect(interpreter.run(packet: other) == 0)
        var fragment = http
        fragment[21] = 1  // fragment offset 1
        #expect(interpreter.run(packet: fragment) == 0)
        #expect(interpreter.run(packet: Array(http.prefix(36))) == 0)  // ports cut off
        var options = http
        options[14] = 0x46  // a 24-byte header moves the ports
        #expect(interpreter.run(packet: options) == 0)
        options.insert(contentsOf: [0, 0, 0, 0], at: 34)
        #expect(interpreter.run(packet: options) == 262_144)
    }

    @Test func ancillaryFieldsNeedLinux() throws {
        let data = AncillaryData(protocol: 0x86dd, packetType: 3, interfaceIndex: 7, mark: 0xdead_beef, queue: 5,
                                 hardwareType: 1, receiveHash: 0x1234_5678, cpu: 3, vlanTag: 0x2064, vlanTagPresent: true,
                                 vlanProtocol: 0x88a8, payloadOffset: 54, random: 42)
        let expected: [AncillaryField: UInt32] = [
            .protocol: 0x86dd, .packetType: 3, .interfaceIndex: 7, .mark: 0xdead_beef, .queue: 5, .hardwareType: 1,
            .receiveHash: 0x1234_5678, .cpu: 3, .vlanTag: 0x2064, .vlanTagPresent: 1, .vlanProtocol: 0x88a8,
            .payloadOffset: 54, .random: 42,
        ]
        for (field, value) in expected {
            for size in LoadSize.allCases {
                let program = try ClassicProgram([.loadAncillary(field, size: size), .ret(.a)])
                let interpreter = ClassicInterpreter(program: program)
                #expect(interpreter.run(packet: bytes, ancillary: data) == value, "\(field)")
                // libpcap has no ancillary data: the load is out of range.
                #expect(interpreter.run(packet: bytes) == 0, "\(field)")
            }
        }
        #expect(try run("ld #0xf0\nldx #0xff\nld [xor_x]\nret a", ancillary: data) == 0x0f)
        #expect(try run("ld #0xf0\nldx #0xff\nld [xor_x]\nret #1") == 0)
    }

    @Test func headerOffsets() throws {
        let frame: [UInt8] = [UInt8](repeating: 0xee, count: 14) + [0x45, 0x00, 0x00, 0x54, 1, 2, 3, 4, 64, 17]
        let data = AncillaryData(networkHeaderOffset: 14, linkLayerHeaderOffset: 0)
        #expect(try run("ldb [-1048567]\nret a", frame, ancillary: data) == 17)     // SKF_NET_OFF + 9
        #expect(try run("ldh [-2097152]\nret a", frame, ancillary: data) == 0xeeee)  // SKF_LL_OFF
        #expect(try run("ldx #9\nldb [x + -1048576]\nret a", frame, ancillary: data) == 17)
        #expect(try run("ldxb 4*([-1048576]&0xf)\ntxa\nret a", frame, ancillary: data) == 20)
        #expect(try run("ld [-1048556]\nret #1", frame, ancillary: data) == 0)  // past the end
        #expect(try run("ldb [-2097153]\nret #1", frame, ancillary: data) == 0)  // below SKF_LL_OFF
        #expect(try run("ldb [-1048567]\nret #1", frame, ancillary: AncillaryData()) == 0)  // no header set
        #expect(try run("ldb [-1048567]\nret #1", frame) == 0)  // libpcap
    }

    @Test func netlinkAttributes() throws {
        // Attributes (host-order length, type): [8, 1, 4 bytes], [5, 2, 1 byte + pad], [12, nested 3: [8, 4, 4 bytes]].
        func attribute(_ type: UInt16, _ payload: [UInt8]) -> [UInt8] {
            var bytes: [UInt8] = []
            withUnsafeBytes(of: UInt16(4 + payload.count)) { bytes += $0 }
            withUnsafeBytes(of: type) { bytes += $0 }
            bytes += payload
            while bytes.count % 4 != 0 { bytes.append(0) }
            return bytes
        }
        let nested = attribute(4, [9, 9, 9, 9])
        let message = [UInt8](repeating: 0, count: 16) + attribute(1, [1, 2, 3, 4]) + attribute(2, [7]) + attribute(0x8003, nested)
        let linux = AncillaryData()
        #expect(try run("ld #16\nldx #2\nld [nla]\nret a", message, ancillary: linux) == 24)
        #expect(try run("ld #16\nldx #1\nld [nla]\nret a", message, ancillary: linux) == 16)
        #expect(try run("ld #16\nldx #3\nld [nla]\nret a", message, ancillary: linux) == 32)  // NLA_F_NESTED masked off
        #expect(try run("ld #16\nldx #4\nld [nla]\nret a", message, ancillary: linux) == 0)
        #expect(try run("ld #32\nldx #4\nld [nlan]\nret a", message, ancillary: linux) == 36)
        #expect(try run("ld #32\nldx #5\nld [nlan]\nret a", message, ancillary: linux) == 0)
        #expect(try run("ld #1000\nldx #1\nld [nla]\nret a", message, ancillary: linux) == 0)
        #expect(try run("ld #16\nldx #1\nld [nla]\nret #7", message) == 0)
    }

    @Test func runsAreIndependentAcrossThreads() async throws {
        let interpreter = ClassicInterpreter(program: try ClassicProgram(ClassicTextFormat.listing.parse(
            "ld [0]\nst M[0]\nldx M[0]\ntxa\nret a")))
        let results = await withTaskGroup(of: Bool.self) { group in
            for value in 0..<64 {
                group.addTask {
                    let packet = withUnsafeBytes(of: UInt32(value).bigEndian) { Array($0) }
                    return (0..<1000).allSatisfy { _ in interpreter.run(packet: packet) == UInt32(value) }
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0 })
    }
}
