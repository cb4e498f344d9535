/// What every back end keeps for a `chainHead` block and the blocks it pays for: their
/// budget stubs, the slots copied for the exact path, the head's refund — and the exact path
/// itself as steps, so that each target only turns steps into instructions.
struct BudgetChain {
    /// Instruction counts, the head's first.
    let counts: [Int]
    /// Each block's budget stub.
    let budgetLabels: [Int]
    /// The exact path's entry, and where the head's taken branch goes.
    let exact: Int, refund: Int
    /// The slots of every block but the last, recorded while they are emitted.
    private(set) var copies: [[(Slot, Int)]] = [[]]
    private(set) var lastStart = 0
    private var isCopying = true

    init(counts: [Int], budgetLabels: [Int], exact: Int, refund: Int) {
        self.counts = counts
        self.budgetLabels = budgetLabels
        self.exact = exact
        self.refund = refund
    }

    /// What the head's taken branch gives back.
    var refundCount: Int { counts.dropFirst().reduce(0, +) }

    /// Where the head's branch goes when taken.
    var branchTarget: Int? { copies.first?.last.map { Int($0.0.target) } }

    /// A paid block of the chain begins at `pc`; returns its budget stub's label.
    mutating func beginPaidBlock(at pc: Int) -> Int {
        let member = copies.count
        if member < counts.count - 1 {
            copies.append([])
        } else {
            isCopying = false
            lastStart = pc
        }
        return budgetLabels[min(member, budgetLabels.count - 1)]
    }

    mutating func record(_ slot: Slot, at pc: Int) {
        if isCopying { copies[copies.count - 1].append((slot, pc)) }
    }

    enum Step {
        /// budget += amount (negative: -=).
        case adjust(Int)
        /// budget -= count; when it did not cover it, on to the budget stub.
        case charge(Int, budgetStub: Int)
        /// The copied slots; the head's branch goes to `taken` (nil: its own target).
        case copy([(Slot, Int)], taken: Int?)
        case jump(pc: Int)
    }

    /// The exact path, entered when the chain's charge fell short (budget = left - the
    /// chain's instructions): charges each block alone and stops at the first one the budget
    /// does not cover. Every block but the last runs as a copy, with the budget as in the fast
    /// path so that a fault inside counts the same; the last is the program's own code.
    var exactPath: [Step] {
        var steps: [Step] = []
        var rest = counts.reduce(0, +)
        for (index, count) in counts.enumerated() {
            steps.append(.adjust(rest))
            steps.append(.charge(count, budgetStub: budgetLabels[index]))
            rest -= count
            if rest > 0 { steps.append(.adjust(-rest)) }
            steps.append(index < copies.count ? .copy(copies[index], taken: index == 0 ? refund : nil) : .jump(pc: lastStart))
        }
        return steps
    }
}
