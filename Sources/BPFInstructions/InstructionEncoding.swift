extension Instruction {
    /// The slots this instruction encodes to (two for `lddw`), reserved fields zero.
    public var encoded: [RawInstruction] {
        func aluClass(_ width: Width) -> UInt8 { width == .bits64 ? Opcode.classALU64 : Opcode.classALU }
        func jumpClass(_ width: Width) -> UInt8 { width == .bits64 ? Opcode.classJMP : Opcode.classJMP32 }
        switch self {
        case .arithmetic(let op, let width, let dst, let source):
            let offset: Int16 = op.isSigned ? 1 : 0
            switch source {
            case .register(let src):
                return [RawInstruction(opcode: aluClass(width) | Opcode.sourceX | op.code, dst: dst.rawValue,
                                       src: src.rawValue, offset: offset)]
            case .immediate(let imm):
                return [RawInstruction(opcode: aluClass(width) | Opcode.sourceK | op.code, dst: dst.rawValue,
                                       offset: offset, imm: imm)]
            }
        case .negate(let width, let dst):
            return [RawInstruction(opcode: aluClass(width) | Opcode.aluNEG, dst: dst.rawValue)]
        case .moveSignExtend(let width, let dst, let src, let bits):
            return [RawInstruction(opcode: aluClass(width) | Opcode.sourceX | ArithmeticOperation.mov.code,
                                   dst: dst.rawValue, src: src.rawValue, offset: Int16(bits))]
        case .byteSwap(let kind, let bits, let dst):
            let opcode: UInt8 = switch kind {
            case .toLittleEndian: Opcode.classALU | Opcode.aluEND | Opcode.sourceK
            case .toBigEndian: Opcode.classALU | Opcode.aluEND | Opcode.sourceX
            case .swap: Opcode.classALU64 | Opcode.aluEND
            }
            return [RawInstruction(opcode: opcode, dst: dst.rawValue, imm: Int32(bits))]
        case .load(let size, let dst, let base, let offset):
            return [RawInstruction(opcode: Opcode.classLDX | Opcode.modeMEM | size.code, dst: dst.rawValue,
                                   src: base.rawValue, offset: offset)]
        case .loadSignExtend(let size, let dst, let base, let offset):
            return [RawInstruction(opcode: Opcode.classLDX | Opcode.modeMEMSX | size.code, dst: dst.rawValue,
                                   src: base.rawValue, offset: offset)]
        case .store(let size, let base, let offset, .register(let src)):
            return [RawInstruction(opcode: Opcode.classSTX | Opcode.modeMEM | size.code, dst: base.rawValue,
                                   src: src.rawValue, offset: offset)]
        case .store(let size, let base, let offset, .immediate(let imm)):
            return [RawInstruction(opcode: Opcode.classST | Opcode.modeMEM | size.code, dst: base.rawValue,
                                   offset: offset, imm: imm)]
        case .atomic(let op, let size, let base, let offset, let src):
            return [RawInstruction(opcode: Opcode.classSTX | Opcode.modeATOMIC | size.code, dst: base.rawValue,
                                   src: src.rawValue, offset: offset, imm: op.rawValue)]
        case .loadAcquire(let size, let dst, let base, let offset):
            return [RawInstruction(opcode: Opcode.classSTX | Opcode.modeATOMIC | size.code, dst: dst.rawValue,
                                   src: base.rawValue, offset: offset, imm: OrderedAccess.loadAcquire)]
        case .storeRelease(let size, let base, let offset, let src):
            return [RawInstruction(opcode: Opcode.classSTX | Opcode.modeATOMIC | size.code, dst: base.rawValue,
                                   src: src.rawValue, offset: offset, imm: OrderedAccess.storeRelease)]
        case .loadImmediate64(let dst, let source, let imm, let nextImm):
            return [RawInstruction(opcode: Opcode.classLD | Opcode.modeIMM | Opcode.sizeDW, dst: dst.rawValue,
                                   src: source.rawValue, imm: imm),
                    RawInstruction(opcode: 0, imm: nextImm)]
        case .loadPacket(let size, let index, let imm):
            let mode = index == nil ? Opcode.modeABS : Opcode.modeIND
            return [RawInstruction(opcode: Opcode.classLD | mode | size.code, src: index?.rawValue ?? 0, imm: imm)]
        case .jump(let offset):
            return [RawInstruction(opcode: Opcode.classJMP | Opcode.jumpJA, offset: offset)]
        case .jumpLong(let offset):
            return [RawInstruction(opcode: Opcode.classJMP32 | Opcode.jumpJA, imm: offset)]
        case .branch(let condition, let width, let dst, .register(let src), let offset):
            return [RawInstruction(opcode: jumpClass(width) | Opcode.sourceX | condition.rawValue, dst: dst.rawValue,
                                   src: src.rawValue, offset: offset)]
        case .branch(let condition, let width, let dst, .immediate(let imm), let offset):
            return [RawInstruction(opcode: jumpClass(width) | Opcode.sourceK | condition.rawValue, dst: dst.rawValue,
                                   offset: offset, imm: imm)]
        case .call(let helper):
            return [RawInstruction(opcode: Opcode.classJMP | Opcode.jumpCALL, src: CallKind.helper.rawValue, imm: helper)]
        case .callLocal(let offset):
            return [RawInstruction(opcode: Opcode.classJMP | Opcode.jumpCALL, src: CallKind.local.rawValue, imm: offset)]
        case .callKernelFunction(let btfID, let module):
            return [RawInstruction(opcode: Opcode.classJMP | Opcode.jumpCALL, src: CallKind.kfunc.rawValue,
                                   offset: module, imm: btfID)]
        case .callRegister(let register):
            return [RawInstruction(opcode: Opcode.classJMP | Opcode.jumpCALL | Opcode.sourceX, dst: register.rawValue)]
        case .exit:
            return [RawInstruction(opcode: Opcode.classJMP | Opcode.jumpEXIT)]
        case .mayGoto(let offset):
            return [RawInstruction(opcode: Opcode.classJMP | Opcode.jumpJCOND, offset: offset)]
        }
    }
}
