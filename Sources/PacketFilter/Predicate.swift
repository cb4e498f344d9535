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
    /// A constant index of indexed loads, put into X rather than added to their offsets, so
    /// that they are the same code as past an `ipHeaderLength` (IPv6's 40 bytes for IPv4's).
    case indexConstant(UInt32)
    /// The packet's length on the wire.
    case length
    indirect case binary(ClassicArithmetic, FilterValue, FilterValue)
    indirect case negate(FilterValue)
    /// 1 when the IP header chain has a protocol, else 0 (`protochain`).
    case protocolChain(ProtocolChain)

    /// A value the program keeps in `savedScratch` once a path has computed it, so that
    /// the loads past it cost an `ldx` and the code reading past it is the same text
    /// whichever value it is (the length of the first VLAN tag in a live frame, or 0 where
    /// the first `vlan` was not evaluated), so laid out once.
    indirect case saved(FilterValue)
    /// What scratch word `k` holds: written by a `store` (past `geneve`, the inner frame's
    /// offsets), else 0 (the program zeroes a word some path reads unwritten).
    case scratch(UInt32)
    /// A value already in the expression's `PredicateArena`, by its number there, and how
    /// deeply it nests: added once rather than walked again where it is read.
    /// Not boxed: two 32-bit numbers fit in the room of `protocolChain`'s payload, and every
    /// indexed load names one (a box would be allocated and freed for each).
    case numbered(Int32, depth: Int32)

    /// The scratch word holding a `saved` value: the last, as the others fill from 0.
    static let savedScratch = UInt32(ClassicOpcode.scratchWords - 1)

    var constantValue: UInt32? {
        if case .constant(let k) = self { return k }
        return nil
    }

    /// How deeply binary operations nest: each level needs a scratch word.
    var depth: Int {
        switch self {
        case .binary(_, let left, let right): 1 + max(left.depth, right.depth)
        case .negate(let value), .loadIndexed(_, let value, _), .saved(let value): value.depth
        case .numbered(_, let depth): Int(depth)
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

    static func evaluate(_ condition: ClassicCondition, _ a: UInt32, _ b: UInt32) -> Bool {
        switch condition {
        case .eq: a == b
        case .gt: a > b
        case .ge: a >= b
        case .set: a & b != 0
        }
    }
}

/// A boolean combination of tests: what a filter expression means, as the number of its
/// top part in the expression's `PredicateArena`.
struct Predicate: Sendable {
    var index: Int32
}

/// One part of a predicate: a verdict, a test, or a combination of other parts. Plain
/// data, so that the arena is freed without visiting its parts.
enum PredicatePart: Sendable {
    case always(Bool)
    /// The value and operand are the numbers of entries in the arena's `values`.
    case test(value: Int32, ClassicCondition, operand: Int32)
    case not(Predicate)
    case and(Predicate, Predicate)
    case or(Predicate, Predicate)
    /// If the first holds, the second, else the third: the first is evaluated once.
    case choose(Predicate, Predicate, Predicate)
}

/// The parts of one expression's predicates in one array, a combination naming its parts
/// by number: combining allocates no box per part, and one array is freed at the end.
/// Parts left by a parse that backtracked are never reached, so they do no harm.
final class PredicateArena {
    // Unchecked, as every stored property here: only the parse of one expression uses an
    // arena, never two accesses at once, and the runtime's checks cost as much as the appends.
    @exclusivity(unchecked) private(set) var parts: [PredicatePart] = []
    /// The tests' values in flat form, operands first, each distinct value once (hash-consed
    /// as it is added): the graph builder and the code emitter use these numbers as they are.
    /// Values a parse that backtracked left behind are here too, read by no test.
    @exclusivity(unchecked) private(set) var values: [ValueEntry] = []
    /// Finds the number of a value added before.
    @exclusivity(unchecked) private var valueIndex = FingerprintIndex(capacity: 32)
    /// The chains of `protocolChain` values, by their `k`.
    @exclusivity(unchecked) private(set) var chains: [ProtocolChain] = []
    /// The expression's first `vlan`, whose tag a live Linux socket may have taken out of
    /// the frame (see `SocketFilter`).
    @exclusivity(unchecked) var firstVLAN: VLANPrimitive?
    /// How many `geneve`s the expression has; after the first, what follows reads the
    /// inner frame through scratch words (see `PredicateBuilder.geneve`).
    @exclusivity(unchecked) var genevesWritten = 0 {
        // A `geneve` adds some 70 values: room for them made at once, as the index growing
        // on the way puts every value back. Other expressions keep the smaller index.
        didSet {
            guard oldValue == 0 else { return }
            valueIndex.reserve(capacity: 128)
            values.reserveCapacity(128)
        }
    }
    /// Whether a `port` or `portrange` has no protocol, and whether some primitive tests the
    /// IP protocol: with both, laying the ports out per protocol may give a shorter program.
    @exclusivity(unchecked) var hasPortWithoutProtocol = false
    @exclusivity(unchecked) var testsIPProtocol = false
    var portLayoutMayMatter: Bool { hasPortWithoutProtocol && testsIPProtocol && genevesWritten == 0 }
    /// Whether a primitive was laid out otherwise than libpcap lays it out (`FilterLayout`):
    /// then libpcap's refusals are looked for in a parse of its own layout.
    @exclusivity(unchecked) var laidOutUnlikeLibpcap = false

    /// Whether two primitives or relations were written alike (see `decidingRepeats`).
    @exclusivity(unchecked) var repeatsLeaf = false

    /// Whether something follows a `geneve`.
    @exclusivity(unchecked) var followsGeneve = false

    init() {
        // Room for a typical expression, so the parts are not copied as they come.
        parts.reserveCapacity(64)
        values.reserveCapacity(64)
    }

    /// The parts that are the comparison of a relation (`ether[12:2] = 0x800`), in order.
    @exclusivity(unchecked) private(set) var relations: [Int32] = []

    /// A test; `relation` for the comparison of `expr relop expr`.
    func test(_ test: FilterTest, relation: Bool = false) -> Predicate {
        let value = addValue(test.value)
        let part = add(.test(value: value, test.condition, operand: addValue(test.operand)))
        if relation { relations.append(part.index) }
        return part
    }

    /// Whether `part` is the comparison of a relation. libpcap computes a relation's operands
    /// through scratch memory, so its optimizer gives the comparison values of its own: it
    /// decides a relation's test from another relation's, never from a primitive's (`tcp and
    /// ip[9] = 17` compiles), nor a primitive's from a relation's.
    func isRelation(_ part: Int32) -> Bool {
        // Appended in order: a binary search.
        var (low, high) = (0, relations.count)
        while low < high {
            let middle = (low + high) / 2
            if relations[middle] < part { low = middle + 1 } else { high = middle }
        }
        return low < relations.count && relations[low] == part
    }

    /// `value` added to `values`, its operands before it; its number there.
    func addValue(_ value: FilterValue) -> Int32 {
        let entry: ValueEntry
        switch value {
        case .numbered(let number, _): return number
        case .constant(let k): entry = ValueEntry(kind: .constant, k: k)
        case .load(let size, let k): entry = ValueEntry(kind: .load, size: size, k: k)
        case .loadIndexed(let size, let index, let k): entry = ValueEntry(kind: .loadIndexed, size: size, k: k, left: addValue(index))
        case .ipHeaderLength(let k): entry = ValueEntry(kind: .ipHeaderLength, k: k)
        case .indexConstant(let k): entry = ValueEntry(kind: .indexConstant, k: k)
        case .length: entry = ValueEntry(kind: .length)
        case .binary(let operation, let left, let right):
            let l = addValue(left)
            entry = ValueEntry(kind: .binary, operation: operation, left: l, right: addValue(right))
        case .negate(let inner): entry = ValueEntry(kind: .negate, left: addValue(inner))
        case .protocolChain(let chain):
            let at = chains.firstIndex(of: chain) ?? {
                chains.append(chain)
                return chains.count - 1
            }()
            entry = ValueEntry(kind: .protocolChain, k: UInt32(at))
        case .saved(let inner): entry = ValueEntry(kind: .saved, left: addValue(inner))
        case .scratch(let k): entry = ValueEntry(kind: .scratch, k: k)
        }
        return intern(entry)
    }

    /// The number of the value equal to `entry`, added (with what it needs of its operands'
    /// code) if there is none.
    private func intern(_ entry: ValueEntry) -> Int32 {
        var entry = entry
        entry.summarize(left: entry.left < 0 ? nil : values[Int(entry.left)], right: entry.right < 0 ? nil : values[Int(entry.right)])
        let number = valueIndex.intern(entry.key, count: values.count) { values[$0] == entry }
        if number == values.count { values.append(entry) }
        return Int32(truncatingIfNeeded: number)
    }

    /// `[index + k]` added now and named by its number: a `.loadIndexed` value is boxed, an
    /// allocation for each port test.
    func loadIndexed(_ size: LoadSize, index: FilterValue, _ k: UInt32) -> FilterValue {
        let number = intern(ValueEntry(kind: .loadIndexed, size: size, k: k, left: addValue(index)))
        return .numbered(number, depth: Int32(clamping: index.depth))
    }

    /// `left operation right` added now and named by its number: a `.binary` value is boxed.
    func binary(_ operation: ClassicArithmetic, _ left: FilterValue, _ right: FilterValue) -> FilterValue {
        let l = addValue(left)
        let number = intern(ValueEntry(kind: .binary, operation: operation, left: l, right: addValue(right)))
        return .numbered(number, depth: Int32(clamping: 1 + max(left.depth, right.depth)))
    }

    /// `value` kept in scratch word `word` as a side effect, added now and named by its
    /// number: only a test the decision graph keeps whatever its exits (see
    /// `DecisionGraph.node`) evaluates one.
    func store(_ word: UInt32, _ value: FilterValue) -> FilterValue {
        let number = intern(ValueEntry(kind: .store, k: word, left: addValue(value)))
        return .numbered(number, depth: Int32(clamping: value.depth))
    }

    /// `value` computed once `first` (a `store`, kept for what follows) is, added now and
    /// named by its number.
    func after(_ first: FilterValue, _ value: FilterValue) -> FilterValue {
        let l = addValue(first)
        let number = intern(ValueEntry(kind: .after, left: l, right: addValue(value)))
        return .numbered(number, depth: Int32(clamping: max(first.depth, value.depth)))
    }

    func add(_ part: PredicatePart) -> Predicate {
        parts.append(part)
        return Predicate(index: Int32(truncatingIfNeeded: parts.count - 1))
    }

    func always(_ value: Bool) -> Predicate { add(.always(value)) }
    func and(_ a: Predicate, _ b: Predicate) -> Predicate { add(.and(a, b)) }
    func or(_ a: Predicate, _ b: Predicate) -> Predicate { add(.or(a, b)) }
    func not(_ p: Predicate) -> Predicate { add(.not(p)) }
    func choose(_ condition: Predicate, _ whenTrue: Predicate, _ whenFalse: Predicate) -> Predicate {
        add(.choose(condition, whenTrue, whenFalse))
    }

    /// `value == k`
    func equal(_ value: FilterValue, _ k: UInt32) -> Predicate {
        test(FilterTest(value: value, condition: .eq, operand: .constant(k)))
    }

    func compare(_ value: FilterValue, _ condition: ClassicCondition, _ k: UInt32) -> Predicate {
        test(FilterTest(value: value, condition: condition, operand: .constant(k)))
    }

    /// `value & mask == k`, without the `and` when the mask keeps every bit.
    /// A zero mask leaves no load, as libpcap's optimizer folds `and #0`.
    func masked(_ value: FilterValue, _ mask: UInt32, _ k: UInt32) -> Predicate {
        if mask == 0 { return always(k == 0) }
        return mask == .max ? equal(value, k) : equal(binary(.and, value, .constant(mask)), k)
    }

    /// Any of the alternatives, tried in order: `a or (b or c)`.
    func any(_ alternatives: [Predicate]) -> Predicate {
        guard var result = alternatives.last else { return always(false) }
        for p in alternatives.dropLast().reversed() { result = or(p, result) }
        return result
    }

    /// All of the parts, in order: `a and (b and c)`.
    func all(_ parts: [Predicate]) -> Predicate {
        guard var result = parts.last else { return always(true) }
        for p in parts.dropLast().reversed() { result = and(p, result) }
        return result
    }
}

/// What the parser hands the graph builder: a predicate and the arena holding its parts.
struct PredicateTree {
    var arena: PredicateArena
    var root: Predicate
}
