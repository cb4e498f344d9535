import BPFInstructions

/// Where a path goes after an instruction: nowhere (its end), on at an instruction with the
/// state updated in place, or both there and to a second place with a state of its own.
enum Successors {
    case end
    case next(Int)
    case fork(Int, other: (Int, VerifierState))
}

/// What each instruction does to a state: the transfer functions of the analysis.
extension Analysis {
    /// Runs the instruction at `pc` on `state`, in place; returns where the path goes on.
    func step(at pc: Int, _ state: inout VerifierState) throws(Rejection) -> Successors {
        guard let instruction = instructions[pc] else {
            throw reject(.invalidInstruction, at: pc, state, "execution reaches the middle of a 16-byte instruction")
        }
        let next = pc + instruction.slotCount
        switch instruction {
        case .arithmetic(let operation, let width, let dst, let source):
            try arithmetic(operation, width, dst: dst, source: source, at: pc, &state)
        case .negate(let width, let dst):
            var result = Scalar.unknown
            if case .scalar(let s) = try read(dst, at: pc, state) { result = Scalar.apply(.sub, width, .constant(0), s) }
            try write(dst, at: pc, &state, value: .scalar(result))
        case .moveSignExtend(let width, let dst, let src, let bits):
            var result = Scalar.unknown
            if case .scalar(let s) = try read(src, at: pc, state) { result = signExtended(s, bits: bits, width: width) }
            try write(dst, at: pc, &state, value: .scalar(result))
        case .byteSwap(let kind, let bits, let dst):
            var result = Scalar.unknown
            if case .scalar(let s) = try read(dst, at: pc, state) { result = byteSwapped(s, kind: kind, bits: bits) }
            try write(dst, at: pc, &state, value: .scalar(result))
        case .load(let size, let dst, let base, let offset), .loadAcquire(let size, let dst, let base, let offset):
            // A filled spill is a copy of the register spilled.
            let value = try load(size, base: base, offset: Int(offset), signed: false, at: pc, &state)
            try write(dst, at: pc, &state, value: value, isCopy: true)
        case .loadSignExtend(let size, let dst, let base, let offset):
            let value = try load(size, base: base, offset: Int(offset), signed: true, at: pc, &state)
            try write(dst, at: pc, &state, value: value)
        case .store(let size, let base, let offset, let source):
            let value: Value, register: Register?
            switch source {
            case .immediate(let imm): (value, register) = (.scalar(.constant(UInt64(bitPattern: Int64(imm)))), nil)
            case .register(let r): (value, register) = (try read(r, at: pc, state), r)
            }
            try store(size, base: base, offset: Int(offset), value: value, from: register, at: pc, &state)
        case .storeRelease(let size, let base, let offset, let source):
            try store(size, base: base, offset: Int(offset), value: try read(source, at: pc, state), from: source, at: pc, &state)
        case .atomic(let operation, let size, let base, let offset, let source):
            try atomic(operation, size, base: base, offset: Int(offset), source: source, at: pc, &state)
        case .loadImmediate64(let dst, let source, let imm, let nextImm):
            try write(dst, at: pc, &state, value: try immediate64(source, imm: imm, nextImm: nextImm, at: pc, state))
        case .loadPacket(let size, let index, _):
            try legacyPacketLoad(size, index: index, at: pc, &state)
        case .jump(let offset):
            state.note(pc)
            return .next(next + Int(offset))
        case .jumpLong(let offset):
            state.note(pc)
            return .next(next + Int(offset))
        case .branch(let condition, let width, let dst, let source, let offset):
            return try branch(condition, width, dst: dst, source: source, at: pc, taken: next + Int(offset),
                              next: next, &state)
        case .mayGoto(let offset):
            var taken = state
            taken.note(pc)
            return .fork(next, other: (next + Int(offset), taken))
        case .call(let helper):
            try checkNoLockHeld(calling: helper, at: pc, state)
            if let successors = try callWithCallback(helper, at: pc, next: next, &state) { return successors }
            try callHelper(helper, at: pc, &state)
        case .callLocal(let offset):
            return .next(try callLocal(at: pc, target: next + Int(offset), returnTo: next, &state))
        case .callKernelFunction(let btfID, let module):
            throw reject(.unsupported, at: pc, state,
                         "calls of kernel functions (kfuncs) are not verified by SwiftBPF: the kernel's rules for each (which programs may call it, what it acquires and releases) are not in its BTF",
                         facts: kernelFunctionFacts(btfID, module))
        case .callRegister:
            throw reject(.invalidCall, at: pc, state, "a call through a register (callx) is not allowed: its target cannot be checked")
        case .exit:
            if let resumed = try exit(at: pc, &state) { return .next(resumed) }
            return .end
        }
        return .next(next)
    }

    /// The kfunc's name and prototype from the kernel's BTF, when given.
    private func kernelFunctionFacts(_ btfID: Int32, _ module: Int16) -> [String] {
        guard module == 0, btfID > 0, let types = options.kernelTypes, types.btf.kind(of: UInt32(btfID)) == .function,
              let name = types.btf.name(of: UInt32(btfID)) else { return ["the call names BTF id \(btfID)"] }
        return ["the call names \(name) (BTF id \(btfID)) in the kernel's BTF"]
    }

    // MARK: Registers

    func read(_ register: Register, at pc: Int, _ state: VerifierState) throws(Rejection) -> Value {
        let value = state[Int(register.rawValue)]
        guard value.isInitialized else {
            throw reject(.uninitializedRegister, at: pc, state, "\(register) is read before anything was written to it",
                         facts: uninitializedFacts(register, state))
        }
        return value
    }

    func uninitializedFacts(_ register: Register, _ state: VerifierState) -> [String] {
        let r = Int(register.rawValue)
        if (1...5).contains(r) && state.frames.count >= 1 {
            return ["r1-r5 hold no value after a helper or function call returns"]
        }
        return []
    }

    /// Writes a register; the value keeps its link to other copies only when it is a copy.
    func write(_ register: Register, at pc: Int, _ state: inout VerifierState, value: Value, isCopy: Bool = false) throws(Rejection) {
        guard register != .r10 else {
            throw reject(.invalidInstruction, at: pc, state, "r10, the frame pointer, is read-only")
        }
        switch value {
        case .scalar(var s) where !isCopy && s.id != 0:
            s.id = 0
            s.linkDelta = 0
            state[Int(register.rawValue)] = .scalar(s)
        case .pointer(var p) where p.offset.id != 0:
            p.offset.id = 0
            p.offset.linkDelta = 0
            state[Int(register.rawValue)] = .pointer(p)
        default:
            state[Int(register.rawValue)] = value
        }
    }

    // MARK: Arithmetic

    private func arithmetic(_ operation: ArithmeticOperation, _ width: Width, dst: Register, source: Operand, at pc: Int,
                            _ state: inout VerifierState) throws(Rejection) {
        let sourceValue: Value
        switch source {
        case .immediate(let imm):
            if (operation == .div || operation == .mod || operation == .sdiv || operation == .smod) && imm == 0 {
                throw reject(.invalidInstruction, at: pc, state, "division by the constant zero")
            }
            let bits: Int32 = width == .bits64 ? 64 : 32
            if case .kernel = kind, (operation == .lsh || operation == .rsh || operation == .arsh) && (imm < 0 || imm >= bits) {
                throw reject(.invalidInstruction, at: pc, state, "a shift by \(imm) on \(bits) bits is not allowed")
            }
            sourceValue = .scalar(.constant(UInt64(bitPattern: Int64(imm))))
        case .register(let r):
            sourceValue = try read(r, at: pc, state)
        }
        if operation == .mov {
            switch (width, sourceValue) {
            case (_, .scalar(var s)) where !s.isConstant && (width == .bits64 || s.umax <= 0xffff_ffff):
                // A copy, linked to its source; on 32 bits too when the number fits (it moves whole).
                if s.id == 0, case .register(let r) = source {
                    s.id = makeID()
                    state[Int(r.rawValue)] = .scalar(s)
                }
                try write(dst, at: pc, &state, value: .scalar(s), isCopy: true)
            case (.bits64, _): try write(dst, at: pc, &state, value: sourceValue)
            case (.bits32, .scalar(let s)): try write(dst, at: pc, &state, value: .scalar(s.zeroExtended32))
            default: try write(dst, at: pc, &state, value: .scalar(.unsigned(0, 0xffff_ffff)))
            }
            return
        }
        let dstValue = try read(dst, at: pc, state)
        switch (dstValue, sourceValue) {
        case (.scalar(let a), .scalar(let b)):
            var result = Scalar.apply(operation, width, a, b)
            // A copy plus a small constant stays linked to its source, once (as the kernel's BPF_ADD_CONST).
            if operation == .add, width == .bits64, a.id != 0, a.linkDelta == 0, let delta = b.constantValue,
               delta <= UInt64(Int32.max) {
                result.id = a.id
                result.linkDelta = Int64(delta)
                try write(dst, at: pc, &state, value: .scalar(result), isCopy: true)
            } else {
                try write(dst, at: pc, &state, value: .scalar(result))
            }
        case (.pointer(let p), .scalar(let s)):
            if case .register(let r) = source { markPrecise(r, in: state) }
            try write(dst, at: pc, &state, value: .pointer(try pointerArithmetic(operation, width, p, s, dst: dst, at: pc, state)))
        case (.scalar(let s), .pointer(let p)) where operation == .add:
            markPrecise(dst, in: state)
            try write(dst, at: pc, &state, value: .pointer(try pointerArithmetic(.add, width, p, s, dst: dst, at: pc, state)))
        case (.pointer, .pointer) where operation == .sub:
            // The distance is a number (the kernel allows this to privileged programs, on 32 bits too).
            try write(dst, at: pc, &state, value: width == .bits64 ? .unknownScalar : .scalar(.unsigned(0, 0xffff_ffff)))
        default:
            throw reject(.invalidPointerArithmetic, at: pc, state,
                         "\(operation) on a pointer is not allowed; pointers may only be moved by adding or subtracting a number on 64 bits",
                         facts: ["\(dst) is \(dstValue.description)"])
        }
    }

    private func pointerArithmetic(_ operation: ArithmeticOperation, _ width: Width, _ pointer: Pointer, _ scalar: Scalar,
                                   dst: Register, at pc: Int, _ state: VerifierState) throws(Rejection) -> Pointer {
        guard width == .bits64, operation == .add || operation == .sub else {
            throw reject(.invalidPointerArithmetic, at: pc, state,
                         "\(width == .bits32 ? "32-bit arithmetic" : "\(operation)") on a pointer is not allowed",
                         facts: ["\(dst) is \(Value.pointer(pointer).description)"])
        }
        switch pointer.kind {
        case .map where scalar.constantValue == 0: return pointer
        case .map, .packetEnd, .mapValueOrNull, .memoryOrNull, .mapOrNull, .function, .socket, .socketOrNull:
            throw reject(.invalidPointerArithmetic, at: pc, state,
                         "arithmetic on a \(pointer.kind.name) pointer is not allowed\(pointer.kind.mayBeNull ? "; check it for NULL first" : "")",
                         facts: originFacts(pointer))
        default: break
        }
        let bound: Int64 = 1 << 29
        guard scalar.smin >= -bound, scalar.smax <= bound else {
            throw reject(.invalidPointerArithmetic, at: pc, state,
                         "the number added to the pointer is not bounded, so the pointer could point anywhere",
                         facts: ["the number is \(scalar.description)"])
        }
        var result = pointer
        result.offset = Scalar.apply(operation, .bits64, pointer.offset, scalar)
        guard pointer.kind == .packet || pointer.kind == .packetMeta else { return result }
        if let constant = scalar.constantValue {
            if pointer.id != 0 {
                let c = Int64(bitPattern: constant)
                result.fixed = operation == .add ? pointer.fixed &+ c : pointer.fixed &- c
            }
        } else {
            // A new variable part: an id of its own, with nothing proven yet.
            result.id = makeID()
            result.fixed = pointer.id != 0 ? pointer.fixed : Int64(bitPattern: pointer.offset.constantValue ?? 0)
        }
        return result
    }

    func originFacts(_ pointer: Pointer) -> [String] {
        guard pointer.kind.mayBeNull else { return [] }
        return ["the pointer came from \(helperName(at: pointer.origin)) at \(pointer.origin), which returns NULL on failure"]
    }

    /// The helper the call at `index` calls, without the bpf_ prefix, for messages.
    func helperName(at index: Int) -> String {
        guard index >= 0, index < instructions.count, case .call(let id)? = instructions[index] else { return "instruction \(index)" }
        return HelperPrototypes.byID[id]?.name ?? "helper \(id)"
    }

    private func signExtended(_ s: Scalar, bits: Int, width: Width) -> Scalar {
        if let value = s.constantValue {
            let extended: Int64 = switch bits {
            case 8: Int64(Int8(truncatingIfNeeded: value))
            case 16: Int64(Int16(truncatingIfNeeded: value))
            default: Int64(Int32(truncatingIfNeeded: value))
            }
            let result = UInt64(bitPattern: extended)
            return .constant(width == .bits32 ? result & 0xffff_ffff : result)
        }
        if width == .bits32 { return .unsigned(0, 0xffff_ffff) }
        let half = Int64(1) << (bits - 1)
        if s.smin >= -half && s.smax < half { return s }
        if s.umax < UInt64(half) { return s }
        var result = Scalar.unknown
        result.smin = -half
        result.smax = half - 1
        return result.synchronized() ?? .unknown
    }

    /// A swap moves the known bits with their bytes (as the kernel's tnum_bswap does); a
    /// no-op conversion (to little endian on a little-endian host) only zero-extends.
    private func byteSwapped(_ s: Scalar, kind: ByteSwapKind, bits: Int) -> Scalar {
        let swaps = kind == .swap || (kind == .toBigEndian) == (ByteOrder.host == .little)
        if swaps { return Scalar.from(bits: s.bits.byteSwapped(bits: bits)) }
        return bits == 64 ? s : Scalar.apply(.and, .bits64, s, .constant(bits == 16 ? 0xffff : 0xffff_ffff))
    }

    // MARK: 64-bit immediates and maps

    private func immediate64(_ source: PseudoSource, imm: Int32, nextImm: Int32, at pc: Int,
                             _ state: VerifierState) throws(Rejection) -> Value {
        switch source {
        case .immediate:
            return .scalar(.constant(Instruction.immediate64(imm: imm, nextImm: nextImm)))
        case .mapFD, .mapIndex, .mapValue, .mapIndexValue:
            guard let map = maps[imm] else {
                throw reject(.unknownMap, at: pc, state, "the instruction refers to map \(imm), which the verifier was not given")
            }
            if map.spinLockOffset != nil, kind == .kernel(.socketFilter) || kind.isTracing {
                throw reject(.unsupported, at: pc, state,
                             "map \(map.name) has a bpf_spin_lock, which the kernel does not let \(kind) programs use")
            }
            if source == .mapFD || source == .mapIndex {
                return .pointer(Pointer(kind: .map(map), offset: .constant(0), origin: pc))
            }
            guard nextImm >= 0, Int(nextImm) < map.valueSize, map.hasValues else {
                throw reject(.invalidMemoryAccess, at: pc, state,
                             "offset \(nextImm) is outside the value of map \(map.name) (\(map.valueSize) bytes)")
            }
            return .pointer(Pointer(kind: .mapValue(map), offset: .constant(UInt64(nextImm)), origin: pc))
        case .btfID:
            throw reject(.unsupported, at: pc, state, "addresses of kernel variables (BTF ids) are not supported by this verifier")
        case .function:
            return try functionAddress(imm: imm, at: pc, state)
        }
    }

    // MARK: Legacy packet loads

    private func legacyPacketLoad(_ size: MemorySize, index: Register?, at pc: Int, _ state: inout VerifierState) throws(Rejection) {
        switch kind {
        case .plainMemory: break
        case .kernel where kind.usesSocketBuffer:
            guard case .pointer(let p) = state[6], p.kind == .context, p.offset.constantValue == 0 else {
                throw reject(.invalidInstruction, at: pc, state, "a legacy packet load needs r6 to hold the context (the socket buffer)",
                             facts: ["r6 is \(state[6].description)"])
            }
            guard state.references.isEmpty else {
                throw reject(.unreleasedReference, at: pc, state, "a legacy packet load may end the program while it holds a reference",
                             facts: referenceFacts(state, at: pc))
            }
            if let held = state.lock {
                throw reject(.invalidInstruction, at: pc, state, "a legacy packet load may not run while the spin lock taken at \(held.origin) is held")
            }
        default:
            throw reject(.invalidInstruction, at: pc, state, "legacy packet loads are only allowed in programs that get a socket buffer")
        }
        if let index {
            guard try read(index, at: pc, state).scalar != nil else {
                throw reject(.invalidInstruction, at: pc, state, "the index of a legacy packet load must be a number, not a pointer")
            }
        }
        guard size != .double else {
            throw reject(.invalidInstruction, at: pc, state, "legacy packet loads read 1, 2 or 4 bytes")
        }
        for r in 1...5 { state[r] = .uninitialized }
        state[0] = .scalar(.unsigned(0, size == .word ? 0xffff_ffff : size == .half ? 0xffff : 0xff))
    }
}
