import ClassicBPF

/// `protochain N`: whether protocol N appears in the IP header chain, walking IPv6's
/// extension headers (hop-by-hop, routing, fragment, destination options) and AH.
///
/// libpcap compiles this to a loop, a backward jump that neither Linux nor its own
/// validator accepts. Here the walk is unrolled `depth` headers deep with forward jumps
/// only; a longer chain does not match. For IPv4 only AH is walked, as in libpcap, but the
/// header after it is found at the right offset (libpcap drops the IP header length there).
struct ProtocolChain: Hashable, Sendable {
    static let depth = 8
    static let authenticationHeader: UInt32 = 51
    /// Headers whose length byte counts 8-byte units past the first.
    static let ipv6ExtensionHeaders: [UInt32] = [0, 60, 43, 44]

    /// Where the IP header starts.
    var networkOffset: UInt32
    var ipVersion: UInt8
    var target: UInt32

    /// Code that leaves 1 in A when the chain has `target`, else 0; it changes X and
    /// M[scratch]. Every jump is forward and, at this depth, within 255 instructions.
    func code(scratch: UInt32) throws(FilterError) -> [ClassicInstruction] {
        var code = LabelledCode()
        let found = code.newLabel(), notFound = code.newLabel(), end = code.newLabel()
        let n = networkOffset
        // A = the first protocol; X = where its header starts, from the network header.
        if ipVersion == 6 {
            code.append(.loadA(.packet(.byte, offset: n + 6)))
            code.append(.loadX(.constant(40)))
        } else {
            code.append(.loadA(.packet(.byte, offset: n + 9)))
            code.append(.loadX(.headerLength(offset: n)))
        }
        for _ in 0..<Self.depth {
            let next = code.newLabel(), extensionHeader = code.newLabel(), authentication = code.newLabel()
            code.branch(target, found)
            code.branch(Self.authenticationHeader, authentication)
            if ipVersion == 6 {
                for header in Self.ipv6ExtensionHeaders { code.branch(header, extensionHeader) }
            }
            code.jump(notFound)
            if ipVersion == 6 {
                code.place(extensionHeader)
                code.advance(networkOffset: n, add: 1, shift: 3, scratch: scratch)
                code.jump(next)
            }
            code.place(authentication)
            code.advance(networkOffset: n, add: 2, shift: 2, scratch: scratch)
            code.place(next)
        }
        code.branch(target, found)
        code.place(notFound)
        code.append(.loadA(.constant(0)))
        code.jump(end)
        code.place(found)
        code.append(.loadA(.constant(1)))
        code.place(end)
        guard let resolved = code.resolved() else {
            throw FilterError(offset: 0, message: "internal error: protochain's unrolled code has a jump past 255 instructions")
        }
        return resolved
    }
}

/// Straight-line code with forward jumps to labels, resolved at the end.
private struct LabelledCode {
    private enum Item {
        case instruction(ClassicInstruction)
        /// `jeq #k` to the label when equal, on to the next instruction when not.
        case branch(UInt32, Int)
        case jump(Int)
    }

    private var items: [Item] = []
    private var labels: [Int?] = []

    mutating func newLabel() -> Int {
        labels.append(nil)
        return labels.count - 1
    }

    mutating func place(_ label: Int) { labels[label] = items.count }
    mutating func append(_ instruction: ClassicInstruction) { items.append(.instruction(instruction)) }
    mutating func branch(_ k: UInt32, _ label: Int) { items.append(.branch(k, label)) }
    mutating func jump(_ label: Int) { items.append(.jump(label)) }

    /// X += (byte at X + 1 + `add`) << `shift`; then A = the next protocol (the byte at X).
    mutating func advance(networkOffset n: UInt32, add: UInt32, shift: UInt32, scratch: UInt32) {
        append(.loadA(.packetIndexed(.byte, offset: n + 1)))
        append(.arithmetic(.add, .constant(add)))
        append(.arithmetic(.lsh, .constant(shift)))
        append(.arithmetic(.add, .x))
        append(.storeA(scratch: scratch))
        append(.loadA(.packetIndexed(.byte, offset: n)))
        append(.loadX(.scratch(scratch)))
    }

    /// The instructions with their jumps; nil if a conditional jump is too far for its
    /// 8-bit field.
    func resolved() -> [ClassicInstruction]? {
        var code: [ClassicInstruction] = []
        for (index, item) in items.enumerated() {
            let distance = { (label: Int) in (labels[label] ?? index + 1) - index - 1 }
            switch item {
            case .instruction(let instruction): code.append(instruction)
            case .branch(let k, let label):
                guard let jump = UInt8(exactly: distance(label)) else { return nil }
                code.append(.branch(.eq, .constant(k), jumpTrue: jump, jumpFalse: 0))
            case .jump(let label): code.append(.jump(offset: UInt32(distance(label))))
            }
        }
        return code
    }
}
