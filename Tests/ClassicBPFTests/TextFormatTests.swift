import ClassicBPF
import Foundation
import Testing

/// The three forms tcpdump prints, byte for byte, and reading them back.
@Suite(.serialized) struct TextFormatTests {
    @Test func printsWhatTcpdumpPrints() throws {
        guard let tcpdump = ClassicTestSupport.tcpdump() else { return }
        var compared = 0
        for filter in ClassicTestSupport.filters {
            let listing = try ClassicTestSupport.compile(tcpdump, filter, flag: "-d")
            let array = try ClassicTestSupport.compile(tcpdump, filter, flag: "-dd")
            let decimal = try ClassicTestSupport.compile(tcpdump, filter, flag: "-ddd")
            let instructions = try ClassicTextFormat.decimal.parse(decimal)
            #expect(ClassicTextFormat.listing.format(instructions) == listing, "\(filter)")
            #expect(ClassicTextFormat.cArray.format(instructions) == array, "\(filter)")
            #expect(ClassicTextFormat.decimal.format(instructions) == decimal, "\(filter)")
            // The listing drops what the instruction ignores (k of `sub x`), so compare meanings.
            #expect(try ClassicTextFormat.listing.parse(listing).map(ClassicInstruction.init) == instructions.map(ClassicInstruction.init),
                    "\(filter)")
            #expect(try ClassicTextFormat.cArray.parse(array) == instructions, "\(filter)")
            compared += 1
        }
        #expect(compared == ClassicTestSupport.filters.count)
        print("compared \(compared) filters with tcpdump in three forms")
    }

    /// Every opcode, known or not, against libpcap's own `bpf_image`.
    @Test func listingLinesMatchLibpcap() throws {
        guard let libpcap = Libpcap.load() else { return }
        var generator = SeededGenerator(seed: 7)
        let interesting: [UInt32] = [0, 1, 12, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0xffff_f000, 0xffff_f004, 0xffff_f03c,
                                     0xffff_f040, 0xfff0_0000, 0xffe0_0000]
        for code in 0...UInt16.max {
            let cases = ClassicInstruction(RawClassicInstruction(code: code)) == nil && code > 0xff ? 1 : 6
            for round in 0..<cases {
                let k = round < 3 ? interesting[Int.random(in: 0..<interesting.count, using: &generator)] : UInt32.random(in: 0...UInt32.max, using: &generator)
                let raw = RawClassicInstruction(code: code, jt: .random(in: 0...255, using: &generator),
                                                jf: .random(in: 0...255, using: &generator), k: k)
                let index = [0, 7, 999, 1000, 4095][round % 5]
                var bytes: [UInt8] = []
                raw.append(to: &bytes)
                let expected = bytes.withUnsafeBytes { raw in libpcap.image(raw.baseAddress, Int32(index)).map { String(cString: $0) } }
                let line = ClassicTextFormat.line(raw, at: index)
                if line != expected {
                    Issue.record("code 0x\(String(code, radix: 16)) k \(k): '\(line)' != libpcap '\(expected ?? "nil")'")
                    return
                }
            }
        }
    }

    @Test func listingOfEveryKind() throws {
        let program: [RawClassicInstruction] = [
            ClassicInstruction.loadA(.constant(0x1234)).raw, ClassicInstruction.loadA(.packet(.word, offset: 12)).raw,
            ClassicInstruction.loadA(.packetIndexed(.half, offset: 14)).raw, ClassicInstruction.loadAncillary(.protocol, size: .byte).raw,
            ClassicInstruction.loadA(.length).raw, ClassicInstruction.loadX(.length).raw,
            ClassicInstruction.loadX(.headerLength(offset: 14)).raw, ClassicInstruction.arithmetic(.add, .constant(0xffff_ffff)).raw,
            ClassicInstruction.arithmetic(.and, .constant(0xffff)).raw, ClassicInstruction.negate.raw,
            ClassicInstruction.jump(offset: 1).raw, ClassicInstruction.branch(.set, .constant(0x1fff), jumpTrue: 0, jumpFalse: 1).raw,
            ClassicInstruction.ret(.constant(0xffff_ffff)).raw, ClassicInstruction.ret(.a).raw, RawClassicInstruction(code: 0x0e),
            ClassicInstruction.loadA(.packet(.word, offset: UInt32(bitPattern: AncillaryField.networkHeaderOffset))).raw,
        ]
        #expect(ClassicTextFormat.listing.format(program) == """
        (000) ld       #0x1234
        (001) ld       [12]
        (002) ldh      [x + 14]
        (003) ldb      [proto]
        (004) ld       #pktlen
        (005) unimp    0x81
        (006) ldxb     4*([14]&0xf)
        (007) add      #-1
        (008) and      #0xffff
        (009) neg      \("")
        (010) ja       12
        (011) jset     #0x1fff          jt 12\tjf 13
        (012) ret      #-1
        (013) ret      \("")
        (014) unimp    0xe
        (015) ld       [-1048576]

        """)
        #expect(try ClassicTextFormat.listing.parse(ClassicTextFormat.listing.format(program)) == program)
        #expect(ClassicTextFormat.decimal.format(Array(program.prefix(2))) == "2\n0 0 0 4660\n32 0 0 12\n")
        #expect(ClassicTextFormat.cArray.format(Array(program.prefix(2))) == "{ 0x0, 0, 0, 0x00001234 },\n{ 0x20, 0, 0, 0x0000000c },\n")
        #expect(ClassicInstruction.branch(.gt, .x, jumpTrue: 2, jumpFalse: 0).description == "jgt x jt +2 jf +0")
        #expect(ClassicInstruction.loadX(.length).description == "ldx #pktlen")
        #expect(ClassicInstruction.loadAncillary(.vlanTagPresent).description == "ld [vlanp]")
    }

    @Test func readsFriendlierListings() throws {
        let text = """
        ; comments and blank lines are fine
        ldh [12]

          jeq #0x800 jt 2 jf 3   ; targets are absolute
        ret #-1
        ret a
        ld #len
        ldx #pktlen
        ldx 4*([ 14 ]&0xf)
        ld [x+14]
        ldb [ vlan_tci ]
        jmp 10
        ret #0X10
        """
        let instructions = try ClassicTextFormat.listing.parse(text)
        #expect(instructions.compactMap(ClassicInstruction.init) == [
            .loadA(.packet(.half, offset: 12)), .branch(.eq, .constant(0x800), jumpTrue: 0, jumpFalse: 1),
            .ret(.constant(0xffff_ffff)), .ret(.a), .loadA(.length), .loadX(.length), .loadX(.headerLength(offset: 14)),
            .loadA(.packetIndexed(.word, offset: 14)), .loadAncillary(.vlanTag, size: .byte), .jump(offset: 0), .ret(.constant(16)),
        ])
    }

    /// The kernel's bpf_asm writes ancillary loads as `ld #name` (filter.rst), with a few
    /// names of its own; both spellings give the same load.
    @Test func readsBpfAsmAncillaryNames() throws {
        let pairs: [(String, AncillaryField, LoadSize)] = [
            ("ld #proto", .protocol, .word), ("ldh #proto", .protocol, .half), ("ld #type", .packetType, .word),
            ("ld #ifidx", .interfaceIndex, .word), ("ld #vlan_tci", .vlanTag, .word), ("ldb #vlan_avail", .vlanTagPresent, .byte),
            ("ld #rxhash", .receiveHash, .word), ("ld #cpu", .cpu, .word), ("ld #rand", .random, .word),
            ("ld #poff", .payloadOffset, .word), ("ld [vlan_avail]", .vlanTagPresent, .word), ("ld [rand]", .random, .word),
        ]
        for (text, field, size) in pairs {
            let instructions = try ClassicTextFormat.listing.parse(text).compactMap(ClassicInstruction.init)
            #expect(instructions == [.loadAncillary(field, size: size)], "\(text)")
        }
        #expect(try ClassicTextFormat.listing.parse("ld #len\nld #7").compactMap(ClassicInstruction.init) == [.loadA(.length), .loadA(.constant(7))])
    }

    @Test func syntaxErrorsSayWhere() {
        func error(_ text: String, as format: ClassicTextFormat = .listing) -> String {
            do {
                _ = try format.parse(text)
                return "no error"
            } catch {
                return error.description
            }
        }
        #expect(error("ldh [12") == "line 1:8: expected ']', found the end of the text")
        #expect(error("ld [12]\nfoo #1") == "line 2:1: unknown instruction 'foo'")
        #expect(error("(000) ld #1\n(002) ret a") == "line 2:2: instruction number 2 should be 1, its place in the program")
        #expect(error("(000) jeq #1 jt 0 jf 1") == "line 1:17: jt target 0 is not after this instruction (0)")
        #expect(error("jeq #1 jt 1 jf 300") == "line 1:16: jf target 300 is 300 instructions ahead; jf reaches at most 256")
        #expect(error("ld #99999999999") == "line 1:5: constant 99999999999 is outside -2147483648...4294967295")
        #expect(error("ld #0x1g") == "line 1:8: unexpected 'g' in constant")
        #expect(error("ldh [frob]") == "line 1:6: unknown ancillary field; known: "
                + AncillaryField.allCases.map(\.name).joined(separator: ", ") + ", vlan_avail, rand")
        #expect(error("ldb #12") == "line 1:6: expected an ancillary field after ldb #, found '12'")
        #expect(error("ret #1 x") == "line 1:8: unexpected 'x' after the instruction")
        #expect(error("add M[1]") == "line 1:5: expected '#k' or 'x' after add, found 'M[1]'")
        #expect(error("ldxb 4*([14]&0xe)") == "line 1:14: expected '4*([k]&0xf)', found '0xe)'")
        #expect(error("{ 0x28, 0, 0, 0x0c },\n{ 0x6, 0 0, 0 }", as: .cArray) == "line 2:10: expected ',' before jf, found '0,'")
        #expect(error("{ 0x28, 0, 0, 0x0c }\nret", as: .cArray) == "line 2:1: expected '{' to start an instruction, found 'ret'")
        #expect(error("{ 0x10000, 0, 0, 0 }", as: .cArray) == "line 1:3: opcode 65536 is outside 0...65535")
        #expect(error("3\n6 0 0 0\n6 0 0 1\n", as: .decimal) == "line 1:1: the count says 3 instructions, but 2 follow")
        #expect(error("1\n6 0 256 0\n", as: .decimal) == "line 2:5: jf 256 is outside 0...255")
        #expect(error("2\n6 0 0", as: .decimal) == "line 2:6: expected k, found the end of the text")
        #expect(error("", as: .decimal) == "line 1:1: expected instruction count, found the end of the text")
    }

    @Test func decimalTakesIptablesCommas() throws {
        let instructions = try ClassicTextFormat.decimal.parse("4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0")
        #expect(instructions.count == 4)
        #expect(instructions[1] == RawClassicInstruction(code: 21, jt: 0, jf: 1, k: 6))
    }

    @Test func everyFormRoundTrips() throws {
        var generator = SeededGenerator(seed: 11)
        for _ in 0..<300 {
            // Any bit pattern survives the numeric forms.
            let raw = (0..<Int.random(in: 0...20, using: &generator)).map { _ in
                RawClassicInstruction(code: .random(in: 0...0xffff, using: &generator), jt: .random(in: 0...255, using: &generator),
                                      jf: .random(in: 0...255, using: &generator), k: .random(in: 0...UInt32.max, using: &generator))
            }
            #expect(try ClassicTextFormat.cArray.parse(ClassicTextFormat.cArray.format(raw)) == raw)
            #expect(try ClassicTextFormat.decimal.parse(ClassicTextFormat.decimal.format(raw)) == raw)
            // The listing keeps what the typed form keeps.
            let typed = RandomClassicPrograms.instructions(using: &generator, linux: true).map(\.raw)
            #expect(try ClassicTextFormat.listing.parse(ClassicTextFormat.listing.format(typed)) == typed)
        }
    }
}
