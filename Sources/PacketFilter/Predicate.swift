import ClassicBPF

/// A 32-bit value computed from the packet without side effects, so that equal values can
/// be reused and tests on them reasoned about. Loads outside the packet drop it, as in BPF.
/// Only the cases that hold other values are boxed: a constant or a load costs no allocation.
enum FilterValue: Hashable, Sendable {
    case constant(UInt32)
    /// `[k]`
    case load(LoadSize, UInt32)
    /// `[index + k]`
    indirect case loadIndexed(LoadSize, index: FilterValue, UInt32)
    /// `4*([k]&0xf)`, the IPv4 header length, which `ldxb` puts straight into X.
    case ipHeaderLength(UInt32)
    /// The packet's length on the wire.
    case length
    indirect case binary(ClassicArithmetic, FilterValue, FilterValue)
    indirect case negate(FilterValue)
    /// 1 when the IP header chain has a protocol, else 0 (`protochain`).
    case protocolChain(ProtocolChain)

    var constantValue: UInt32? {
        if case .constant(let k) = self { return k }
        return nil
    }

    /// How deeply binary operations nest: each level needs a scratch word.
    var depth: Int {
        switch self {
        case .binary(_, let left, let right): 1 + max(left.depth, right.depth)
        case .negate(let value), .loadIndexed(_, let value, _): value.depth
        default: 0
        }
    }
}

/// Two words mixed into one (a multiply-xorshift, as in splitmix64).
@inline(__always)
func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
    var z = a &* 0x9e37_79b9_7f4a_7c15 ^ b
    z = (z ^ z >> 30) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ z >> 27) &* 0x94d0_49bb_1331_11eb
    return z ^ z >> 31
}

/// One conditional jump: `value condition operand`.
struct FilterTest: Hashable, Sendable {
    var value: FilterValue
    var condition: ClassicCondition
    var operand: FilterValue

    /// The outcome when both sides are constants.
    var constantOutcome: Bool? {
        guard let a = value.constantValue, let b = operand.constantValue else { return nil }
        return FilterTest.evaluate(condition, a, b)
    }

    static func evaluate(_ condition: ClassicCondition, _ a: UInt32, _ b: UInt32) -> Bool {
        switch condition {
        case .eq: a == b
        case .gt: a > b
        case .ge: a >= b
        case .set: a & b != 0
        }
    }
}

/// A boolean combination of tests: what a filter expression means. Only the combinations
/// are boxed.
enum Predicate: Sendable {
    case always(Bool)
    case test(FilterTest)
    indirect case not(Predicate)
    indirect case and(Predicate, Predicate)
    indirect case or(Predicate, Predicate)

    static func && (lhs: Predicate, rhs: Predicate) -> Predicate { .and(lhs, rhs) }
    static func || (lhs: Predicate, rhs: Predicate) -> Predicate { .or(lhs, rhs) }
    static prefix func ! (p: Predicate) -> Predicate { .not(p) }

    /// `value == k`
    static func equal(_ value: FilterValue, _ k: UInt32) -> Predicate {
        .test(FilterTest(value: value, condition: .eq, operand: .constant(k)))
    }

    static func compare(_ value: FilterValue, _ condition: ClassicCondition, _ k: UInt32) -> Predicate {
        .test(FilterTest(value: value, condition: condition, operand: .constant(k)))
    }

    /// `value & mask == k`, without the `and` when the mask keeps every bit.
    /// A zero mask leaves no load, as libpcap's optimizer folds `and #0`.
    static func masked(_ value: FilterValue, _ mask: UInt32, _ k: UInt32) -> Predicate {
        if mask == 0 { return .always(k == 0) }
        return mask == .max ? equal(value, k) : equal(.binary(.and, value, .constant(mask)), k)
    }

    /// Any of the alternatives, tried in order.
    static func any(_ alternatives: [Predicate]) -> Predicate {
        guard var result = alternatives.last else { return .always(false) }
        for p in alternatives.dropLast().reversed() { result = .or(p, result) }
        return result
    }

    static func all(_ parts: [Predicate]) -> Predicate {
        guard var result = parts.last else { return .always(true) }
        for p in parts.dropLast().reversed() { result = .and(p, result) }
        return result
    }
}
