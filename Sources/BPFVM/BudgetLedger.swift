/// The budget bookkeeping every back end needs, target-independent: which label each block
/// charges to and falls back on, the chains (`BudgetChain`) and their refunds. A back end
/// turns what it returns into instructions.
struct BudgetLedger {
    enum Stub {
        /// The budget ran out at a block: entered with budget = left - count; restores it and
        /// stops the run with the block's pc.
        case budget(label: Int, blockStart: Int, count: Int)
        /// A chain's charge fell short: its exact path. Indirect, so that the common stubs
        /// stay small.
        indirect case exactChain(BudgetChain)
        /// A chain head's taken branch: gives back what the rest of the chain cost.
        case refund(label: Int, count: Int, target: Int)
    }

    private var stubs: [Stub] = []
    private var chain: BudgetChain?

    /// Room for `blocks` budget stubs.
    init(blocks: Int) { stubs.reserveCapacity(blocks) }
    /// Where the current block's conditional branch goes instead of its target: a chain
    /// head's refund.
    private(set) var takenLabel: Int?

    /// How many fresh labels `begin` needs for a block charged so.
    static func labelsNeeded(for charge: BlockCharge) -> Int {
        switch charge {
        case .own: 1
        case .chainHead(let following): following.count + 3
        case .paid: 0
        }
    }

    /// A block begins at `pc`, with `labelsNeeded` fresh labels from `firstLabel` on. Returns
    /// what it charges and where to go when the budget does not cover that; nil when its
    /// chain's head paid for it.
    mutating func begin(at pc: Int, count: Int, charge: BlockCharge, firstLabel: Int) -> (amount: Int, short: Int)? {
        takenLabel = nil
        switch charge {
        case .own:
            closeChain()
            stubs.append(.budget(label: firstLabel, blockStart: pc, count: count))
            return (count, firstLabel)
        case .chainHead(let following):
            closeChain()
            let counts = [count] + following
            let head = BudgetChain(counts: counts, budgetLabels: Array(firstLabel..<(firstLabel + counts.count)),
                                   exact: firstLabel + counts.count, refund: firstLabel + counts.count + 1)
            chain = head
            stubs.append(.budget(label: firstLabel, blockStart: pc, count: count))
            takenLabel = head.refund
            return (counts.reduce(0, +), head.exact)
        case .paid:
            if let label = chain?.beginPaidBlock(at: pc) { stubs.append(.budget(label: label, blockStart: pc, count: count)) }
            return nil
        }
    }

    mutating func record(_ slot: Slot, at pc: Int) { chain?.record(slot, at: pc) }

    /// Every stub to emit, once the last block is in.
    mutating func finish() -> [Stub] {
        closeChain()
        takenLabel = nil
        return stubs
    }

    private mutating func closeChain() {
        guard let finished = chain, let target = finished.branchTarget else { return }
        stubs.append(.exactChain(finished))
        stubs.append(.refund(label: finished.refund, count: finished.refundCount, target: target))
        chain = nil
    }
}
