/// What one engine (the kernel, BPFVM) made of a fixture over the corpus: each packet's
/// verdict and bytes after the program, and at the end every map's entries and the ring
/// buffer's records in the order they were submitted.
struct FixtureOutcome: Sendable {
    enum PacketResult: Sendable, Hashable {
        case finished(verdict: UInt32, data: [UInt8])
        /// The engine would not run the program on this input: the kernel's skb test run
        /// refuses frames whose EtherType announces an IP header that is cut short.
        case refused(String)
        /// The run failed (a fault, an error); the message says how.
        case failed(String)
    }

    struct MapEntry: Sendable, Hashable {
        var key: [UInt8]
        var value: [UInt8]
    }

    /// One per corpus packet, in corpus order.
    var packets: [PacketResult] = []
    /// Entries by map name (global data by section name: ".bss", ".rodata"), sorted by key.
    var maps: [String: [MapEntry]] = [:]
    /// Records of ring buffer maps by map name.
    var records: [String: [[UInt8]]] = [:]

    /// Every finished packet's verdict → how many.
    var verdictCounts: [UInt32: Int] {
        packets.reduce(into: [:]) { counts, result in
            if case .finished(let verdict, _) = result { counts[verdict, default: 0] += 1 }
        }
    }

    /// The one entry of a global data section (".bss"), or nil.
    func globalData(_ section: String) -> [UInt8]? { maps[section]?.first?.value }

    static func sorted(_ entries: [MapEntry]) -> [MapEntry] {
        entries.sorted { $0.key.lexicographicallyPrecedes($1.key) }
    }
}
