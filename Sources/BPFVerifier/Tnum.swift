/// A tracked number ("tnum"): bits where `mask` is 0 are known to equal `value`'s, bits
/// where it is 1 are unknown. The kernel's domain for bitwise facts.
struct Tnum: Hashable, Sendable {
    var value: UInt64
    var mask: UInt64

    static let unknown = Tnum(value: 0, mask: .max)
    static func constant(_ value: UInt64) -> Tnum { Tnum(value: value, mask: 0) }

    var isConstant: Bool { mask == 0 }
    var minimum: UInt64 { value }
    var maximum: UInt64 { value | mask }

    /// The smallest tnum holding every number of [low, high].
    static func range(_ low: UInt64, _ high: UInt64) -> Tnum {
        let changing = low ^ high
        let bits = changing == 0 ? 0 : 64 - changing.leadingZeroBitCount
        if bits > 63 { return .unknown }
        let delta = (UInt64(1) << bits) &- 1
        return Tnum(value: low & ~delta, mask: delta)
    }

    /// The low `bits` (16, 32 or 64) with their bytes reversed, the rest zero: known bits
    /// stay known, moved with their byte.
    func byteSwapped(bits: Int) -> Tnum {
        func swap(_ x: UInt64) -> UInt64 {
            switch bits {
            case 16: UInt64(UInt16(truncatingIfNeeded: x).byteSwapped)
            case 32: UInt64(UInt32(truncatingIfNeeded: x).byteSwapped)
            default: x.byteSwapped
            }
        }
        return Tnum(value: swap(value), mask: swap(mask))
    }

    static func + (a: Tnum, b: Tnum) -> Tnum {
        let sm = a.mask &+ b.mask
        let sv = a.value &+ b.value
        let sigma = sm &+ sv
        let chi = sigma ^ sv
        let mu = chi | a.mask | b.mask
        return Tnum(value: sv & ~mu, mask: mu)
    }

    static func - (a: Tnum, b: Tnum) -> Tnum {
        let dv = a.value &- b.value
        let alpha = dv &+ a.mask
        let beta = dv &- b.mask
        let chi = alpha ^ beta
        let mu = chi | a.mask | b.mask
        return Tnum(value: dv & ~mu, mask: mu)
    }

    static func & (a: Tnum, b: Tnum) -> Tnum {
        let alpha = a.value | a.mask
        let beta = b.value | b.mask
        let v = a.value & b.value
        return Tnum(value: v, mask: alpha & beta & ~v)
    }

    static func | (a: Tnum, b: Tnum) -> Tnum {
        let v = a.value | b.value
        let mu = a.mask | b.mask
        return Tnum(value: v, mask: mu & ~v)
    }

    static func ^ (a: Tnum, b: Tnum) -> Tnum {
        let v = a.value ^ b.value
        let mu = a.mask | b.mask
        return Tnum(value: v & ~mu, mask: mu)
    }

    /// Multiplication as a sum of shifted partial products.
    static func * (a: Tnum, b: Tnum) -> Tnum {
        var a = a, b = b
        let accV = a.value &* b.value
        var accM = Tnum.constant(0)
        while a.value != 0 || a.mask != 0 {
            if a.value & 1 != 0 {
                accM = accM + Tnum(value: 0, mask: b.mask)
            } else if a.mask & 1 != 0 {
                accM = accM + Tnum(value: 0, mask: b.value | b.mask)
            }
            a = a.shiftedRight(1)
            b = b.shiftedLeft(1)
        }
        return Tnum.constant(accV) + accM
    }

    func shiftedLeft(_ n: UInt64) -> Tnum { Tnum(value: value << n, mask: mask << n) }
    func shiftedRight(_ n: UInt64) -> Tnum { Tnum(value: value >> n, mask: mask >> n) }
    func arithmeticShiftedRight(_ n: UInt64, bits: Int) -> Tnum {
        if bits == 32 {
            let v = UInt64(UInt32(bitPattern: Int32(bitPattern: UInt32(truncatingIfNeeded: value)) >> Int32(n)))
            let m = UInt64(UInt32(bitPattern: Int32(bitPattern: UInt32(truncatingIfNeeded: mask)) >> Int32(n)))
            return Tnum(value: v, mask: m)
        }
        return Tnum(value: UInt64(bitPattern: Int64(bitPattern: value) >> Int64(n)),
                    mask: UInt64(bitPattern: Int64(bitPattern: mask) >> Int64(n)))
    }

    /// The low 32 bits, zero-extended.
    var low32: Tnum { Tnum(value: value & 0xffff_ffff, mask: mask & 0xffff_ffff) }

    /// Bits known in either; nil when they contradict.
    func intersection(_ other: Tnum) -> Tnum? {
        let known = ~mask & ~other.mask
        if (value ^ other.value) & known != 0 { return nil }
        let v = value | other.value
        let mu = mask & other.mask
        return Tnum(value: v & ~mu, mask: mu)
    }

    /// Whether every number `other` may hold, this may hold too.
    func contains(_ other: Tnum) -> Bool {
        if other.mask & ~mask != 0 { return false }
        return value == other.value & ~mask
    }
}
