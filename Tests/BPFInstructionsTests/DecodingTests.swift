import BPFInstructions
import Testing

/// Encoding and the validating decoder: byte orders, and every reason code is refused for.
@Suite struct DecodingTests {
    @Test func encodesBothByteOrdersAsRFC9669Shows() throws {
        // RFC 9669, "Instruction encoding": r1 += 0x11223344 in both byte orders.
        let add = Instruction.arithmetic(.add, .bits64, dst: .r1, source: .immediate(0x1122_3344))
        let program = try Program([add, .exit])
        #expect(Array(program.bytes(order: .little).prefix(8)) == [0x07, 0x01, 0x00, 0x00, 0x44, 0x33, 0x22, 0x11])
        #expect(Array(program.bytes(order: .big).prefix(8)) == [0x07, 0x10, 0x00, 0x00, 0x11, 0x22, 0x33, 0x44])
        #expect(try Program(bytes: program.bytes(order: .big), order: .big) == program)
        #expect(program.instructions.map(\.instruction) == [add, .exit])
    }

    @Test func wideLoadTakesTwoSlots() throws {
        let load = Instruction.loadImmediate64(dst: .r3, value: 0x1122_3344_5566_7788)
        let program = try Program([load, .exit])
        #expect(program.slots.count == 3)
        #expect(program.instructions.map(\.index) == [0, 2])
        guard case .loadImmediate64(_, .immediate, let imm, let next) = program.instructions[0].instruction else {
            Issue.record("not a lddw")
            return
        }
        #expect(Instruction.immediate64(imm: imm, nextImm: next) == 0x1122_3344_5566_7788)
    }

    func reason(_ slots: [RawInstruction]) -> DecodeError? {
        do {
            _ = try Program(slots: slots)
            return nil
        } catch {
            return error
        }
    }

    @Test func refusesMalformedCodeNamingTheInstruction() {
        let exit = RawInstruction(opcode: 0x95)
        #expect(reason([]) == DecodeError(index: 0, reason: .emptyProgram))
        #expect(reason([exit, RawInstruction(opcode: 0x0e)]) == DecodeError(index: 1, reason: .unknownOpcode(0x0e)))
        #expect(reason([RawInstruction(opcode: 0xb7, src: 1), exit])
                == DecodeError(index: 0, reason: .reservedFieldSet(field: "src", value: 1)))
        #expect(reason([RawInstruction(opcode: 0xbf, dst: 11), exit])
                == DecodeError(index: 0, reason: .invalidRegister(field: "dst", value: 11)))
        #expect(reason([RawInstruction(opcode: 0x18, dst: 0, imm: 1)]) == DecodeError(index: 0, reason: .missingSecondHalf))
        #expect(reason([RawInstruction(opcode: 0x18), RawInstruction(opcode: 0x95), exit])
                == DecodeError(index: 1, reason: .invalidSecondHalf))
        #expect(reason([RawInstruction(opcode: 0x05, offset: 1), exit])
                == DecodeError(index: 0, reason: .jumpOutOfRange(target: 2)))
        #expect(reason([RawInstruction(opcode: 0x05, offset: -2), exit])
                == DecodeError(index: 0, reason: .jumpOutOfRange(target: -1)))
        #expect(reason([RawInstruction(opcode: 0x05, offset: 1), RawInstruction(opcode: 0x18), RawInstruction(opcode: 0), exit])
                == DecodeError(index: 0, reason: .jumpIntoWideInstruction(target: 2)))
        #expect(reason([RawInstruction(opcode: 0x85, src: 1, imm: 5), exit])
                == DecodeError(index: 0, reason: .jumpOutOfRange(target: 6)))
        #expect(reason([RawInstruction(opcode: 0xd4, dst: 1, imm: 24), exit])
                == DecodeError(index: 0, reason: .invalidField(field: "imm (swap width)", value: 24)))
        #expect(reason([RawInstruction(opcode: 0xd3, dst: 1, src: 2, imm: 0x01), exit])
                == DecodeError(index: 0, reason: .unknownOpcode(0xd3)))  // atomic add on a byte
        #expect(reason([RawInstruction(opcode: 0xdb, dst: 1, src: 2, imm: 0x02), exit])
                == DecodeError(index: 0, reason: .invalidField(field: "imm (atomic operation)", value: 2)))
        #expect((try? Program(bytes: [0x95, 0, 0, 0, 0, 0, 0])) == nil)
        #expect(DecodeError(index: 3, reason: .unknownOpcode(0xff)).description == "instruction 3: unknown opcode 0xff")
    }

    /// Every one of the 256 opcodes with every combination of a few field values either
    /// decodes to an instruction that encodes back to the same slot, or is refused.
    @Test func everyValidSlotRoundTrips() {
        var valid = 0
        for opcode in 0...255 {
            for dst: UInt8 in [0, 1, 10, 11] {
                for src: UInt8 in [0, 1, 2, 6, 11] {
                    for offset: Int16 in [0, 1, 8, 16, 32, -1] {
                        for imm: Int32 in [0, 1, 16, 32, 64, 0x100, 0x110, 0xe1, 0xf1, -1] {
                            let raw = RawInstruction(opcode: UInt8(opcode), dst: dst, src: src, offset: offset, imm: imm)
                            let slots = [raw, RawInstruction(opcode: 0, imm: imm)]
                            guard let instruction = try? Instruction(decoding: slots, at: 0) else { continue }
                            #expect(Array(instruction.encoded) == Array(slots.prefix(instruction.slotCount)), "\(raw)")
                            valid += 1
                        }
                    }
                }
            }
        }
        #expect(valid > 5_000)
    }
}
