import BPFInstructions

/// Arithmetic on what is known about numbers: exact when both operands are constants
/// (computed as the interpreter computes them), otherwise an over-approximation.
extension Scalar {
    static func apply(_ operation: ArithmeticOperation, _ width: Width, _ a: Scalar, _ b: Scalar) -> Scalar {
        // The kernel tracks no facts through division and modulo, not even of constants; a
        // verifier that knew more would accept paths the kernel's rules refuse.
        // Shifts likewise only by a constant below the width (the amount's whole 64 bits).
        let unknown: Scalar = width == .bits64 ? .unknown : .unsigned(0, 0xffff_ffff)
        switch operation {
        case .div, .sdiv, .mod, .smod: return unknown
        case .lsh, .rsh, .arsh:
            let bits: UInt64 = width == .bits64 ? 64 : 32
            guard b.bits.low32.isConstant, b.umax < bits else { return unknown }
        default: break
        }
        if let x = a.constantValue, let y = b.constantValue {
            return .constant(evaluate(operation, width, x, y))
        }
        if width == .bits64 { return apply64(operation, a, b) }
        if operation == .arsh { return arithmeticShift32(a, b) }
        if operation == .lsh || operation == .rsh {
            // 32-bit shifts take their amount modulo 32.
            guard let k = b.bits.low32.isConstant ? b.bits.value & 31 : nil else { return .unsigned(0, 0xffff_ffff) }
            return apply64(operation, a.zeroExtended32, .constant(k)).truncated32
        }
        return apply64(operation, a.zeroExtended32, b.zeroExtended32).truncated32
    }

    /// The low 32 bits as a zero-extended number.
    var truncated32: Scalar {
        if umax <= 0xffff_ffff { return self }
        return Scalar.from(bits: bits.low32)
    }

    private static func apply64(_ operation: ArithmeticOperation, _ a: Scalar, _ b: Scalar) -> Scalar {
        var r = Scalar.unknown
        switch operation {
        case .mov:
            return b
        case .add:
            r.bits = a.bits + b.bits
            let (high, overflow) = a.umax.addingReportingOverflow(b.umax)
            if !overflow { r.umin = a.umin + b.umin; r.umax = high }
            let (smin, o1) = a.smin.addingReportingOverflow(b.smin)
            let (smax, o2) = a.smax.addingReportingOverflow(b.smax)
            if !o1 && !o2 { r.smin = smin; r.smax = smax }
        case .sub:
            r.bits = a.bits - b.bits
            if a.umin >= b.umax { r.umin = a.umin - b.umax; r.umax = a.umax - b.umin }
            let (smin, o1) = a.smin.subtractingReportingOverflow(b.smax)
            let (smax, o2) = a.smax.subtractingReportingOverflow(b.smin)
            if !o1 && !o2 { r.smin = smin; r.smax = smax }
        case .mul:
            r.bits = a.bits * b.bits
            if a.umax <= 0xffff_ffff && b.umax <= 0xffff_ffff { r.umin = a.umin * b.umin; r.umax = a.umax * b.umax }
        case .and:
            r.bits = a.bits & b.bits
            r.umax = min(a.umax, b.umax)
        case .or:
            r.bits = a.bits | b.bits
            r.umin = max(a.umin, b.umin)
        case .xor:
            r.bits = a.bits ^ b.bits
        case .lsh:
            guard let k = b.constantValue.map({ $0 & 63 }) else { return .unknown }
            r.bits = a.bits.shiftedLeft(k)
            if k == 0 || a.umax >> (64 - k) == 0 { r.umin = a.umin << k; r.umax = a.umax << k }
        case .rsh:
            guard let k = b.constantValue.map({ $0 & 63 }) else { return .unknown }
            r.bits = a.bits.shiftedRight(k)
            r.umin = a.umin >> k
            r.umax = a.umax >> k
        case .arsh:
            guard let k = b.constantValue.map({ $0 & 63 }) else { return .unknown }
            r.bits = a.bits.arithmeticShiftedRight(k, bits: 64)
            r.smin = a.smin >> Int64(k)
            r.smax = a.smax >> Int64(k)
        case .div, .mod, .sdiv, .smod:
            return .unknown
        }
        return r.synchronized() ?? .unknown
    }

    private static func arithmeticShift32(_ a: Scalar, _ b: Scalar) -> Scalar {
        guard let k = b.constantValue.map({ $0 & 31 }) else { return .unknown }
        var r = Scalar.unknown
        r.bits = a.bits.low32.arithmeticShiftedRight(k, bits: 32)
        r.s32min = a.s32min >> Int32(k)
        r.s32max = a.s32max >> Int32(k)
        r.umax = 0xffff_ffff
        r.smin = 0
        r.smax = 0xffff_ffff
        return r.synchronized() ?? Scalar.unsigned(0, 0xffff_ffff)
    }

    /// One operation on known numbers, by RFC 9669's rules (as the interpreter runs it).
    static func evaluate(_ operation: ArithmeticOperation, _ width: Width, _ x: UInt64, _ y: UInt64) -> UInt64 {
        if width == .bits32 {
            let a = UInt32(truncatingIfNeeded: x), b = UInt32(truncatingIfNeeded: y)
            let r: UInt32 = switch operation {
            case .add: a &+ b
            case .sub: a &- b
            case .mul: a &* b
            case .div: b == 0 ? 0 : a / b
            case .sdiv: b == 0 ? 0 : UInt32(bitPattern: Int32(bitPattern: a).dividedReportingOverflow(by: Int32(bitPattern: b)).partialValue)
            case .or: a | b
            case .and: a & b
            case .lsh: a << (b & 31)
            case .rsh: a >> (b & 31)
            case .mod: b == 0 ? a : a % b
            case .smod: b == 0 ? a : UInt32(bitPattern: Int32(bitPattern: a).remainderReportingOverflow(dividingBy: Int32(bitPattern: b)).partialValue)
            case .xor: a ^ b
            case .mov: b
            case .arsh: UInt32(bitPattern: Int32(bitPattern: a) >> Int32(b & 31))
            }
            return UInt64(r)
        }
        return switch operation {
        case .add: x &+ y
        case .sub: x &- y
        case .mul: x &* y
        case .div: y == 0 ? 0 : x / y
        case .sdiv: y == 0 ? 0 : UInt64(bitPattern: Int64(bitPattern: x).dividedReportingOverflow(by: Int64(bitPattern: y)).partialValue)
        case .or: x | y
        case .and: x & y
        case .lsh: x << (y & 63)
        case .rsh: x >> (y & 63)
        case .mod: y == 0 ? x : x % y
        case .smod: y == 0 ? x : UInt64(bitPattern: Int64(bitPattern: x).remainderReportingOverflow(dividingBy: Int64(bitPattern: y)).partialValue)
        case .xor: x ^ y
        case .mov: y
        case .arsh: UInt64(bitPattern: Int64(bitPattern: x) >> Int64(y & 63))
        }
    }
}
