import ClassicBPF

/// One distinct value of a compiled expression, in flat form: its operands are the numbers
/// of other entries, so that comparing two values compares two integers.
struct ValueEntry: Equatable, Sendable {
    enum Kind: UInt8, Sendable {
        case constant, load, loadIndexed, ipHeaderLength, length, binary, negate, protocolChain, saved, after, indexConstant, scratch, store
    }

    var kind: Kind
    var size: LoadSize = .word
    var operation: ClassicArithmetic = .add
    /// The constant, the offset, the scratch word, or for `protocolChain` the chain's number in the table.
    var k: UInt32 = 0
    /// The index of an indexed load, the operand of a negation, the left side of a binary operation.
    var left: Int32 = -1
    var right: Int32 = -1
    /// Whether computing the value sets X.
    var usesX = false
    /// Whether it or an operand is a `saved` value, which takes a scratch word.
    var usesSavedWord = false
    /// The lowest scratch word it or an operand keeps (`store`) or reads (`scratch`); 16 for none.
    var lowestKeptWord = UInt8(ClassicOpcode.scratchWords)

    /// Fills in what computing the value needs, from its operands' entries: found once, as
    /// the value is added, rather than by walking its operands for each test of it.
    mutating func summarize(left: ValueEntry?, right: ValueEntry?) {
        // Each side named, not in an array literal: that would allocate per value.
        if let left { include(left) }
        if let right { include(right) }
        switch kind {
        case .loadIndexed, .ipHeaderLength, .protocolChain: usesX = true
        case .binary: usesX = usesX || right?.kind != .constant
        case .saved: usesSavedWord = true
        case .scratch, .store: lowestKeptWord = min(lowestKeptWord, UInt8(clamping: k))
        default: break
        }
    }

    private mutating func include(_ operand: ValueEntry) {
        usesX = usesX || operand.usesX
        usesSavedWord = usesSavedWord || operand.usesSavedWord
        lowestKeptWord = min(lowestKeptWord, operand.lowestKeptWord)
    }

    /// Four words mixed into one; equal entries have equal keys. Inlined: a call costs a
    /// third of the mixing, once for every value numbered.
    @inline(__always)
    var key: UInt64 {
        let tags = UInt64(kind.rawValue) | UInt64(operation.rawValue) << 8 | UInt64(size.hashCode) << 24
        return mix(tags ^ UInt64(k) << 32, UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right)))
    }
}

private extension LoadSize {
    var hashCode: UInt8 {
        switch self {
        case .word: 0
        case .half: 1
        case .byte: 2
        }
    }
}

/// The values of an expression, each stored once and numbered, operands before the values
/// built from them: the predicate arena's values, for the optimizer and the code emitter to
/// compare cheaply, and what the tests of a graph need of scratch words.
struct ValueTable: Sendable {
    let entries: [ValueEntry]
    let chains: [ProtocolChain]
    /// Whether a test reads a `saved` value, which takes a scratch word.
    private(set) var usesSavedWord = false

    /// The lowest scratch word a `store` or `scratch` value of a test names (16 for none):
    /// the words below it are free for arithmetic.
    private(set) var lowestKeptWord = UInt32(ClassicOpcode.scratchWords)

    /// `arena`'s values as the parse left them (a graph is built once it is over), none
    /// read by a test yet.
    init(_ arena: PredicateArena) {
        entries = arena.values
        chains = arena.chains
    }

    subscript(_ number: Int32) -> ValueEntry { entries[Int(number)] }

    /// The constant `number` is, if it is one.
    func constant(_ number: Int32) -> UInt32? {
        let entry = entries[Int(number)]
        return entry.kind == .constant ? entry.k : nil
    }

    /// Notes that a test reads value `number`: only the words of values tests read are
    /// taken, not those of values a backtracking parse left.
    mutating func noteRead(_ number: Int32) {
        let entry = entries[Int(number)]
        usesSavedWord = usesSavedWord || entry.usesSavedWord
        lowestKeptWord = min(lowestKeptWord, UInt32(entry.lowestKeptWord))
    }
}
