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
/// built from them: the predicate arena's values, shared and numbered once, for the
/// optimizer and the code emitter to compare cheaply.
struct ValueTable: Sendable {
    private(set) var entries: [ValueEntry] = []
    private(set) var chains: [ProtocolChain] = []
    private var index: FingerprintIndex
    /// Whether a `saved` value is used, which takes a scratch word.
    private(set) var usesSavedWord = false

    /// The lowest scratch word a `store` or `scratch` value names (16 for none): the words
    /// below it are free for arithmetic.
    private(set) var lowestKeptWord = UInt32(ClassicOpcode.scratchWords)

    init() { self.init(capacity: 32) }

    /// Room for `capacity` distinct values, so that numbering seldom grows the index (each
    /// growth puts every value back).
    init(capacity: Int) {
        index = FingerprintIndex(capacity: capacity)
        entries.reserveCapacity(capacity)
    }

    subscript(_ number: Int32) -> ValueEntry { entries[Int(number)] }

    /// The constant `number` is, if it is one.
    func constant(_ number: Int32) -> UInt32? {
        let entry = entries[Int(number)]
        return entry.kind == .constant ? entry.k : nil
    }

    /// The number of `arena`'s value `arenaValue`, adding it (and its operands) if it is new.
    mutating func number(_ arenaValue: Int32, of arena: PredicateArena) -> Int32 {
        let value = arena.values[Int(arenaValue)]
        let k = value.k
        switch value.kind {
        case .constant: return number(ValueEntry(kind: .constant, k: k))
        case .load: return number(ValueEntry(kind: .load, size: value.size, k: k))
        case .loadIndexed:
            return number(ValueEntry(kind: .loadIndexed, size: value.size, k: k, left: number(value.left, of: arena), usesX: true))
        case .ipHeaderLength: return number(ValueEntry(kind: .ipHeaderLength, k: k, usesX: true))
        case .indexConstant: return number(ValueEntry(kind: .indexConstant, k: k))
        case .length: return number(ValueEntry(kind: .length))
        case .binary:
            let (l, r) = (number(value.left, of: arena), number(value.right, of: arena))
            let usesX = self[l].usesX || self[r].usesX || self[r].kind != .constant
            return number(ValueEntry(kind: .binary, operation: value.operation, left: l, right: r, usesX: usesX))
        case .negate:
            let n = number(value.left, of: arena)
            return number(ValueEntry(kind: .negate, left: n, usesX: self[n].usesX))
        case .protocolChain:
            let chain = arena.chains[Int(k)]
            let at = chains.firstIndex(of: chain) ?? {
                chains.append(chain)
                return chains.count - 1
            }()
            return number(ValueEntry(kind: .protocolChain, k: UInt32(at), usesX: true))
        case .saved:
            let n = number(value.left, of: arena)
            usesSavedWord = true
            return number(ValueEntry(kind: .saved, left: n, usesX: self[n].usesX))
        case .after:
            let (l, r) = (number(value.left, of: arena), number(value.right, of: arena))
            return number(ValueEntry(kind: .after, left: l, right: r, usesX: self[l].usesX || self[r].usesX))
        case .scratch:
            lowestKeptWord = min(lowestKeptWord, k)
            return number(ValueEntry(kind: .scratch, k: k))
        case .store:
            let n = number(value.left, of: arena)
            lowestKeptWord = min(lowestKeptWord, k)
            return number(ValueEntry(kind: .store, k: k, left: n, usesX: self[n].usesX))
        }
    }

    private mutating func number(_ entry: ValueEntry) -> Int32 {
        let number = index.intern(entry.key, in: entries) { $0 == entry }
        if number == entries.count { entries.append(entry) }
        return Int32(number)
    }
}
