extension Instruction {
    /// Decodes the instruction starting at `slots[index]`, checking every reserved field.
    /// Jump targets are not checked here (`Program` does that, as it knows the whole code).
    public init(decoding slots: [RawInstruction], at index: Int) throws(DecodeError) {
        guard slots.indices.contains(index) else { throw DecodeError(index: index, reason: .missingSecondHalf) }
        let fields = FieldCheck(raw: slots[index], index: index)
        let raw = fields.raw
        switch Opcode.instructionClass(raw.opcode) {
        case Opcode.classALU, Opcode.classALU64:
            self = try fields.arithmetic()
        case Opcode.classJMP, Opcode.classJMP32:
            self = try fields.jump()
        case Opcode.classLD:
            if raw.opcode == Opcode.classLD | Opcode.modeIMM | Opcode.sizeDW {
                guard index + 1 < slots.count else { throw DecodeError(index: index, reason: .missingSecondHalf) }
                let next = slots[index + 1]
                guard next.opcode == 0, next.dst == 0, next.src == 0, next.offset == 0 else {
                    throw DecodeError(index: index + 1, reason: .invalidSecondHalf)
                }
                self = try fields.loadImmediate64(nextImm: next.imm)
            } else {
                self = try fields.packetLoad()
            }
        case Opcode.classLDX:
            self = try fields.load()
        default:
            self = try fields.store()
        }
    }
}

/// Checks the fields of one slot while decoding it; each failure names the field.
private struct FieldCheck {
    let raw: RawInstruction
    let index: Int

    func fail(_ reason: DecodeError.Reason) -> DecodeError { DecodeError(index: index, reason: reason) }
    var unknown: DecodeError { fail(.unknownOpcode(raw.opcode)) }

    func zero(_ field: String, _ value: Int64) throws(DecodeError) {
        if value != 0 { throw fail(.reservedFieldSet(field: field, value: value)) }
    }
    func zeroSrc() throws(DecodeError) { try zero("src", Int64(raw.src)) }
    func zeroDst() throws(DecodeError) { try zero("dst", Int64(raw.dst)) }
    func zeroOffset() throws(DecodeError) { try zero("offset", Int64(raw.offset)) }
    func zeroImm() throws(DecodeError) { try zero("imm", Int64(raw.imm)) }

    func register(_ field: String, _ value: UInt8) throws(DecodeError) -> Register {
        guard let register = Register(rawValue: value) else { throw fail(.invalidRegister(field: field, value: value)) }
        return register
    }
    func dst() throws(DecodeError) -> Register { try register("dst", raw.dst) }
    func src() throws(DecodeError) -> Register { try register("src", raw.src) }

    var isRegisterSource: Bool { raw.opcode & Opcode.sourceX != 0 }

    /// The second operand: src for `X`, imm for `K`, with the unused one checked to be zero.
    func operand() throws(DecodeError) -> Operand {
        if isRegisterSource {
            try zeroImm()
            return .register(try src())
        }
        try zeroSrc()
        return .immediate(raw.imm)
    }

    func arithmetic() throws(DecodeError) -> Instruction {
        let width: Width = Opcode.instructionClass(raw.opcode) == Opcode.classALU64 ? .bits64 : .bits32
        let code = Opcode.code(raw.opcode)
        let dst = try dst()
        switch code {
        case Opcode.aluNEG:
            guard !isRegisterSource else { throw unknown }
            try zeroSrc(); try zeroOffset(); try zeroImm()
            return .negate(width, dst: dst)
        case Opcode.aluEND:
            try zeroSrc(); try zeroOffset()
            guard [16, 32, 64].contains(raw.imm) else { throw fail(.invalidField(field: "imm (swap width)", value: Int64(raw.imm))) }
            let kind: ByteSwapKind
            switch (width, isRegisterSource) {
            case (.bits32, false): kind = .toLittleEndian
            case (.bits32, true): kind = .toBigEndian
            case (.bits64, false): kind = .swap
            case (.bits64, true): throw unknown
            }
            return .byteSwap(kind, bits: Int(raw.imm), dst: dst)
        case ArithmeticOperation.mov.code where isRegisterSource && raw.offset != 0:
            try zeroImm()
            let allowed: [Int16] = width == .bits64 ? [8, 16, 32] : [8, 16]
            guard allowed.contains(raw.offset) else { throw fail(.invalidField(field: "offset (movsx width)", value: Int64(raw.offset))) }
            return .moveSignExtend(width, dst: dst, src: try src(), bits: Int(raw.offset))
        case ArithmeticOperation.div.code, ArithmeticOperation.mod.code:
            guard raw.offset == 0 || raw.offset == 1 else {
                throw fail(.invalidField(field: "offset (1 for signed)", value: Int64(raw.offset)))
            }
            guard let op = ArithmeticOperation.from(code: code, signed: raw.offset == 1) else { throw unknown }
            return .arithmetic(op, width, dst: dst, source: try operand())
        default:
            guard let op = ArithmeticOperation.from(code: code, signed: false) else { throw unknown }
            try zeroOffset()
            return .arithmetic(op, width, dst: dst, source: try operand())
        }
    }

    func jump() throws(DecodeError) -> Instruction {
        let width: Width = Opcode.instructionClass(raw.opcode) == Opcode.classJMP ? .bits64 : .bits32
        let code = Opcode.code(raw.opcode)
        switch code {
        case Opcode.jumpJA:
            guard !isRegisterSource else { throw unknown }
            try zeroDst(); try zeroSrc()
            if width == .bits64 {
                try zeroImm()
                return .jump(offset: raw.offset)
            }
            try zeroOffset()
            return .jumpLong(offset: raw.imm)
        case Opcode.jumpCALL:
            guard width == .bits64 else { throw unknown }
            if isRegisterSource {
                try zeroSrc(); try zeroOffset(); try zeroImm()
                return .callRegister(try dst())
            }
            try zeroDst()
            switch CallKind(rawValue: raw.src) {
            case .helper:
                try zeroOffset()
                return .call(helper: raw.imm)
            case .local:
                try zeroOffset()
                return .callLocal(offset: raw.imm)
            case .kfunc:
                return .callKernelFunction(btfID: raw.imm, module: raw.offset)
            case nil:
                throw fail(.invalidField(field: "src (call kind)", value: Int64(raw.src)))
            }
        case Opcode.jumpEXIT:
            guard width == .bits64, !isRegisterSource else { throw unknown }
            try zeroDst(); try zeroSrc(); try zeroOffset(); try zeroImm()
            return .exit
        case Opcode.jumpJCOND:
            guard width == .bits64, !isRegisterSource else { throw unknown }
            try zeroDst(); try zeroImm()
            guard raw.src == 0 else { throw fail(.invalidField(field: "src (condition)", value: Int64(raw.src))) }
            return .mayGoto(offset: raw.offset)
        default:
            guard let condition = JumpCondition(rawValue: code) else { throw unknown }
            return .branch(condition, width, dst: try dst(), source: try operand(), offset: raw.offset)
        }
    }

    func loadImmediate64(nextImm: Int32) throws(DecodeError) -> Instruction {
        try zeroOffset()
        guard let source = PseudoSource(rawValue: raw.src) else {
            throw fail(.invalidField(field: "src (pseudo source)", value: Int64(raw.src)))
        }
        switch source {
        case .mapFD, .mapIndex, .function:
            if nextImm != 0 {
                throw DecodeError(index: index + 1, reason: .reservedFieldSet(field: "imm", value: Int64(nextImm)))
            }
        default: break
        }
        return .loadImmediate64(dst: try dst(), source: source, imm: raw.imm, nextImm: nextImm)
    }

    func packetLoad() throws(DecodeError) -> Instruction {
        let mode = Opcode.mode(raw.opcode)
        let size = MemorySize(code: Opcode.size(raw.opcode))
        guard mode == Opcode.modeABS || mode == Opcode.modeIND, size != .double else { throw unknown }
        try zeroDst(); try zeroOffset()
        if mode == Opcode.modeABS {
            try zeroSrc()
            return .loadPacket(size, index: nil, imm: raw.imm)
        }
        return .loadPacket(size, index: try src(), imm: raw.imm)
    }

    func load() throws(DecodeError) -> Instruction {
        let size = MemorySize(code: Opcode.size(raw.opcode))
        switch Opcode.mode(raw.opcode) {
        case Opcode.modeMEM:
            try zeroImm()
            return .load(size, dst: try dst(), base: try src(), offset: raw.offset)
        case Opcode.modeMEMSX where size != .double:
            try zeroImm()
            return .loadSignExtend(size, dst: try dst(), base: try src(), offset: raw.offset)
        default:
            throw unknown
        }
    }

    func store() throws(DecodeError) -> Instruction {
        let size = MemorySize(code: Opcode.size(raw.opcode))
        let isST = Opcode.instructionClass(raw.opcode) == Opcode.classST
        switch Opcode.mode(raw.opcode) {
        case Opcode.modeMEM where isST:
            try zeroSrc()
            return .store(size, base: try dst(), offset: raw.offset, source: .immediate(raw.imm))
        case Opcode.modeMEM:
            try zeroImm()
            return .store(size, base: try dst(), offset: raw.offset, source: .register(try src()))
        case Opcode.modeATOMIC where !isST:
            switch raw.imm {
            case OrderedAccess.loadAcquire:
                return .loadAcquire(size, dst: try dst(), base: try src(), offset: raw.offset)
            case OrderedAccess.storeRelease:
                return .storeRelease(size, base: try dst(), offset: raw.offset, source: try src())
            default:
                guard size == .word || size == .double else { throw unknown }
                guard let op = AtomicOperation(rawValue: raw.imm) else {
                    throw fail(.invalidField(field: "imm (atomic operation)", value: Int64(raw.imm)))
                }
                return .atomic(op, size, base: try dst(), offset: raw.offset, source: try src())
            }
        default:
            throw unknown
        }
    }
}
