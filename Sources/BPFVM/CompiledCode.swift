import BPFInstructions

/// The interpreter's own form of one instruction slot: a dense operation number for the
/// dispatch switch and operands already widened, so the loop never decodes bit fields.
enum Op: UInt8 {
    case add64i, add64r, sub64i, sub64r, mul64i, mul64r, div64i, div64r, sdiv64i, sdiv64r
    case or64i, or64r, and64i, and64r, lsh64i, lsh64r, rsh64i, rsh64r, mod64i, mod64r
    case smod64i, smod64r, xor64i, xor64r, mov64i, mov64r, arsh64i, arsh64r
    case add32i, add32r, sub32i, sub32r, mul32i, mul32r, div32i, div32r, sdiv32i, sdiv32r
    case or32i, or32r, and32i, and32r, lsh32i, lsh32r, rsh32i, rsh32r, mod32i, mod32r
    case smod32i, smod32r, xor32i, xor32r, mov32i, mov32r, arsh32i, arsh32r
    case neg64, neg32, movsx64b, movsx64h, movsx64w, movsx32b, movsx32h
    case zext16, zext32, nop, bswap16, bswap32, bswap64
    case ldxb, ldxh, ldxw, ldxdw, ldxsb, ldxsh, ldxsw
    case stb, sth, stw, stdw, stxb, stxh, stxw, stxdw
    case atomicAdd32, atomicOr32, atomicAnd32, atomicXor32
    case atomicFetchAdd32, atomicFetchOr32, atomicFetchAnd32, atomicFetchXor32, atomicXchg32, atomicCmpxchg32
    case atomicAdd64, atomicOr64, atomicAnd64, atomicXor64
    case atomicFetchAdd64, atomicFetchOr64, atomicFetchAnd64, atomicFetchXor64, atomicXchg64, atomicCmpxchg64
    case lddw, ldabsb, ldabsh, ldabsw, ldindb, ldindh, ldindw
    case ja
    case jeq64i, jeq64r, jgt64i, jgt64r, jge64i, jge64r, jset64i, jset64r, jne64i, jne64r
    case jsgt64i, jsgt64r, jsge64i, jsge64r, jlt64i, jlt64r, jle64i, jle64r
    case jslt64i, jslt64r, jsle64i, jsle64r
    case jeq32i, jeq32r, jgt32i, jgt32r, jge32i, jge32r, jset32i, jset32r, jne32i, jne32r
    case jsgt32i, jsgt32r, jsge32i, jsge32r, jlt32i, jlt32r, jle32i, jle32r
    case jslt32i, jslt32r, jsle32i, jsle32r
    case call, callLocal, callRegister, callKernelFunction, exit, mayGoto
    /// The second slot of a `lddw`: never executed, jumps cannot land there.
    case wideSecondHalf
    /// One past the last instruction: reaching it means the program ran off the end.
    case end
}

/// 16 bytes per slot, so a cache line holds four instructions.
struct Slot {
    /// Sign-extended immediate, 64-bit constant, or memory offset for loads/stores from a register.
    var imm: UInt64 = 0
    /// Jump or call target slot, helper table index, or the offset of an immediate store.
    var target: Int32 = 0
    var op: Op
    var dst: UInt8 = 0
    var src: UInt8 = 0
}

/// Turns a validated program into slots; rejects what the VM cannot run at all.
func compile(_ program: Program, helperIndex: (Int32) -> Int32?) throws(VMError) -> [Slot] {
    var slots = [Slot](repeating: Slot(op: .wideSecondHalf), count: program.slots.count + 1)
    slots[program.slots.count] = Slot(op: .end)
    for (index, instruction) in program.instructions {
        slots[index] = try slot(for: instruction, at: index, helperIndex: helperIndex)
    }
    return slots
}

private func signExtended(_ imm: Int32) -> UInt64 { UInt64(bitPattern: Int64(imm)) }
private func signExtended(_ offset: Int16) -> UInt64 { UInt64(bitPattern: Int64(offset)) }

private func slot(for instruction: Instruction, at index: Int, helperIndex: (Int32) -> Int32?) throws(VMError) -> Slot {
    func target(_ offset: Int) -> Int32 { Int32(index + 1 + offset) }
    func writable(_ register: Register) throws(VMError) -> UInt8 {
        guard register != .r10 else { throw VMError(.writesFramePointer, pc: index, instruction: describe(instruction)) }
        return register.rawValue
    }
    switch instruction {
    case .arithmetic(let operation, let width, let dst, let source):
        let base = arithmeticBase(operation) + (width == .bits32 ? 28 : 0)
        switch source {
        case .immediate(let imm):
            return Slot(imm: signExtended(imm), op: op(base), dst: try writable(dst))
        case .register(let src):
            return Slot(op: op(base + 1), dst: try writable(dst), src: src.rawValue)
        }
    case .negate(let width, let dst):
        return Slot(op: width == .bits64 ? .neg64 : .neg32, dst: try writable(dst))
    case .moveSignExtend(let width, let dst, let src, let bits):
        let op: Op = switch (width, bits) {
        case (.bits64, 8): .movsx64b
        case (.bits64, 16): .movsx64h
        case (.bits64, _): .movsx64w
        case (.bits32, 8): .movsx32b
        case (.bits32, _): .movsx32h
        }
        return Slot(op: op, dst: try writable(dst), src: src.rawValue)
    case .byteSwap(let kind, let bits, let dst):
        let swaps = kind == .swap || (kind == .toBigEndian) == (ByteOrder.host == .little)
        let op: Op = switch (swaps, bits) {
        case (true, 16): .bswap16
        case (true, 32): .bswap32
        case (true, _): .bswap64
        case (false, 16): .zext16
        case (false, 32): .zext32
        case (false, _): .nop
        }
        return Slot(op: op, dst: try writable(dst))
    case .load(let size, let dst, let base, let offset), .loadAcquire(let size, let dst, let base, let offset):
        let op: Op = switch size { case .byte: .ldxb; case .half: .ldxh; case .word: .ldxw; case .double: .ldxdw }
        return Slot(imm: signExtended(offset), op: op, dst: try writable(dst), src: base.rawValue)
    case .loadSignExtend(let size, let dst, let base, let offset):
        let op: Op = switch size { case .byte: .ldxsb; case .half: .ldxsh; default: .ldxsw }
        return Slot(imm: signExtended(offset), op: op, dst: try writable(dst), src: base.rawValue)
    case .store(let size, let base, let offset, .immediate(let imm)):
        let op: Op = switch size { case .byte: .stb; case .half: .sth; case .word: .stw; case .double: .stdw }
        return Slot(imm: signExtended(imm), target: Int32(offset), op: op, dst: base.rawValue)
    case .store(let size, let base, let offset, .register(let src)), .storeRelease(let size, let base, let offset, let src):
        let op: Op = switch size { case .byte: .stxb; case .half: .stxh; case .word: .stxw; case .double: .stxdw }
        return Slot(imm: signExtended(offset), op: op, dst: base.rawValue, src: src.rawValue)
    case .atomic(let operation, let size, let base, let offset, let src):
        if operation == .compareExchange || operation.fetches { _ = try writable(operation == .compareExchange ? .r0 : src) }
        let order: [AtomicOperation] = [.add, .or, .and, .xor, .fetchAdd, .fetchOr, .fetchAnd, .fetchXor, .exchange, .compareExchange]
        let position = UInt8(order.firstIndex(of: operation) ?? 0)
        let base64 = Op.atomicAdd64.rawValue, base32 = Op.atomicAdd32.rawValue
        return Slot(imm: signExtended(offset), op: op((size == .double ? base64 : base32) + position),
                    dst: base.rawValue, src: src.rawValue)
    case .loadImmediate64(let dst, let source, let imm, let nextImm):
        switch source {
        case .immediate:
            return Slot(imm: Instruction.immediate64(imm: imm, nextImm: nextImm), op: .lddw, dst: try writable(dst))
        case .function:
            // A code address is the target slot index; helpers that take callbacks resolve it.
            return Slot(imm: UInt64(target(Int(imm))), op: .lddw, dst: try writable(dst))
        default:
            throw VMError(.unsupported("lddw of a \(source) reference needs a runtime with maps and relocations"),
                          pc: index, instruction: describe(instruction))
        }
    case .loadPacket(let size, let indexRegister, let imm):
        let op: Op = switch (indexRegister == nil, size) {
        case (true, .byte): .ldabsb
        case (true, .half): .ldabsh
        case (true, _): .ldabsw
        case (false, .byte): .ldindb
        case (false, .half): .ldindh
        case (false, _): .ldindw
        }
        return Slot(imm: signExtended(imm), op: op, src: indexRegister?.rawValue ?? 0)
    case .jump(let offset):
        return Slot(target: target(Int(offset)), op: .ja)
    case .jumpLong(let offset):
        return Slot(target: target(Int(offset)), op: .ja)
    case .mayGoto(let offset):
        return Slot(target: target(Int(offset)), op: .mayGoto)
    case .branch(let condition, let width, let dst, let source, let offset):
        let conditions: [JumpCondition] = [.eq, .gt, .ge, .set, .ne, .sgt, .sge, .lt, .le, .slt, .sle]
        let position = UInt8(conditions.firstIndex(of: condition) ?? 0) * 2
        let base = (width == .bits64 ? Op.jeq64i : Op.jeq32i).rawValue + position
        switch source {
        case .immediate(let imm):
            return Slot(imm: signExtended(imm), target: target(Int(offset)), op: op(base), dst: dst.rawValue)
        case .register(let src):
            return Slot(target: target(Int(offset)), op: op(base + 1), dst: dst.rawValue, src: src.rawValue)
        }
    case .call(let helper):
        // An unknown helper fails only if the call runs, as code on a dead path is harmless.
        return Slot(imm: UInt64(bitPattern: Int64(helper)), target: helperIndex(helper) ?? -1, op: .call)
    case .callLocal(let offset):
        return Slot(target: target(Int(offset)), op: .callLocal)
    case .callRegister(let register):
        return Slot(op: .callRegister, dst: register.rawValue)
    case .callKernelFunction(let btfID, _):
        return Slot(imm: UInt64(bitPattern: Int64(btfID)), op: .callKernelFunction)
    case .exit:
        return Slot(op: .exit)
    }
}

/// First op of the four (64 imm, 64 reg, then +28: 32 imm, 32 reg) for an operation.
private func arithmeticBase(_ operation: ArithmeticOperation) -> UInt8 {
    let order: [ArithmeticOperation] = [.add, .sub, .mul, .div, .sdiv, .or, .and, .lsh, .rsh, .mod, .smod, .xor, .mov, .arsh]
    return UInt8(order.firstIndex(of: operation) ?? 0) * 2
}

/// Errors show instructions as the kernel's verifier log and bpftool print them.
func describe(_ instruction: Instruction) -> String { Disassembler.text(of: instruction, syntax: .kernel) }

/// Op numbers computed from tables above are in range by construction; `.end` would
/// surface as "ran off the end" in tests if a table were ever wrong.
private func op(_ raw: UInt8) -> Op { Op(rawValue: raw) ?? .end }
