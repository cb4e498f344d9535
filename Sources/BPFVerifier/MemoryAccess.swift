import BPFInstructions

/// Loads, stores and atomics: the pointer kinds they may go through and the bounds of each.
extension Analysis {
    func load(_ size: MemorySize, base: Register, offset: Int, signed: Bool, at pc: Int,
              _ state: inout VerifierState) throws(Rejection) -> Value {
        let pointer = try basePointer(base, at: pc, state)
        try noteAccess(at: pc, context: pointer.kind == .context, state)
        if pointer.kind == .context {
            guard !signed else {
                throw reject(.invalidContextAccess, at: pc, state, "sign-extending loads from the context are not allowed")
            }
            return try contextAccess(pointer, offset: offset, size: size.rawValue, write: false, at: pc, state)
        }
        if case .kernelObject(let object) = pointer.kind {
            return try kernelObjectLoad(object, pointer, base: base, offset: offset, size: size, signed: signed, at: pc, state)
        }
        if case .socket(let socket) = pointer.kind {
            if let denial = SocketAccess.denial(socket, offset: offset, size: size.rawValue) {
                throw reject(.invalidMemoryAccess, at: pc, state,
                             "this \(size.rawValue)-byte read through \(base) (a \(socket.name) pointer) at offset \(offset) \(denial)",
                             facts: ["the pointer came from \(helperName(at: pointer.origin)) at \(pointer.origin)"])
            }
            return signed ? signedUnknown(size) : .scalar(zeroExtendedUnknown(size))
        }
        try checkAccess(pointer, base: base, offset: offset, size: size.rawValue, write: false, at: pc, state)
        if case .stack(let frame) = pointer.kind, let at = pointer.offset.constantValue {
            let address = Int(Int64(bitPattern: at)) + offset
            guard let value = state.frames[frame].stack.read(offset: address, size: size.rawValue) else {
                throw reject(.invalidMemoryAccess, at: pc, state,
                             "\(sizeText(size.rawValue)) load reads part of a pointer spilled at fp\(address)")
            }
            if size == .double, let slot = state.frames[frame].stack.spilledSlot(at: address) { movedSlot = (frame, slot) }
            if signed { return signedUnknown(size) }
            if case .scalar(let s) = value, !s.isConstant, size != .double { return .scalar(zeroExtendedUnknown(size)) }
            return value
        }
        return signed ? signedUnknown(size) : .scalar(zeroExtendedUnknown(size))
    }

    /// A load from a kernel struct: it must fall inside one field, at a constant offset; a
    /// pointer field loaded whole gives a pointer to its struct (untrusted, as the kernel's).
    private func kernelObjectLoad(_ object: KernelObject, _ pointer: Pointer, base: Register, offset: Int, size: MemorySize,
                                  signed: Bool, at pc: Int, _ state: VerifierState) throws(Rejection) -> Value {
        let what = "this \(size.rawValue)-byte read through \(base) (a pointer to struct \(object.name))"
        guard let types = options.kernelTypes, let constant = pointer.offset.constantValue else {
            throw reject(.invalidMemoryAccess, at: pc, state, "\(what) uses a variable offset; kernel structs are read at constant ones",
                         facts: ["the offset is \(pointer.offset.description)"])
        }
        let at = Int64(bitPattern: constant) &+ Int64(offset)
        guard at >= 0, at < 1 << 29 else {
            throw reject(.invalidMemoryAccess, at: pc, state, "\(what) at offset \(at) is outside the struct")
        }
        switch types.field(in: object.type, offset: Int(at), size: size.rawValue) {
        case .failure(let denial):
            throw reject(.invalidMemoryAccess, at: pc, state, "\(what) at offset \(at) \(denial.text)")
        case .success(.scalar):
            return signed ? signedUnknown(size) : .scalar(zeroExtendedUnknown(size))
        case .success(.pointer(let type)):
            let loaded = KernelObject(type: type, name: types.name(of: type), trusted: false)
            return .pointer(Pointer(kind: .kernelObject(loaded), offset: .constant(0), origin: pc))
        }
    }

    private func signedUnknown(_ size: MemorySize) -> Value {
        guard size != .double else { return .unknownScalar }
        let half = Int64(1) << (size.rawValue * 8 - 1)
        var s = Scalar.unknown
        s.smin = -half
        s.smax = half - 1
        return .scalar(s.synchronized() ?? .unknown)
    }

    private func zeroExtendedUnknown(_ size: MemorySize) -> Scalar {
        size == .double ? .unknown : .unsigned(0, (UInt64(1) << (size.rawValue * 8)) - 1)
    }

    /// Stores `value`, from `register` or an immediate (nil).
    func store(_ size: MemorySize, base: Register, offset: Int, value: Value, from register: Register?, at pc: Int,
               _ state: inout VerifierState) throws(Rejection) {
        let pointer = try basePointer(base, at: pc, state)
        try noteAccess(at: pc, context: pointer.kind == .context, state)
        if pointer.kind == .context {
            if register == nil {
                throw reject(.invalidContextAccess, at: pc, state, "storing an immediate into the context is not allowed")
            }
            guard value.scalar != nil else {
                throw reject(.invalidContextAccess, at: pc, state, "storing a pointer into the context is not allowed")
            }
            _ = try contextAccess(pointer, offset: offset, size: size.rawValue, write: true, at: pc, state)
            return
        }
        try checkAccess(pointer, base: base, offset: offset, size: size.rawValue, write: true, at: pc, state)
        switch pointer.kind {
        case .stack(let frame):
            let address = Int(Int64(bitPattern: pointer.offset.constantValue ?? 0)) + offset
            if case .pointer(let stored) = value {
                guard size == .double, address % 8 == 0 else {
                    throw reject(.invalidMemoryAccess, at: pc, state, "a pointer may only be stored to the stack whole, as 8 aligned bytes")
                }
                if case .stack(let pointee) = stored.kind, pointee > frame {
                    throw reject(.invalidMemoryAccess, at: pc, state,
                                 "a pointer to a called function's stack may not be stored in its caller's stack")
                }
            }
            if size == .double && address % 8 == 0 {
                movedSlot = (frame, StackState.index(ofOffset: address) / 8)
            } else if let register, value.scalar?.constantValue == 0 {
                // Bytes known to be zero are compared as such, not through the register.
                markPrecise(register, in: state)
            }
            state.frames[frame].stack.write(offset: address, size: size.rawValue, value: value)
        default:
            if value.pointer != nil, pointer.kind == .packet || pointer.kind == .packetMeta {
                throw reject(.invalidMemoryAccess, at: pc, state, "storing a pointer into the packet is not allowed")
            }
        }
    }

    func atomic(_ operation: AtomicOperation, _ size: MemorySize, base: Register, offset: Int, source: Register, at pc: Int,
                _ state: inout VerifierState) throws(Rejection) {
        guard size == .word || size == .double else {
            throw reject(.invalidInstruction, at: pc, state, "atomic operations work on 4 or 8 bytes")
        }
        guard try read(source, at: pc, state).scalar != nil else {
            throw reject(.invalidMemoryAccess, at: pc, state, "the operand of an atomic operation must be a number, not a pointer")
        }
        if operation == .compareExchange { _ = try read(.r0, at: pc, state) }
        let pointer = try basePointer(base, at: pc, state)
        switch pointer.kind {
        case .context, .packet, .packetMeta:
            throw reject(.invalidMemoryAccess, at: pc, state, "atomic operations on the \(pointer.kind.name) are not allowed")
        default: break
        }
        try checkAccess(pointer, base: base, offset: offset, size: size.rawValue, write: true, at: pc, state)
        if case .stack(let frame) = pointer.kind {
            let address = Int(Int64(bitPattern: pointer.offset.constantValue ?? 0)) + offset
            guard options.allowsUninitializedStackReads || state.frames[frame].stack.isInitialized(offset: address, size: size.rawValue) else {
                throw reject(.uninitializedStack, at: pc, state, "an atomic operation reads stack bytes fp\(address) that were never written")
            }
            let old = state.frames[frame].stack.read(offset: address, size: size.rawValue)
            if old == nil || old?.pointer != nil {
                throw reject(.invalidMemoryAccess, at: pc, state, "an atomic operation on a spilled pointer is not allowed")
            }
            state.frames[frame].stack.markWritten(offset: address, size: size.rawValue)
        }
        if operation == .compareExchange {
            state[0] = .scalar(zeroExtendedUnknown(size))
        } else if operation.fetches {
            try write(source, at: pc, &state, value: .scalar(zeroExtendedUnknown(size)))
        }
    }

    private func basePointer(_ base: Register, at pc: Int, _ state: VerifierState) throws(Rejection) -> Pointer {
        switch try read(base, at: pc, state) {
        case .pointer(let p):
            if p.kind.mayBeNull {
                throw reject(.possiblyNull, at: pc, state, "\(base) may be NULL here; check it before using it",
                             facts: nullCheckFacts(p, state, pc))
            }
            return p
        case .scalar(let s):
            throw reject(.invalidMemoryAccess, at: pc, state, "\(base) holds a number, not a pointer, so it cannot be used as an address",
                         facts: ["\(base) is scalar(\(s.description))"])
        case .uninitialized:
            throw reject(.uninitializedRegister, at: pc, state, "\(base) is read before anything was written to it")
        }
    }

    /// Where a possibly-NULL pointer came from and the path on which it was not checked.
    @inline(never)
    private func nullCheckFacts(_ pointer: Pointer, _ state: VerifierState, _ pc: Int) -> [String] {
        originFacts(pointer).map { $0 + ", and it is not checked for NULL on the path \(pathText(state, pc))" }
    }

    func pathText(_ state: VerifierState, _ pc: Int) -> String {
        Rejection.pathText(state.trail.last == pc ? state.trail : state.trail + [pc])
    }

    private func contextAccess(_ pointer: Pointer, offset: Int, size: Int, write: Bool, at pc: Int,
                               _ state: VerifierState) throws(Rejection) -> Value {
        guard pointer.offset.constantValue == 0 else {
            throw reject(.invalidContextAccess, at: pc, state,
                         "the context may only be accessed through its unmodified pointer, at a constant offset in the instruction",
                         facts: ["the pointer is \(Value.pointer(pointer).description)"])
        }
        switch ContextAccess.check(kind, offset: offset, size: size, write: write, tracepoint: options.tracepointFormat) {
        case .success(let result):
            return switch result {
            case .scalar: .scalar(size == 8 ? .unknown : .unsigned(0, (UInt64(1) << (size * 8)) - 1))
            case .packet: .pointer(Pointer(kind: .packet, offset: .constant(0), origin: pc))
            case .packetEnd: .pointer(Pointer(kind: .packetEnd, offset: .constant(0), origin: pc))
            case .packetMeta: .pointer(Pointer(kind: .packetMeta, offset: .constant(0), origin: pc))
            }
        case .failure(let denial):
            throw reject(.invalidContextAccess, at: pc, state,
                         "this \(size)-byte \(write ? "write" : "read") of the \(kind) context at offset \(offset) \(denial.text)")
        }
    }

    /// Checks that [offset + pointer offset, + size) lies inside the memory the pointer points to,
    /// for every offset the pointer may have.
    func checkAccess(_ pointer: Pointer, base: Register, offset: Int, size: Int, write: Bool, at pc: Int,
                     _ state: VerifierState) throws(Rejection) {
        let low = pointer.offset.smin.addingReportingOverflow(Int64(offset))
        let high = pointer.offset.smax.addingReportingOverflow(Int64(offset + size))
        // Words for messages, made only when one is needed (this runs at every access).
        func what() -> String { "\(sizeText(size)) \(write ? "write" : "read") through \(base)" }
        func outside(_ region: String, _ facts: [String] = []) -> Rejection {
            reject(.invalidMemoryAccess, at: pc, state,
                   "\(what()) at offset \(offsetText(pointer.offset, offset)) is outside \(region)", facts: facts)
        }
        guard !low.overflow, !high.overflow else { throw outside("any memory") }
        switch pointer.kind {
        case .stack(let frame):
            guard let base = pointer.offset.constantValue else {
                throw reject(.invalidMemoryAccess, at: pc, state, "\(what()) uses a variable offset into the stack",
                             facts: ["the offset is \(pointer.offset.description)"])
            }
            let address = Int(Int64(bitPattern: base)) + offset
            guard address >= -StackState.size, address + size <= 0 else { throw outside("the 512-byte stack") }
            guard address % size == 0 else {
                throw reject(.invalidMemoryAccess, at: pc, state, "\(what()) at fp\(address) is not aligned to its size")
            }
            if !write && !options.allowsUninitializedStackReads && !state.frames[frame].stack.isInitialized(offset: address, size: size) {
                throw reject(.uninitializedStack, at: pc, state, "\(what()) reads stack bytes at fp\(address) that were never written")
            }
        case .mapValue(let map):
            guard low.partialValue >= 0, high.partialValue <= Int64(map.valueSize) else {
                throw outside("the \(map.valueSize)-byte value of map \(map.name)")
            }
            if let lock = map.spinLockOffset, low.partialValue < Int64(lock + 4), high.partialValue > Int64(lock) {
                throw reject(.invalidMemoryAccess, at: pc, state,
                             "\(what()) touches the bpf_spin_lock at offset \(lock) of map \(map.name)'s value, which only bpf_spin_lock and bpf_spin_unlock may use")
            }
        case .memory(let size), .input(let size):
            guard low.partialValue >= 0, high.partialValue <= Int64(size) else { throw outside("the \(size) bytes of memory") }
        case .packet:
            guard low.partialValue >= 0 else { throw outside("the packet") }
            guard high.partialValue <= Int64(state.packetBytes) || provenByID(pointer, offset + size, state) else {
                throw outside("the part of the packet proven to exist", [
                    "only the first \(state.packetBytes) bytes are known to be in the packet; compare data + \(high.partialValue) with data_end first"])
            }
        case .packetMeta:
            guard low.partialValue >= 0,
                  high.partialValue <= Int64(state.metaBytes) || provenByID(pointer, offset + size, state) else {
                throw outside("the metadata proven to lie before the packet", ["\(state.metaBytes) bytes of metadata are known to exist"])
            }
        case .mapKey(let map):
            guard !write else {
                throw reject(.invalidMemoryAccess, at: pc, state, "\(what()) writes the map key a callback is given, which is read-only")
            }
            guard low.partialValue >= 0, high.partialValue <= Int64(map.keySize) else {
                throw outside("the \(map.keySize)-byte key of map \(map.name)")
            }
        case .socket, .kernelObject:
            throw reject(.invalidMemoryAccess, at: pc, state, "\(what()) goes through a \(pointer.kind.name) pointer, whose fields may only be read")
        case .context, .map, .packetEnd, .mapValueOrNull, .memoryOrNull, .mapOrNull, .function, .socketOrNull:
            throw reject(.invalidMemoryAccess, at: pc, state, "\(what()) goes through a \(pointer.kind.name) pointer, which may not be dereferenced")
        }
    }

    /// Whether a check of a pointer with the same variable part proved the bytes up to
    /// `end` past this pointer's variable part plus its constant part.
    private func provenByID(_ pointer: Pointer, _ end: Int, _ state: VerifierState) -> Bool {
        guard pointer.id != 0, let range = state.packetRanges[pointer.id] else { return false }
        let (high, overflow) = pointer.fixed.addingReportingOverflow(Int64(end))
        return !overflow && high <= Int64(range)
    }

    /// "a 4-byte", "an 8-byte".
    func sizeText(_ size: Int) -> String { size == 8 ? "an 8-byte" : "a \(size)-byte" }

    private func offsetText(_ pointerOffset: Scalar, _ offset: Int) -> String {
        if let value = pointerOffset.constantValue { return "\(Int64(bitPattern: value) + Int64(offset))" }
        return "\(pointerOffset.smin + Int64(offset))...\(pointerOffset.smax + Int64(offset))"
    }
}
