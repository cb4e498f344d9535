/// What is known about a number: its bits (a tnum) and its signed and unsigned ranges on
/// 64 and on the low 32 bits. Every operation over-approximates, and `synchronized()` lets
/// each fact tighten the others, as the kernel's reg_bounds_sync does.
struct Scalar: Hashable, Sendable {
    var bits: Tnum
    var umin: UInt64, umax: UInt64
    var smin: Int64, smax: Int64
    var u32min: UInt32, u32max: UInt32
    var s32min: Int32, s32max: Int32
    /// Shared by copies of one unknown number (`r2 = r1`, a spill), so that what a branch
    /// learns of one it learns of all, as the kernel's scalar ids; 0 for none.
    var id = 0

    static let unknown = Scalar(
        bits: .unknown, umin: 0, umax: .max, smin: .min, smax: .max,
        u32min: 0, u32max: .max, s32min: .min, s32max: .max)

    static func constant(_ value: UInt64) -> Scalar {
        let low = UInt32(truncatingIfNeeded: value)
        return Scalar(bits: .constant(value), umin: value, umax: value,
                      smin: Int64(bitPattern: value), smax: Int64(bitPattern: value),
                      u32min: low, u32max: low, s32min: Int32(bitPattern: low), s32max: Int32(bitPattern: low))
    }

    /// A number known only to lie in [low, high] unsigned.
    static func unsigned(_ low: UInt64, _ high: UInt64) -> Scalar {
        var s = Scalar.unknown
        s.umin = low
        s.umax = high
        return s.synchronized() ?? .unknown
    }

    /// From 64-bit facts only (the 32-bit ones recomputed).
    static func from(bits: Tnum) -> Scalar {
        var s = Scalar.unknown
        s.bits = bits
        return s.synchronized() ?? .unknown
    }

    var constantValue: UInt64? { bits.isConstant ? bits.value : nil }
    var isConstant: Bool { bits.isConstant }

    /// The low 32 bits zero-extended to 64: what a 32-bit operation leaves.
    var zeroExtended32: Scalar {
        var s = Scalar.unknown
        s.bits = bits.low32
        s.u32min = u32min
        s.u32max = u32max
        s.s32min = s32min
        s.s32max = s32max
        s.umin = UInt64(u32min)
        s.umax = UInt64(u32max)
        s.smin = Int64(u32min)
        s.smax = Int64(u32max)
        return s.synchronized() ?? .unknown
    }

    /// Tightens every fact by the others; nil when they contradict (an impossible path).
    func synchronized() -> Scalar? {
        var s = self
        for _ in 0..<3 {
            // 64-bit: bits <-> unsigned.
            s.umin = max(s.umin, s.bits.minimum)
            s.umax = min(s.umax, s.bits.maximum)
            guard s.umin <= s.umax, s.smin <= s.smax else { return nil }
            // signed <-> unsigned when the range does not cross the sign boundary.
            if Int64(bitPattern: s.umin) <= Int64(bitPattern: s.umax) {
                s.smin = max(s.smin, Int64(bitPattern: s.umin))
                s.smax = min(s.smax, Int64(bitPattern: s.umax))
            }
            if s.smin >= 0 || s.smax < 0 {
                s.umin = max(s.umin, UInt64(bitPattern: s.smin))
                s.umax = min(s.umax, UInt64(bitPattern: s.smax))
            }
            guard s.umin <= s.umax, s.smin <= s.smax else { return nil }
            guard let narrowed = s.bits.intersection(Tnum.range(s.umin, s.umax)) else { return nil }
            s.bits = narrowed
            // 32-bit: from the 64-bit facts.
            let low = s.bits.low32
            s.u32min = max(s.u32min, UInt32(truncatingIfNeeded: low.minimum))
            s.u32max = min(s.u32max, UInt32(truncatingIfNeeded: low.maximum))
            if s.umin >> 32 == s.umax >> 32 {
                s.u32min = max(s.u32min, UInt32(truncatingIfNeeded: s.umin))
                s.u32max = min(s.u32max, UInt32(truncatingIfNeeded: s.umax))
            }
            if s.smin >> 32 == s.smax >> 32 && Int32(truncatingIfNeeded: s.smin) <= Int32(truncatingIfNeeded: s.smax) {
                s.s32min = max(s.s32min, Int32(truncatingIfNeeded: s.smin))
                s.s32max = min(s.s32max, Int32(truncatingIfNeeded: s.smax))
            }
            guard s.u32min <= s.u32max, s.s32min <= s.s32max else { return nil }
            if Int32(bitPattern: s.u32min) <= Int32(bitPattern: s.u32max) {
                s.s32min = max(s.s32min, Int32(bitPattern: s.u32min))
                s.s32max = min(s.s32max, Int32(bitPattern: s.u32max))
            }
            if s.s32min >= 0 || s.s32max < 0 {
                s.u32min = max(s.u32min, UInt32(bitPattern: s.s32min))
                s.u32max = min(s.u32max, UInt32(bitPattern: s.s32max))
            }
            guard s.u32min <= s.u32max, s.s32min <= s.s32max else { return nil }
            // 32-bit -> bits and, when the upper half is known, -> 64-bit.
            let lowRange = Tnum.range(UInt64(s.u32min), UInt64(s.u32max))
            guard let withLow = s.bits.intersection(Tnum(value: lowRange.value, mask: lowRange.mask | ~0xffff_ffff))
            else { return nil }
            s.bits = withLow
            if s.umin >> 32 == s.umax >> 32 {
                let high = s.umin & ~0xffff_ffff
                s.umin = max(s.umin, high | UInt64(s.u32min))
                s.umax = min(s.umax, high | UInt64(s.u32max))
            }
            guard s.umin <= s.umax else { return nil }
        }
        return s
    }

    /// The same facts, whatever the ids.
    func hasSameFacts(as other: Scalar) -> Bool {
        var a = self, b = other
        a.id = 0
        b.id = 0
        return a == b
    }

    /// Whether every number `other` may be, this may be too.
    func contains(_ other: Scalar) -> Bool {
        umin <= other.umin && other.umax <= umax && smin <= other.smin && other.smax <= smax
            && u32min <= other.u32min && other.u32max <= u32max
            && s32min <= other.s32min && other.s32max <= s32max && bits.contains(other.bits)
    }

    var description: String {
        if let value = constantValue { return "\(Int64(bitPattern: value))" }
        var parts: [String] = []
        if smin != .min || smax != .max { parts.append("smin=\(smin),smax=\(smax)") }
        if umin != 0 || umax != .max { parts.append("umin=\(umin),umax=\(umax)") }
        if !(bits.value == 0 && bits.mask == .max) && (bits.mask != .max) {
            parts.append("var_off=(0x\(String(bits.value, radix: 16)); 0x\(String(bits.mask, radix: 16)))")
        }
        return parts.isEmpty ? "unknown" : parts.joined(separator: ",")
    }
}
