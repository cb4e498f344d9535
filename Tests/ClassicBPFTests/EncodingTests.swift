import BPFInstructions
import ClassicBPF
import Foundation
import Testing

/// The instruction set: the opcodes the kernel knows, the typed form, the 8-byte encoding
/// and the Linux offsets with the values of linux/filter.h.
@Suite struct EncodingTests {
    /// The opcodes of the kernel's `chk_code_allowed` (net/core/filter.c): exactly these decode.
    static let kernelOpcodes: Set<UInt16> = [
        0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x34, 0x3c, 0x94, 0x9c, 0x54, 0x5c, 0x44, 0x4c, 0xa4, 0xac,
        0x64, 0x6c, 0x74, 0x7c, 0x84,  // ALU
        0x20, 0x28, 0x30, 0x80, 0x40, 0x48, 0x50, 0x00, 0x60, 0x81, 0xb1, 0x01, 0x61,  // loads
        0x02, 0x03, 0x07, 0x87, 0x06, 0x16,  // st, stx, tax, txa, ret k, ret a
        0x05, 0x15, 0x1d, 0x35, 0x3d, 0x25, 0x2d, 0x45, 0x4d,  // jumps
    ]

    @Test func exactlyTheKernelsOpcodesDecode() {
        var known: Set<UInt16> = []
        for code in 0...UInt16.max {
            let raw = RawClassicInstruction(code: code, jt: 3, jf: 4, k: 0x1234_5678)
            guard let instruction = ClassicInstruction(raw) else { continue }
            known.insert(code)
            #expect(instruction.raw.code == code, "0x\(String(code, radix: 16))")
            #expect(ClassicInstruction(instruction.raw) == instruction)
        }
        #expect(known == Self.kernelOpcodes)
        #expect(known.count == 49)
    }

    @Test func typedFormDropsOnlyUnusedFields() {
        let jump = RawClassicInstruction(code: 0x15, jt: 2, jf: 9, k: 0x800)
        #expect(ClassicInstruction(jump) == .branch(.eq, .constant(0x800), jumpTrue: 2, jumpFalse: 9))
        #expect(ClassicInstruction(jump)?.raw == jump)
        // tax ignores k, jt and jf; the typed form encodes them as zero.
        let tax = RawClassicInstruction(code: 0x07, jt: 1, jf: 1, k: 99)
        #expect(ClassicInstruction(tax)?.raw == RawClassicInstruction(code: 0x07))
        #expect(ClassicInstruction(RawClassicInstruction(code: 0x1d, k: 5)) == .branch(.eq, .x, jumpTrue: 0, jumpFalse: 0))
        #expect(ClassicInstruction(RawClassicInstruction(code: 0xb1, k: 14)) == .loadX(.headerLength(offset: 14)))
        #expect(ClassicInstruction(RawClassicInstruction(code: 0x0e)) == nil)   // ret x
        #expect(ClassicInstruction(RawClassicInstruction(code: 0x8c)) == nil)   // neg x
        #expect(ClassicInstruction(RawClassicInstruction(code: 0x104)) == nil)  // high bits set
    }

    @Test func encodesAsStructSockFilter() throws {
        let program = try ClassicProgram([
            RawClassicInstruction(code: 0x28, k: 12),
            RawClassicInstruction(code: 0x15, jt: 0, jf: 1, k: 0x800),
            RawClassicInstruction(code: 0x06, k: 0x40000),
            RawClassicInstruction(code: 0x06, k: 0),
        ])
        let little = program.bytes(order: .little)
        #expect(Array(little.prefix(16)) == [0x28, 0, 0, 0, 12, 0, 0, 0, 0x15, 0, 0, 1, 0, 8, 0, 0])
        #expect(Array(program.bytes(order: .big).prefix(8)) == [0, 0x28, 0, 0, 0, 0, 0, 12])
        #expect(try ClassicProgram(bytes: little, order: .little) == program)
        #expect(try ClassicProgram(bytes: program.bytes()) == program)
        #expect(program.bytes() == (ByteOrder.host == .little ? little : program.bytes(order: .big)))
    }

    @Test func bytesRoundTripForAnyPattern() throws {
        var generator = SeededGenerator(seed: 1)
        for order in [ByteOrder.little, .big] {
            let raw = (0..<500).map { _ in
                RawClassicInstruction(code: .random(in: 0...0xffff, using: &generator), jt: .random(in: 0...255, using: &generator),
                                      jf: .random(in: 0...255, using: &generator), k: .random(in: 0...UInt32.max, using: &generator))
            }
            var bytes: [UInt8] = []
            for instruction in raw { instruction.append(to: &bytes, order: order) }
            #expect(bytes.count == 4000)
            #expect(try RawClassicInstruction.instructions(from: bytes, order: order) == raw)
        }
        let error = #expect(throws: ClassicValidationError.self) { try RawClassicInstruction.instructions(from: [1, 2, 3, 4, 5, 6, 7, 8, 9]) }
        #expect(error?.reason == .truncated(byteCount: 9))
        #expect(error?.description == "instruction 1: code is 9 bytes, not a multiple of 8")
    }

    @Test func ancillaryOffsetsAreLinuxs() throws {
        #expect(AncillaryField.baseOffset == -0x1000)
        #expect(AncillaryField.networkHeaderOffset == -0x100000)
        #expect(AncillaryField.linkLayerHeaderOffset == -0x200000)
        #expect(AncillaryField.protocol.offset == 0xffff_f000)
        #expect(AncillaryField.vlanProtocol.offset == 0xffff_f03c)
        #expect(AncillaryField(offset: 0xffff_f02c) == .vlanTag)
        #expect(AncillaryField(offset: 0xffff_f040) == nil)
        #expect(AncillaryField(offset: 0xffff_f002) == nil)
        #expect(AncillaryField(offset: 12) == nil)
        #expect(ClassicInstruction.loadAncillary(.mark, size: .half).ancillaryField == .mark)

        // Every SKF_AD_* of the installed header, by name.
        let header = "/usr/include/linux/filter.h"
        guard let text = try? String(contentsOfFile: header, encoding: .utf8) else {
            print("skipped: \(header) is not installed")
            return
        }
        let names: [String: AncillaryField] = [
            "PROTOCOL": .protocol, "PKTTYPE": .packetType, "IFINDEX": .interfaceIndex, "NLATTR": .netlinkAttribute,
            "NLATTR_NEST": .nestedNetlinkAttribute, "MARK": .mark, "QUEUE": .queue, "HATYPE": .hardwareType,
            "RXHASH": .receiveHash, "CPU": .cpu, "ALU_XOR_X": .xorX, "VLAN_TAG": .vlanTag,
            "VLAN_TAG_PRESENT": .vlanTagPresent, "PAY_OFFSET": .payloadOffset, "RANDOM": .random, "VLAN_TPID": .vlanProtocol,
        ]
        var seen: Set<AncillaryField> = []
        for line in text.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 3, words[0] == "#define", words[1].hasPrefix("SKF_AD_") else { continue }
            let name = String(words[1].dropFirst(7))
            if name == "OFF" { #expect(words[2] == "(-0x1000)"); continue }
            if name == "MAX" { #expect(UInt32(words[2]) == AncillaryField.rangeEnd); continue }
            let field = try #require(names[name], "filter.h defines SKF_AD_\(name), which AncillaryField lacks")
            #expect(UInt32(words[2]) == field.rawValue, "SKF_AD_\(name)")
            seen.insert(field)
        }
        #expect(seen == Set(AncillaryField.allCases))
    }
}
