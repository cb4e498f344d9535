/// What is known on a path: a test (by number; a node, by number, when threading as libpcap
/// does) and its outcome.
struct Fact: Hashable, Sendable {
    var test: Int
    var outcome: Bool
}

/// The facts known on a path: a list through a `FactArena`, newest first, of which the
/// newest 64 count (which bounds the work per edge on long expressions). A lone fact about
/// its value moves to the front rather than leave them, a few per fact learned
/// (`Knowledge.makeRoom`), so on a long chain of one
/// value's tests (`udp port 1 or udp port 2 or ...`) the tests at its start (the EtherType,
/// the protocol, not a fragment) still decide their repeats at its end, as libpcap's
/// optimizer, which has no bound, decides them. Paths share their tails, so learning a fact
/// on an edge adds one cell instead of copying the path's facts.
struct FactList: Sendable, Equatable {
    static let limit = 64
    var head: Int32 = -1
    var count: Int32 = 0
}

/// The cells of every fact list of one threading pass.
struct FactArena: Sendable {
    private struct Cell {
        /// The test's number << 1 | its outcome.
        var word: UInt32
        var next: Int32
    }

    private var cells: [Cell] = []

    /// One entry of a list of possible constants: the constants `value` can be, members
    /// `start..<start + count` of `members`, or none known when `count` is -1.
    private struct PossibleCell {
        var value: Int32
        var start: Int32
        var count: Int32
        var next: Int32
    }

    private var possibleCells: [PossibleCell] = []
    private var members: [UInt32] = []

    /// How far the arena is filled: what a search adds after it can be dropped again.
    struct Mark {
        fileprivate var cells = 0, possibleCells = 0, members = 0
    }

    var mark: Mark { Mark(cells: cells.count, possibleCells: possibleCells.count, members: members.count) }

    /// Drops what was added since `mark`; lists made before it stay as they were.
    mutating func rewind(to mark: Mark) {
        cells.removeSubrange(mark.cells...)
        possibleCells.removeSubrange(mark.possibleCells...)
        members.removeSubrange(mark.members...)
    }

    init(capacity: Int) {
        // Every outcome learned adds a cell, and a pinned one a possible entry and a member:
        // room for those as for the cells, reserved when the first comes (most passes over a
        // graph without joins have none, and each array reserved costs an allocation).
        cells.reserveCapacity(capacity)
    }

    /// The constants `value` can be by the newest entry for it in `list`, if it has one.
    func possible(_ list: Int32, _ value: Int) -> Range<Int>? {
        var cell = list
        while cell >= 0 {
            let entry = possibleCells[Int(cell)]
            if Int(entry.value) == value { return entry.count < 0 ? nil : Int(entry.start)..<Int(entry.start + entry.count) }
            cell = entry.next
        }
        return nil
    }

    /// Whether `list` has an entry for `value`, known constants or not.
    func mentions(_ list: Int32, _ value: Int) -> Bool {
        var cell = list
        while cell >= 0 {
            if Int(possibleCells[Int(cell)].value) == value { return true }
            cell = possibleCells[Int(cell)].next
        }
        return false
    }

    func member(_ index: Int) -> UInt32 { members[index] }

    /// Where the next member added goes.
    var membersEnd: Int { members.count }

    mutating func addMember(_ k: UInt32) {
        if members.capacity == 0 { members.reserveCapacity(cells.capacity) }
        members.append(k)
    }

    /// Adds `k` unless a member from `start` on is `k` already (nil: whatever came before).
    mutating func addMember(_ k: UInt32, unlessFrom start: Int?) {
        if let start, members[start...].contains(k) { return }
        addMember(k)
    }

    /// Forgets the members from `start` on, added but not wanted.
    mutating func dropMembers(from start: Int) { members.removeSubrange(start...) }

    /// `list` with `value` able to be the members from `start` to the end, or (with nil) nothing known.
    mutating func setPossible(_ list: Int32, _ value: Int, membersFrom start: Int?) -> Int32 {
        let count = start.map { Int32(members.count - $0) } ?? -1
        if possibleCells.capacity == 0 { possibleCells.reserveCapacity(cells.capacity) }
        possibleCells.append(PossibleCell(value: Int32(truncatingIfNeeded: value), start: Int32(start ?? 0), count: count, next: list))
        return Int32(possibleCells.count - 1)
    }

    /// How many entries `list` has (a value may have several: the newest counts).
    func possibleEntries(_ list: Int32) -> Int {
        var count = 0
        var cell = list
        while cell >= 0 {
            count += 1
            cell = possibleCells[Int(cell)].next
        }
        return count
    }

    /// The values of `list`'s entries, newest first, into `values`; returns how many.
    func possibleValues(_ list: Int32, into values: UnsafeMutableBufferPointer<Int>) -> Int {
        var count = 0
        var cell = list
        while cell >= 0 {
            values[count] = Int(possibleCells[Int(cell)].value)
            count += 1
            cell = possibleCells[Int(cell)].next
        }
        return count
    }

    /// The facts of `list` that `other` holds too, oldest first as `list` had them.
    mutating func shared(_ list: FactList, _ other: FactList) -> FactList {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: Int(list.count)) { words in
            copy(list, into: words)
            var shared = FactList()
            for word in words where contains(other, Fact(word: word)) {
                shared = add(Fact(word: word), to: shared)
            }
            return shared
        }
    }

    // Inlined, as `Knowledge.learn`, `decide` and `pinned` are: they run in the threading
    // passes' innermost loops, where the calls cost 3.4 % of the mixes' compile instructions.
    @inline(__always)
    mutating func add(_ fact: Fact, to list: FactList) -> FactList {
        cells.append(Cell(word: UInt32(truncatingIfNeeded: fact.test) << 1 | (fact.outcome ? 1 : 0), next: list.head))
        return FactList(head: Int32(cells.count - 1), count: min(list.count + 1, Int32(FactList.limit)))
    }

    /// Calls `body` with the list's facts, oldest first, packed as in `Cell.word`.
    func withFacts<Result>(_ list: FactList, _ body: (UnsafeMutableBufferPointer<UInt32>) -> Result) -> Result {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: Int(list.count)) { words in
            copy(list, into: words)
            return body(words)
        }
    }

    /// The list's facts, oldest first, packed as in `Cell.word`, into `words` (room for `list.count`).
    private func copy(_ list: FactList, into words: UnsafeMutableBufferPointer<UInt32>) {
        var cell = list.head
        for i in stride(from: Int(list.count) - 1, through: 0, by: -1) {
            words[i] = cells[Int(cell)].word
            cell = cells[Int(cell)].next
        }
    }

    /// The fact in `cell` of some list, and the cell of the next older one.
    func fact(at cell: Int32) -> (fact: Fact, older: Int32) {
        (Fact(word: cells[Int(cell)].word), cells[Int(cell)].next)
    }

    /// The oldest fact `list` keeps: the next one added pushes it out of a full list.
    func oldest(_ list: FactList) -> Fact? {
        var cell = list.head
        for _ in 1..<max(1, Int(list.count)) { cell = cells[Int(cell)].next }
        return cell >= 0 ? Fact(word: cells[Int(cell)].word) : nil
    }

    /// Whether one of the newest `count` facts of `list` is about `value` of `tests`.
    func mentions(_ list: FactList, newest count: Int, _ value: Int, _ tests: [TestEntry]) -> Bool {
        var cell = list.head
        for _ in 0..<min(count, Int(list.count)) {
            if tests[Int(cells[Int(cell)].word >> 1)].value == value { return true }
            cell = cells[Int(cell)].next
        }
        return false
    }

    /// Whether `list` holds `fact`.
    func contains(_ list: FactList, _ fact: Fact) -> Bool {
        let word = UInt32(truncatingIfNeeded: fact.test) << 1 | (fact.outcome ? 1 : 0)
        var cell = list.head
        for _ in 0..<list.count {
            if cells[Int(cell)].word == word { return true }
            cell = cells[Int(cell)].next
        }
        return false
    }
}

extension Fact {
    init(word: UInt32) { self.init(test: Int(word >> 1), outcome: word & 1 != 0) }
}

