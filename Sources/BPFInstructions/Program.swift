/// A validated eBPF program: slots that decode without error, whose jumps and local calls
/// all land on the first slot of an instruction inside the program.
public struct Program: Sendable, Hashable {
    /// The encoded slots, as the kernel receives them.
    public let slots: [RawInstruction]
    /// Each instruction with the index of its first slot, in program order.
    public let instructions: [(index: Int, instruction: Instruction)]

    public init(slots: [RawInstruction]) throws(DecodeError) {
        guard !slots.isEmpty else { throw DecodeError(index: 0, reason: .emptyProgram) }
        var decoded: [(index: Int, instruction: Instruction)] = []
        decoded.reserveCapacity(slots.count)
        var isStart = [Bool](repeating: false, count: slots.count)
        var index = 0
        while index < slots.count {
            let instruction = try Instruction(decoding: slots, at: index)
            decoded.append((index, instruction))
            isStart[index] = true
            index += instruction.slotCount
        }
        for (index, instruction) in decoded {
            guard let offset = instruction.jumpOffset else { continue }
            let target = index + 1 + offset
            guard target >= 0, target < slots.count else {
                throw DecodeError(index: index, reason: .jumpOutOfRange(target: target))
            }
            guard isStart[target] else { throw DecodeError(index: index, reason: .jumpIntoWideInstruction(target: target)) }
        }
        self.slots = slots
        self.instructions = decoded
    }

    public init(_ instructions: [Instruction]) throws(DecodeError) {
        try self.init(slots: instructions.flatMap(\.encoded))
    }

    /// Decodes raw bytecode (a multiple of 8 bytes).
    public init(bytes: [UInt8], order: ByteOrder = .little) throws(DecodeError) {
        try self.init(slots: RawInstruction.slots(from: bytes, order: order))
    }

    public func bytes(order: ByteOrder = .little) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(slots.count * RawInstruction.byteCount)
        for slot in slots { slot.append(to: &bytes, order: order) }
        return bytes
    }

    public static func == (lhs: Program, rhs: Program) -> Bool { lhs.slots == rhs.slots }
    public func hash(into hasher: inout Hasher) { hasher.combine(slots) }
}

extension Program {
    /// Whether r10's value flows anywhere but into a load or store's address: the only way a
    /// stack address enters the program's data, so that what it computes may depend on where
    /// the stack is (conservative: any jump or call naming r10 counts).
    public var readsFramePointer: Bool {
        slots.contains { slot in
            switch slot.opcode & 7 {
            case 0x04, 0x07: slot.src == 10 && slot.opcode & 0x08 != 0  // ALU with r10 as the source
            case 0x05, 0x06: slot.src == 10 || slot.dst == 10           // jumps and calls
            case 0x03: slot.src == 10                                   // stores of r10 (and atomics)
            case 0x00: slot.src == 10 && slot.opcode & 0xe0 == 0x40     // wide loads naming r10
            default: false
            }
        }
    }
}
