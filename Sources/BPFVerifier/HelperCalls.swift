import BPFInstructions
import BPFObject

/// Helper calls checked against their prototypes, bpf-to-bpf calls with a frame each, and exits.
extension Analysis {
    func callHelper(_ id: Int32, at pc: Int, _ state: inout VerifierState) throws(Rejection) {
        let prototype: HelperPrototype
        if let host = options.helpers[id], host.allowed == .all || host.isAllowed(in: kind) {
            // A host's own helper: its prototype says what it takes, in any mode.
            prototype = host
        } else if case .plainMemory = kind {
            // The VM's conformance helper "unwind": returns r1.
            guard id == 5 else {
                throw reject(.invalidHelperCall, at: pc, state, "\(HelperPrototypes.name(id)) is not available in plain-memory mode")
            }
            prototype = HelperPrototype(name: "unwind", arguments: [.anything])
        } else {
            guard let known = HelperPrototypes.byID[id] else {
                throw reject(.invalidHelperCall, at: pc, state, "\(HelperPrototypes.name(id)) is not a helper this verifier knows")
            }
            guard known.isAllowed(in: kind) else {
                throw reject(.invalidHelperCall, at: pc, state, "\(HelperPrototypes.name(id)) may not be called by a \(kind) program")
            }
            prototype = known
        }
        var map: MapInfo?
        var key: UInt64?
        var reservationSize = 0
        var released: Int?
        for (position, argument) in prototype.arguments.enumerated() {
            let register = Register.all[position + 1]
            let value = try read(register, at: pc, state)
            let name = "argument \(position + 1) (\(register)) of bpf_\(prototype.name)"
            func wrong(_ expected: String) -> Rejection {
                wrongArgument(name, expected, register, value, pc, state)
            }
            switch argument {
            case .anything: break
            case .scalar:
                guard value.scalar != nil else { throw wrong("a number") }
            case .map(let types):
                guard case .pointer(let p) = value, case .map(let info) = p.kind else { throw wrong("a map") }
                if let types, !types.contains(info.type) { throw wrong("a map of type \(typeList(types))") }
                // A map of maps is looked up (to find an inner map), never changed, by programs.
                if types == nil && !info.hasValues && !(info.holdsMaps && prototype.returns == .mapValueOrNull) {
                    throw wrong("a map with values (not a \(info.type) map)")
                }
                map = info
            case .mapKey, .mapValue:
                guard let map else { throw wrong("preceded by a map") }
                let size = argument.isMapKey ? map.keySize : map.valueSize
                try checkMemoryArgument(value, register: register, size: Scalar.constant(UInt64(size)), write: false, name: name, at: pc, &state)
                if argument.isMapKey { key = constantKey(value, size: size, state) }
            case .context:
                guard case .pointer(let p) = value, p.kind == .context, p.offset.constantValue == 0 else { throw wrong("the context") }
            case .readableMemory, .writableMemory:
                let sizeRegister = Register.all[position + 2]
                guard case .scalar(let size) = try read(sizeRegister, at: pc, state) else {
                    throw reject(.invalidHelperCall, at: pc, state, "argument \(position + 2) (\(sizeRegister)) of bpf_\(prototype.name) must be a size")
                }
                if case .size(false) = prototype.arguments[position + 1], size.umin == 0 {
                    throw reject(.invalidHelperCall, at: pc, state, "the size in \(sizeRegister) may be zero, which bpf_\(prototype.name) does not allow",
                                 facts: ["\(sizeRegister) is \(size.description)"])
                }
                guard size.smin >= 0, size.umax < 1 << 29 else {
                    throw reject(.invalidHelperCall, at: pc, state, "the size in \(sizeRegister) is not bounded",
                                 facts: ["\(sizeRegister) is \(size.description); check it against a maximum first"])
                }
                markPrecise(sizeRegister, in: state)
                if size.umax > 0 || value.pointer != nil {
                    try checkMemoryArgument(value, register: register, size: size, write: argument.isWritable, name: name, at: pc, &state)
                }
            case .size: break
            case .string:
                try checkMemoryArgument(value, register: register, size: Scalar.constant(1), write: false, name: name, at: pc, &state)
            case .constantSize:
                markPrecise(register, in: state)
                guard let size = value.scalar?.constantValue, size > 0, size < 1 << 29 else { throw wrong("a positive constant size") }
                reservationSize = Int(size)
            case .reservation:
                guard case .pointer(let p) = value, case .memory = p.kind, p.id != 0, state.references[p.id] != nil,
                      p.offset.constantValue == 0 else {
                    throw wrong("an unmodified pointer to a ring buffer reservation that was not yet submitted or discarded")
                }
                released = p.id
            case .socketReference:
                guard case .pointer(let p) = value, case .socket = p.kind, p.id != 0, state.references[p.id] != nil,
                      p.offset.constantValue == 0 else {
                    throw wrong("a socket pointer from bpf_sk_lookup_* or bpf_skc_lookup_tcp, checked for NULL and not yet released")
                }
                released = p.id
            case .spinLock(let unlock):
                try takeOrGiveBack(lock: value, register: register, unlock: unlock, name: name, at: pc, &state)
            case .kernelStruct(let structName):
                guard case .pointer(let p) = value, case .kernelObject(let object) = p.kind, object.name == structName,
                      p.offset.constantValue == 0 else {
                    throw wrong("a pointer to struct \(structName) typed by the kernel's BTF (such as bpf_get_current_task_btf returns)")
                }
            }
        }
        if id == 12 && !state.references.isEmpty {
            throw reject(.unreleasedReference, at: pc, state, "a tail call here would leave references open, as it never returns",
                         facts: referenceFacts(state, at: pc))
        }
        applyEffects(of: prototype, released: released, &state)
        for r in 1...5 { state[r] = .uninitialized }
        switch prototype.returns {
        case .scalar: state[0] = .unknownScalar
        case .nothing: state[0] = .uninitialized
        case .mapValueOrNull:
            guard let map else { state[0] = .unknownScalar; break }
            if map.holdsMaps {
                guard let inner = map.innerMap else {
                    throw reject(.unknownMap, at: pc, state, "the maps held by \(map.name) are not described (no inner map template)")
                }
                state[0] = .pointer(Pointer(kind: .mapOrNull(inner), offset: .constant(0), id: makeID(), origin: pc))
                break
            }
            // A value with a spin lock keeps an id, which tells its lock from other values' (as the kernel).
            state[0] = map.alwaysHasValue(forKey: key)
                ? .pointer(Pointer(kind: .mapValue(map), offset: .constant(0), id: map.spinLockOffset == nil ? 0 : makeID(), origin: pc))
                : .pointer(Pointer(kind: .mapValueOrNull(map), offset: .constant(0), id: makeID(), origin: pc))
        case .reservationOrNull:
            let id = makeID()
            state[0] = .pointer(Pointer(kind: .memoryOrNull(size: reservationSize), offset: .constant(0), id: id, origin: pc))
            state.references[id] = pc
        case .kernelStruct(let structName, let trusted):
            guard let types = options.kernelTypes, let type = types.structID(named: structName) else {
                throw reject(.unsupported, at: pc, state,
                             "bpf_\(prototype.name) returns a pointer to struct \(structName) typed by the kernel's BTF, which is needed to check its use: give the kernel's BTF (swiftbpf verify --kernel-btf /sys/kernel/btf/vmlinux, or Verifier.Options.kernelTypes)")
            }
            state[0] = .pointer(Pointer(kind: .kernelObject(KernelObject(type: type, name: structName, trusted: trusted)),
                                        offset: .constant(0), origin: pc))
        case .socketOrNull(let common):
            let id = makeID()
            state[0] = .pointer(Pointer(kind: .socketOrNull(common ? .common : .full), offset: .constant(0), id: id, origin: pc))
            state.references[id] = pc
        }
    }

    /// bpf_spin_lock and bpf_spin_unlock: the pointer must point at the `struct bpf_spin_lock`
    /// of a map value; unlock gives back the very lock taken. (No second lock can be taken:
    /// while one is held, no helper but bpf_spin_unlock may be called.)
    private func takeOrGiveBack(lock value: Value, register: Register, unlock: Bool, name: String, at pc: Int,
                                _ state: inout VerifierState) throws(Rejection) {
        guard case .pointer(let p) = value, case .mapValue(let map) = p.kind else {
            throw wrongArgument(name, "a pointer to the bpf_spin_lock of a map value", register, value, pc, state)
        }
        guard let lockOffset = map.spinLockOffset else {
            throw reject(.invalidHelperCall, at: pc, state, "the value of map \(map.name) has no struct bpf_spin_lock (its BTF names none)",
                         facts: valueFacts(register, value))
        }
        // No closures in typed-throws code (Swift 6.3's release-mode miscompile).
        guard let offset = p.offset.constantValue, Int64(bitPattern: offset) == Int64(lockOffset) else {
            throw reject(.invalidHelperCall, at: pc, state,
                         "\(register) must point at the bpf_spin_lock of map \(map.name)'s value, at offset \(lockOffset)",
                         facts: valueFacts(register, value))
        }
        let lock = HeldLock(map: map.name, id: p.id, origin: pc)
        guard unlock else {
            state.lock = lock
            return
        }
        guard let held = state.lock else {
            throw reject(.invalidHelperCall, at: pc, state, "bpf_spin_unlock is called, but no spin lock is held on the path \(pathText(state, pc))")
        }
        guard held.map == lock.map, held.id == lock.id else {
            throw reject(.invalidHelperCall, at: pc, state, "bpf_spin_unlock gives back a different lock from the one taken",
                         facts: ["the lock held was taken at \(held.origin), in a value of map \(held.map)", "\(register) is \(value.description)"])
        }
        state.lock = nil
    }

    /// Refuses a helper call while a spin lock is held (but the unlock), as the kernel does.
    func checkNoLockHeld(calling id: Int32, at pc: Int, _ state: VerifierState) throws(Rejection) {
        guard let held = state.lock, id != 94 else { return }
        throw reject(.invalidCall, at: pc, state,
                     "\(HelperPrototypes.name(id)) may not be called while a spin lock is held; call bpf_spin_unlock first",
                     facts: ["the lock was taken by bpf_spin_lock at \(held.origin) on the path \(pathText(state, pc))"])
    }

    @inline(never)
    private func wrongArgument(_ name: String, _ expected: String, _ register: Register, _ value: Value, _ pc: Int,
                               _ state: VerifierState) -> Rejection {
        reject(.invalidHelperCall, at: pc, state, "\(name) must be \(expected)", facts: valueFacts(register, value))
    }

    /// What a register holds and, for a pointer that may be NULL, where it came from.
    @inline(never)
    private func valueFacts(_ register: Register, _ value: Value) -> [String] {
        ["\(register) is \(value.description)"] + (value.pointer.map(originFacts) ?? [])
    }

    @inline(never)
    private func typeList(_ types: [MapType]) -> String { types.map { "\($0)" }.joined(separator: " or ") }

    /// What a call does besides its return value: a released reservation's pointers die, and
    /// so do packet pointers when the packet may have moved. Outlined from the typed-throws
    /// caller because of the closures (Swift 6.3's release-mode miscompile).
    @inline(never)
    private func applyEffects(of prototype: HelperPrototype, released: Int?, _ state: inout VerifierState) {
        if let released {
            state.references[released] = nil
            state.updateAllValues { value in
                if case .pointer(let p) = value, p.id == released { return .unknownScalar }
                return value
            }
        }
        if prototype.changesPacket {
            state.packetBytes = 0
            state.metaBytes = 0
            state.packetRanges = [:]
            state.updateAllValues { value in
                guard case .pointer(let p) = value else { return value }
                switch p.kind {
                case .packet, .packetEnd, .packetMeta: return .unknownScalar
                default: return value
                }
            }
        }
    }

    /// Stack bytes the frames of a call chain take together, each rounded up to 32 as the kernel counts.
    @inline(never)
    func stackUsed(by frames: [Frame]) -> Int {
        frames.reduce(0) { $0 + max(32, ($1.stack.depth + 31) / 32 * 32) }
    }

    /// A pointer argument to memory the helper reads or writes: `size` bytes (up to its maximum) must
    /// be inside the memory, and initialised when read. Stack bytes a helper writes become initialised.
    private func checkMemoryArgument(_ value: Value, register: Register, size: Scalar, write: Bool, name: String, at pc: Int,
                                     _ state: inout VerifierState) throws(Rejection) {
        guard case .pointer(let p) = value, !p.kind.mayBeNull else {
            throw reject(.invalidHelperCall, at: pc, state, "\(name) must point to memory",
                         facts: valueFacts(register, value))
        }
        let length = Int(size.umax)
        if case .stack(let frame) = p.kind {
            guard let base = p.offset.constantValue else {
                throw reject(.invalidHelperCall, at: pc, state, "\(name) points into the stack at a variable offset")
            }
            let address = Int(Int64(bitPattern: base))
            guard address >= -StackState.size, address + length <= 0 else {
                throw reject(.invalidHelperCall, at: pc, state, "\(name): \(length) bytes at fp\(address) are outside the stack")
            }
            if write {
                if let exact = size.constantValue, exact > 0 { state.frames[frame].stack.markWritten(offset: address, size: Int(exact)) }
            } else if length > 0 && !options.allowsUninitializedStackReads
                        && !state.frames[frame].stack.isInitialized(offset: address, size: length) {
                throw reject(.uninitializedStack, at: pc, state, "\(name): the \(length) bytes at fp\(address) are not all initialised")
            }
            return
        }
        if p.kind == .context {
            throw reject(.invalidHelperCall, at: pc, state, "\(name) may not point into the context")
        }
        try checkAccess(p, base: register, offset: 0, size: max(length, 1), write: write, at: pc, state)
    }

    /// A key on the stack whose value is known.
    private func constantKey(_ value: Value, size: Int, _ state: VerifierState) -> UInt64? {
        guard case .pointer(let p) = value, case .stack(let frame) = p.kind, let base = p.offset.constantValue,
              [1, 2, 4, 8].contains(size) else { return nil }
        let address = Int(Int64(bitPattern: base))
        guard state.frames[frame].stack.isInitialized(offset: address, size: size) else { return nil }
        let key = state.frames[frame].stack.read(offset: address, size: size)?.scalar?.constantValue
        if key != nil, size == 8, let slot = state.frames[frame].stack.spilledSlot(at: address) {
            markPrecise(frame: frame, slot: slot, in: state)
        }
        return key
    }

    /// For each open reference: what holds it, the call that took it and the path on which it stays open.
    func referenceFacts(_ state: VerifierState, at pc: Int) -> [String] {
        state.references.sorted { $0.value < $1.value }.map { id, origin in
            let what = if case .call(131)? = instructions[origin] {
                "a ring buffer reservation made by ringbuf_reserve at \(origin)"
            } else {
                "a socket reference acquired by \(helperName(at: origin)) at \(origin)"
            }
            let holders = holders(of: id, state)
            guard !holders.isEmpty else {
                return "\(what) is not released on the path \(pathText(state, pc)), and no register or stack slot holds it any more"
            }
            return holders.joined(separator: " and ") + (holders.count == 1 ? " holds " : " hold ")
                + "\(what) that is not released on the path \(pathText(state, pc))"
        }
    }

    /// The registers and stack slots that hold a pointer with this id.
    private func holders(of id: Int, _ state: VerifierState) -> [String] {
        var names: [String] = []
        for (depth, frame) in state.frames.enumerated() {
            let prefix = state.frames.count > 1 ? "frame \(depth) " : ""
            for (r, value) in frame.registers.enumerated() where value.pointer?.id == id { names.append("\(prefix)r\(r)") }
            for slot in frame.stack.spills.keys.sorted() where frame.stack.spills[slot]?.pointer?.id == id {
                names.append("\(prefix)fp\(slot * 8 - StackState.size)")
            }
        }
        return names
    }

    // MARK: Local calls and exits

    /// Enters the callee's frame; returns its first instruction.
    func callLocal(at pc: Int, target: Int, returnTo: Int, _ state: inout VerifierState) throws(Rejection) -> Int {
        guard state.frames.count < 8 else {
            throw reject(.invalidCall, at: pc, state, "the call would be the ninth frame; calls may nest 8 deep")
        }
        var frame = Frame()
        for r in 1...5 { frame.registers[r] = state[r] }
        frame.registers[10] = .pointer(Pointer(kind: .stack(frame: state.frames.count), offset: .constant(0)))
        frame.returnIndex = returnTo
        frame.callSite = pc
        var callee = state
        callee.frames.append(frame)
        callee.note(pc)
        callee.note(target)
        guard stackUsed(by: callee.frames) <= StackState.size else {
            throw reject(.invalidCall, at: pc, state, "the stacks of the nested calls would use more than 512 bytes together")
        }
        state = callee
        return target
    }

    /// Returns the caller's next instruction, or nil at the end of the program.
    func exit(at pc: Int, _ state: inout VerifierState) throws(Rejection) -> Int? {
        let r0 = state[0]
        // A function may return nothing (as the kernel allows): its caller then may not read r0.
        guard r0.isInitialized || (state.frames.count > 1 && state.current.callback == nil) else {
            throw reject(.invalidReturn, at: pc, state, "r0 holds no value at exit; set the return value first")
        }
        if state.frames.count > 1 {
            let depth = state.frames.count - 1
            if case .pointer(let p) = r0, case .stack(let frame) = p.kind, frame == depth {
                throw reject(.invalidReturn, at: pc, state, "the function returns a pointer to its own stack, which ends with it")
            }
            if state.current.callback != nil { return try exitCallback(at: pc, &state) }
            let callee = state.frames.removeLast()
            state[0] = r0
            for r in 1...5 { state[r] = .uninitialized }
            state.note(pc)
            return callee.returnIndex
        }
        if let held = state.lock {
            throw reject(.unreleasedReference, at: pc, state, "the program ends while holding the spin lock taken at \(held.origin); call bpf_spin_unlock first",
                         facts: ["the lock is in a value of map \(held.map), on the path \(pathText(state, pc))"])
        }
        guard state.references.isEmpty else {
            throw reject(.unreleasedReference, at: pc, state,
                         "the program ends without releasing what it holds (submit or discard a ring buffer reservation, bpf_sk_release a socket)",
                         facts: referenceFacts(state, at: pc))
        }
        if let range = kind.returnRange {
            markPrecise(.r0, in: state)
            guard case .scalar(let s) = r0, s.umin >= range.lowerBound, s.umax <= range.upperBound else {
                throw reject(.invalidReturn, at: pc, state,
                             "a \(kind) program must return a value in \(range.lowerBound)...\(range.upperBound)",
                             facts: ["r0 is \(r0.description)"])
            }
        }
        return nil
    }
}

extension HelperPrototype.Argument {
    var isMapKey: Bool {
        if case .mapKey = self { return true }
        return false
    }

    var isWritable: Bool {
        if case .writableMemory = self { return true }
        return false
    }
}
