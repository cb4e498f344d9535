import BPFInstructions

/// Conditional jumps: which way they can go and what each way teaches — ranges of numbers,
/// NULL or not for pointers that may be NULL, and packet bytes proven by a comparison with
/// data_end.
extension Analysis {
    func branch(_ condition: JumpCondition, _ width: Width, dst: Register, source: Operand, at pc: Int, taken: Int,
                next: Int, _ state: inout VerifierState) throws(Rejection) -> Successors {
        let left = try read(dst, at: pc, state)
        let right: Value = switch source {
        case .immediate(let imm): .scalar(.constant(UInt64(bitPattern: Int64(imm))))
        case .register(let r): try read(r, at: pc, state)
        }
        if case .scalar(let a) = left, case .scalar(let b) = right {
            recordLinks(dst, source, state)
            let onTaken = ScalarComparison.refine(condition, width, a, b, holds: true)
            let onFall = ScalarComparison.refine(condition, width, a, b, holds: false)
            if let (x, y) = onTaken, let (u, v) = onFall {
                var takenState = state
                takenState.note(pc)
                takenState.note(taken)
                assign(dst, x, source, y, &takenState)
                state.note(pc)
                state.note(next)
                assign(dst, u, source, v, &state)
                return .fork(next, other: (taken, takenState))
            }
            // A way ruled out by the ranges: those ranges decided the path, which goes on in place.
            markPrecise(dst, in: state)
            if case .register(let r) = source { markPrecise(r, in: state) }
            guard let (x, y) = onTaken ?? onFall else { return .end }
            let target = onTaken != nil ? taken : next
            state.note(pc)
            state.note(target)
            assign(dst, x, source, y, &state)
            return .next(target)
        }
        var takenState = state, fallState = state
        takenState.note(pc)
        takenState.note(taken)
        fallState.note(pc)
        fallState.note(next)
        var takenPossible = true, fallPossible = true
        switch (left, right) {
        case (.pointer(let p), .scalar(let s)), (.scalar(let s), .pointer(let p)):
            guard s.constantValue == 0, width == .bits64, condition == .eq || condition == .ne else { break }
            // That the number is 0 makes this a NULL check.
            markPrecise(dst, in: state)
            if case .register(let r) = source { markPrecise(r, in: state) }
            let nullOnTaken = condition == .eq
            if p.kind.mayBeNull {
                settleNull(p.id, isNull: nullOnTaken, &takenState)
                settleNull(p.id, isNull: !nullOnTaken, &fallState)
            } else if case .kernelObject(let object) = p.kind, !object.trusted {
                // A pointer loaded from a kernel struct may be NULL though it may be read (the
                // kernel turns such reads into ones that cannot fault): both ways are possible.
            } else if nullOnTaken {
                takenPossible = false
            } else {
                fallPossible = false
            }
        case (.pointer(let a), .pointer(let b)):
            guard width == .bits64 else { break }
            if case .plainMemory = kind, let signed = Self.offsetCondition(condition, a, b) {
                // Two pointers into one object compare as their offsets do.
                if let (x, y) = ScalarComparison.refine(signed, .bits64, a.offset, b.offset, holds: true) {
                    assignOffsets(dst, x, source, y, &takenState)
                } else { takenPossible = false }
                if let (x, y) = ScalarComparison.refine(signed, .bits64, a.offset, b.offset, holds: false) {
                    assignOffsets(dst, x, source, y, &fallState)
                } else { fallPossible = false }
            } else {
                comparePacket(condition, a, b, &takenState, &fallState)
            }
        default: break
        }
        switch (fallPossible, takenPossible) {
        case (true, true):
            state = fallState
            return .fork(next, other: (taken, takenState))
        case (true, false):
            state = fallState
            return .next(next)
        case (false, true):
            state = takenState
            return .next(taken)
        case (false, false):
            return .end
        }
    }

    /// Sets the refined numbers, and the same on every copy of them.
    @inline(never)
    private func assign(_ dst: Register, _ x: Scalar, _ source: Operand, _ y: Scalar, _ state: inout VerifierState) {
        state[Int(dst.rawValue)] = .scalar(x)
        if case .register(let r) = source, r != .r10 { state[Int(r.rawValue)] = .scalar(y) }
        if case .register(let r) = source, r == dst { state[Int(r.rawValue)] = .scalar(x) }
        for refined in [x, y] where refined.id != 0 {
            state.updateAllValues { value in
                guard case .scalar(let s) = value, s.id == refined.id else { return value }
                return .scalar(Self.linkedCopy(of: refined, delta: s.linkDelta))
            }
        }
    }

    /// What a number linked to `refined` with its own delta now is: refined + the difference.
    static func linkedCopy(of refined: Scalar, delta: Int64) -> Scalar {
        guard delta != refined.linkDelta else { return refined }
        var moved = Scalar.apply(.add, .bits64, refined, .constant(UInt64(bitPattern: delta &- refined.linkDelta)))
        moved.id = refined.id
        moved.linkDelta = delta
        return moved
    }

    /// Where the copies of the compared numbers are, so that precision tracking, walking back
    /// over this branch, takes all of them when it takes one.
    @inline(never)
    private func recordLinks(_ dst: Register, _ source: Operand, _ state: VerifierState) {
        var ids: [Int] = []
        if let id = state[Int(dst.rawValue)].scalar?.id, id != 0 { ids.append(id) }
        if case .register(let r) = source, let id = state[Int(r.rawValue)].scalar?.id, id != 0 { ids.append(id) }
        guard !ids.isEmpty, options.tracksPrecision else { return }
        var links = PreciseSet()
        for (f, frame) in state.frames.enumerated() {
            for r in 0..<11 where ids.contains(frame.registers[r].scalar?.id ?? 0) { links.insert(frame: f, register: r) }
            for (slot, value) in frame.stack.spills where ids.contains(value.scalar?.id ?? 0) { links.insert(frame: f, slot: slot) }
        }
        linkedCopies.append(links)
        stepLinks = linkedCopies.count - 1
    }

    /// For two pointers into the same object — the plain-memory input, or one stack frame —
    /// the comparison of their offsets that an unsigned comparison of the addresses amounts to
    /// (plain-memory mode only: the kernel's verifier learns nothing from such a comparison,
    /// and for its program types we refuse what it refuses):
    /// signed, as offsets may be below the start, which is fine while they stay far from the
    /// ends of the address space. nil for other pointers and conditions (map values of two
    /// lookups may be different objects; the kernel does not compare those either).
    static func offsetCondition(_ condition: JumpCondition, _ a: Pointer, _ b: Pointer) -> JumpCondition? {
        switch (a.kind, b.kind) {
        case (.input, .input): break
        case (.stack(let x), .stack(let y)) where x == y: break
        default: return nil
        }
        let limit: Int64 = 1 << 31
        for offset in [a.offset, b.offset] where offset.smin < -limit || offset.smax > limit { return nil }
        return switch condition {
        case .eq: .eq
        case .ne: .ne
        case .gt: .sgt
        case .ge: .sge
        case .lt: .slt
        case .le: .sle
        case .set, .sgt, .sge, .slt, .sle: nil
        }
    }

    private func assignOffsets(_ dst: Register, _ x: Scalar, _ source: Operand, _ y: Scalar, _ state: inout VerifierState) {
        func set(_ register: Register, _ offset: Scalar) {
            // r10 stays the frame's unmoved top.
            guard register != .r10, case .pointer(var p) = state[Int(register.rawValue)] else { return }
            p.offset = offset
            state[Int(register.rawValue)] = .pointer(p)
        }
        set(dst, x)
        if case .register(let r) = source, r != dst { set(r, y) }
    }

    /// After a NULL check, every copy of the pointer is either NULL (the number 0) or a valid pointer.
    private func settleNull(_ id: Int, isNull: Bool, _ state: inout VerifierState) {
        guard id != 0 else { return }
        state.updateAllValues { value in
            guard case .pointer(var p) = value, p.id == id, p.kind.mayBeNull else { return value }
            if isNull { return .scalar(.constant(0)) }
            p.kind = p.kind.nonNull
            switch p.kind {
            case .mapValue(let map) where map.spinLockOffset == nil: p.id = 0
            case .map: p.id = 0
            default: break
            }
            return .pointer(p)
        }
        if isNull { state.references[id] = nil }
    }

    /// `data + N` compared with `data_end` (or `data_meta + N` with `data`): on the side where the
    /// pointer is not past the end, N bytes are known to be there.
    private func comparePacket(_ condition: JumpCondition, _ a: Pointer, _ b: Pointer, _ taken: inout VerifierState,
                               _ fall: inout VerifierState) {
        let pointer: Pointer, pointerIsLeft: Bool
        switch (a.kind, b.kind) {
        case (.packet, .packetEnd), (.packetMeta, .packet): (pointer, pointerIsLeft) = (a, true)
        case (.packetEnd, .packet), (.packet, .packetMeta): (pointer, pointerIsLeft) = (b, false)
        default: return
        }
        let end = pointerIsLeft ? b : a
        if pointer.kind == .packetMeta && end.offset.constantValue != 0 { return }
        guard pointer.offset.smin >= 0, pointer.offset.smin <= 0xffff else { return }
        let bytes = Int(pointer.offset.smin)
        // Which side of the jump has pointer <= end.
        let withinOnTaken: Bool? = switch (condition, pointerIsLeft) {
        case (.gt, true), (.ge, true), (.lt, false), (.le, false): false
        case (.lt, true), (.le, true), (.gt, false), (.ge, false): true
        default: nil
        }
        guard let withinOnTaken else { return }
        // A pointer with a variable part proves its constant part for every pointer of its id.
        let byID = pointer.id != 0 && pointer.fixed >= 0 && pointer.fixed <= 0xffff && pointer.offset.umax <= 0xffff
        func prove(_ state: inout VerifierState) {
            if pointer.kind == .packetMeta { state.metaBytes = max(state.metaBytes, bytes) }
            else { state.packetBytes = max(state.packetBytes, bytes) }
            if byID { state.packetRanges[pointer.id] = max(state.packetRanges[pointer.id] ?? 0, Int(pointer.fixed)) }
        }
        if withinOnTaken { prove(&taken) } else { prove(&fall) }
    }
}

/// Narrowing two numbers by the outcome of a comparison; nil when that outcome is impossible.
enum ScalarComparison {
    static func refine(_ condition: JumpCondition, _ width: Width, _ a: Scalar, _ b: Scalar, holds: Bool) -> (Scalar, Scalar)? {
        var a = a, b = b
        let ok: Bool
        switch (condition, holds) {
        case (.eq, true), (.ne, false): ok = equal(&a, &b, width)
        case (.eq, false), (.ne, true): ok = notEqual(&a, &b, width)
        case (.set, _): ok = testBits(&a, b, width, holds: holds)
        default:
            // Every ordered comparison as "x < y" or "x <= y".
            let (strict, swapped, signed): (Bool, Bool, Bool) = switch (condition, holds) {
            case (.gt, true): (true, true, false)      // b < a
            case (.gt, false): (false, false, false)   // a <= b
            case (.ge, true): (false, true, false)     // b <= a
            case (.ge, false): (true, false, false)    // a < b
            case (.lt, true): (true, false, false)
            case (.lt, false): (false, true, false)
            case (.le, true): (false, false, false)
            case (.le, false): (true, true, false)
            case (.sgt, true): (true, true, true)
            case (.sgt, false): (false, false, true)
            case (.sge, true): (false, true, true)
            case (.sge, false): (true, false, true)
            case (.slt, true): (true, false, true)
            case (.slt, false): (false, true, true)
            case (.sle, true): (false, false, true)
            default: (true, true, true)                // sle false: b < a
            }
            ok = swapped ? less(&b, &a, strict: strict, signed: signed, width) : less(&a, &b, strict: strict, signed: signed, width)
        }
        guard ok, let x = a.synchronized(), let y = b.synchronized() else { return nil }
        return (x, y)
    }

    private static func less(_ x: inout Scalar, _ y: inout Scalar, strict: Bool, signed: Bool, _ width: Width) -> Bool {
        switch (width, signed) {
        case (.bits64, false): return narrow(&x.umax, &x.umin, &y.umin, &y.umax, strict: strict)
        case (.bits64, true): return narrow(&x.smax, &x.smin, &y.smin, &y.smax, strict: strict)
        case (.bits32, false): return narrow(&x.u32max, &x.u32min, &y.u32min, &y.u32max, strict: strict)
        case (.bits32, true): return narrow(&x.s32max, &x.s32min, &y.s32min, &y.s32max, strict: strict)
        }
    }

    /// x < y (or <=): x's maximum falls below y's maximum, y's minimum rises above x's minimum.
    private static func narrow<T: FixedWidthInteger>(_ xMax: inout T, _ xMin: inout T, _ yMin: inout T, _ yMax: inout T,
                                                     strict: Bool) -> Bool {
        if strict {
            guard yMax > T.min, xMin < T.max else { return false }
            xMax = min(xMax, yMax - 1)
            yMin = max(yMin, xMin + 1)
        } else {
            xMax = min(xMax, yMax)
            yMin = max(yMin, xMin)
        }
        return xMin <= xMax && yMin <= yMax
    }

    private static func equal(_ a: inout Scalar, _ b: inout Scalar, _ width: Width) -> Bool {
        if width == .bits64 {
            guard let bits = a.bits.intersection(b.bits) else { return false }
            a.bits = bits; b.bits = bits
            a.umin = max(a.umin, b.umin); a.umax = min(a.umax, b.umax)
            a.smin = max(a.smin, b.smin); a.smax = min(a.smax, b.smax)
            b.umin = a.umin; b.umax = a.umax; b.smin = a.smin; b.smax = a.smax
            return a.umin <= a.umax && a.smin <= a.smax
        }
        guard let low = a.bits.low32.intersection(b.bits.low32) else { return false }
        a.bits = Tnum(value: (a.bits.value & ~0xffff_ffff) | low.value, mask: (a.bits.mask & ~0xffff_ffff) | low.mask)
        b.bits = Tnum(value: (b.bits.value & ~0xffff_ffff) | low.value, mask: (b.bits.mask & ~0xffff_ffff) | low.mask)
        a.u32min = max(a.u32min, b.u32min); a.u32max = min(a.u32max, b.u32max)
        a.s32min = max(a.s32min, b.s32min); a.s32max = min(a.s32max, b.s32max)
        b.u32min = a.u32min; b.u32max = a.u32max; b.s32min = a.s32min; b.s32max = a.s32max
        return a.u32min <= a.u32max && a.s32min <= a.s32max
    }

    private static func notEqual(_ a: inout Scalar, _ b: inout Scalar, _ width: Width) -> Bool {
        let x = width == .bits64 ? a.constantValue : (a.bits.low32.isConstant ? a.bits.value & 0xffff_ffff : nil)
        let y = width == .bits64 ? b.constantValue : (b.bits.low32.isConstant ? b.bits.value & 0xffff_ffff : nil)
        if let x, let y { return x != y }
        // A range that ends at the excluded constant shrinks by one, in each domain.
        func exclude<T: FixedWidthInteger>(_ low: inout T, _ high: inout T, _ value: T) {
            guard low < high else { return }
            if low == value { low += 1 } else if high == value { high -= 1 }
        }
        func excludeFrom(_ s: inout Scalar, _ value: UInt64) {
            if width == .bits64 {
                exclude(&s.umin, &s.umax, value)
                exclude(&s.smin, &s.smax, Int64(bitPattern: value))
            } else {
                exclude(&s.u32min, &s.u32max, UInt32(truncatingIfNeeded: value))
                exclude(&s.s32min, &s.s32max, Int32(bitPattern: UInt32(truncatingIfNeeded: value)))
            }
        }
        if let y { excludeFrom(&a, y) }
        if let x { excludeFrom(&b, x) }
        return true
    }

    private static func testBits(_ a: inout Scalar, _ b: Scalar, _ width: Width, holds: Bool) -> Bool {
        var common = a.bits & b.bits
        if width == .bits32 { common = common.low32 }
        if holds { return common.maximum != 0 }
        if common.minimum != 0 { return false }
        if let mask = b.constantValue {
            let cleared = width == .bits64 ? mask : mask & 0xffff_ffff
            a.bits = Tnum(value: a.bits.value & ~cleared, mask: a.bits.mask & ~cleared)
        }
        return true
    }
}
