import BPFInstructions
import ClassicBPF

// PacketFilter compiles the pcap filter language (pcap-filter(7)) to validated classic BPF.
//
// The pipeline: `FilterParser` reads the text and asks `PredicateBuilder` for each primitive
// as a boolean `Predicate` over side-effect-free `FilterValue`s; `DecisionGraph` turns that
// into a DAG of tests; `GraphOptimizer` threads jumps whose outcome is known on the way in
// and merges equal tests; `CodeEmitter` lays the DAG out as classic instructions, skipping
// loads whose value A or X already holds.
//
// Where what follows the first `vlan` on a live socket reads at offsets known only at run
// time, the expression is parsed once per way of reading and the parses are joined where
// that `vlan` is evaluated (`ParseVariants`); a `saved` value keeps the run-time offset in
// a scratch word, so the code past it is laid out once. What follows `geneve` is parsed
// once: as in libpcap, tests that store the inner frame's offsets in scratch words (kept by
// the graph, written by the emitter) run where it holds, and what follows reads through them.

/// The pcap filter language compiler.
public enum PacketFilter {
    /// What an accepting filter returns: tcpdump's default snapshot length.
    public static let defaultSnapshotLength: UInt32 = 262_144

    /// Compiles `expression` for packets that start with `linkType`'s header.
    /// An empty expression (or only spaces) accepts every packet, as in libpcap; with
    /// `optimize`, one that can match no packet is an error ("expression rejects all packets").
    ///
    /// `fileByteOrder` is for packets read from a capture file: the byte order it was
    /// written in. Only BSD loopback depends on it (its address family is in the capturing
    /// host's byte order, and IPv6 has a different number on each BSD); as libpcap does for
    /// a savefile, the filter then checks the file's order and every BSD's AF_INET6.
    ///
    /// `resolver` answers host, Ethernet host and service names; without one, addresses
    /// must be numeric and only well-known service names are known.
    ///
    /// `maximumLength` is the kernel's 4096 instructions; a filter that only runs in user
    /// space (a capture file's, as libpcap's offline filters) may be given a larger one.
    public static func compile(
        _ expression: String, linkType: FilterLinkType = .ethernet, optimize: Bool = true,
        snapshotLength: UInt32 = defaultSnapshotLength, fileByteOrder: ByteOrder? = nil,
        resolver: (any FilterNameResolver)? = nil, maximumLength: Int = ClassicOpcode.maxInstructions
    ) throws(FilterError) -> ClassicProgram {
        let predicate = try FilterParser.parse(expression, linkType: linkType, fileByteOrder: fileByteOrder, resolver: resolver)
        let chosen = try choosingPortLayout(predicate.arena, optimize: optimize, shared: { () throws(FilterError) in
            try program(predicate, of: expression, optimize: optimize, snapshotLength: snapshotLength, maximumLength: maximumLength)
        }, perProtocol: { () throws(FilterError) in
            let perProtocol = try FilterParser.parse(expression, linkType: linkType, fileByteOrder: fileByteOrder, resolver: resolver,
                                                     layout: .portsPerProtocol)
            return try program(perProtocol, of: expression, optimize: true, snapshotLength: snapshotLength, maximumLength: maximumLength,
                               reshaping: false)
        })
        return try refusingAsLibpcap(chosen, expression, optimize: optimize, parsed: predicate) { () throws(FilterError) in
            try FilterParser.parse(expression, linkType: linkType, fileByteOrder: fileByteOrder, resolver: resolver, layout: .libpcap)
        }
    }

    /// `shared`'s program, or where laying the ports out per protocol may do better (the
    /// expression's `arena` allows it and `mayShortenPerProtocol`), the shorter of it and
    /// `perProtocol`'s (see `shorter`).
    private static func choosingPortLayout(_ arena: PredicateArena, optimize: Bool,
                                           shared: () throws(FilterError) -> ClassicProgram,
                                           perProtocol: () throws(FilterError) -> ClassicProgram)
        throws(FilterError) -> ClassicProgram {
        let sharedProgram = Result(catching: shared)
        guard optimize, arena.portLayoutMayMatter, mayShortenPerProtocol(sharedProgram) else { return try sharedProgram.get() }
        return try shorter(sharedProgram, Result(catching: perProtocol))
    }

    /// Of an expression compiled with its `port`s tested once for SCTP, TCP and UDP and
    /// compiled with them laid out once per protocol (as libpcap does), the shorter program:
    /// sharing the tests often saves code, but where what follows tests the protocol, each
    /// protocol's copy can be decided apart, as libpcap's are. The layout
    /// per protocol is optimized without the reshaping rules (`GraphOptimizer.optimized`):
    /// with them, a quarter of the programs it gave were shorter still, none of them newly
    /// within libpcap's length, and the second compile cost about twice as much.
    static func shorter(_ shared: Result<ClassicProgram, FilterError>,
                        _ perProtocol: Result<ClassicProgram, FilterError>) throws(FilterError) -> ClassicProgram {
        switch (shared, perProtocol) {
        case (.success(let a), .success(let b)): return b.instructions.count < a.instructions.count ? b : a
        case (.success(let program), .failure), (.failure, .success(let program)): return program
        case (.failure(let error), .failure): throw error
        }
    }

    static let rejectsAll = "expression rejects all packets"

    /// Whether laying the ports out per protocol may do better than `shared`: where it reads
    /// a byte twice (the protocol tested again past the shared ports, the ways of the
    /// protocols having met there), or was refused (too long: the other may fit).
    /// Elsewhere the second compile is skipped: that left 14 of the 190 programs it shortened
    /// as they were (16,493 expressions × 5 link types, file and socket) and halved its cost
    /// (150 random expressions: +27 % over the first compile alone, now +14 %).
    static func mayShortenPerProtocol(_ shared: Result<ClassicProgram, FilterError>) -> Bool {
        let program: ClassicProgram
        switch shared {
        case .failure: return true
        case .success(let compiled): program = compiled
        }
        return anyRepeated(program.instructions) { instruction in
            switch instruction {
            case .loadA(.packet(.byte, _)), .loadA(.packetIndexed(.byte, _)): word(instruction)
            default: nil
            }
        }
    }

    /// Whether libpcap's optimizer refuses `predicate` as matching nothing (most likely a
    /// mistake): only what libpcap proves, of the expression as written, is refused, so that
    /// a tcpdump command that works there works here. `predicate` is parsed in libpcap's own
    /// layout (`FilterLayout.libpcap`), asked only where our program is `ret #0`. With
    /// `protochain` (a loop) or `geneve` libpcap does not optimize at all, so refuses nothing.
    static func libpcapRefuses(_ predicate: PredicateTree) -> Bool {
        predicate.arena.chains.isEmpty && predicate.arena.genevesWritten == 0 && GraphOptimizer.provesFalseLikeLibpcap(predicate)
    }

    /// `chosen`, or tcpdump's refusal of `expression` where `chosen` is `ret #0` and libpcap's
    /// optimizer proves it false: on `parsed`, or where that was laid out unlike libpcap's
    /// program, on the parse `libpcapLayout` gives.
    private static func refusingAsLibpcap(_ chosen: ClassicProgram, _ expression: String, optimize: Bool, parsed: PredicateTree,
                                          libpcapLayout: () throws(FilterError) -> PredicateTree) throws(FilterError) -> ClassicProgram {
        guard optimize, chosen.instructions == [.ret(.constant(0))],
              try libpcapRefuses(parsed.arena.laidOutUnlikeLibpcap ? libpcapLayout() : parsed) else { return chosen }
        throw FilterError(offset: 0, length: max(1, expression.utf8.count), message: rejectsAll)
    }

    /// An instruction's encoding as one number.
    private static func word(_ instruction: ClassicInstruction) -> UInt64 {
        let raw = instruction.raw
        return UInt64(raw.code) << 48 | UInt64(raw.jt) << 40 | UInt64(raw.jf) << 32 | UInt64(raw.k)
    }

    /// Whether `key` gives one number twice over the instructions (nil: none for this one),
    /// found by sorting them: a `Set` cost some 2,000 instructions a compile in hashing.
    private static func anyRepeated(_ instructions: [ClassicInstruction], _ key: (ClassicInstruction) -> UInt64?) -> Bool {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: instructions.count) { keys in
            var count = 0
            for instruction in instructions {
                guard let found = key(instruction) else { continue }
                keys[count] = found
                count += 1
            }
            var found = UnsafeMutableBufferPointer(rebasing: keys[..<count])
            found.sort()
            return zip(found, found.dropFirst()).contains { $0 == $1 }
        }
    }

    /// Compiles `expression` for a live Linux packet socket (AF_PACKET) of `linkType`, to run
    /// in the kernel with the meaning of libpcap's live program: `vlan` reads a tag the kernel
    /// took out of the frame through the ancillary loads, and `inbound`, `outbound` and
    /// `ifindex` the kernel's packet type and interface index (see `SocketFilter`).
    public static func compileForSocket(
        _ expression: String, linkType: FilterLinkType = .ethernet, optimize: Bool = true,
        snapshotLength: UInt32 = defaultSnapshotLength, resolver: (any FilterNameResolver)? = nil
    ) throws(FilterError) -> ClassicProgram {
        let forms = try SocketFilter.parse(expression, linkType: linkType, resolver: resolver)
        let chosen = try choosingPortLayout(forms.twice.arena, optimize: optimize, shared: { () throws(FilterError) in
            try program(forms, of: expression, optimize: optimize, snapshotLength: snapshotLength)
        }, perProtocol: { () throws(FilterError) in
            let perProtocol = try SocketFilter.parse(expression, linkType: linkType, resolver: resolver, layout: .portsPerProtocol)
            return try program(perProtocol, of: expression, optimize: true, snapshotLength: snapshotLength, reshaping: false)
        })
        // The form with the tag's continuations written twice is libpcap's.
        return try refusingAsLibpcap(chosen, expression, optimize: optimize, parsed: forms.twice) { () throws(FilterError) in
            try SocketFilter.parse(expression, linkType: linkType, resolver: resolver, layout: .libpcap).twice
        }
    }

    /// The shorter program of a live filter's forms (see `SocketFilter`).
    private static func program(_ forms: (twice: PredicateTree, once: PredicateTree?), of expression: String, optimize: Bool,
                                snapshotLength: UInt32, reshaping: Bool = true) throws(FilterError) -> ClassicProgram {
        // The same meaning, so the same verdicts: only the length decides (or which fits).
        var indexed: ClassicProgram?
        if let once = forms.once {
            indexed = try? program(once, of: expression, optimize: optimize, snapshotLength: snapshotLength, reshaping: reshaping)
        }
        let twice: ClassicProgram
        do {
            twice = try program(forms.twice, of: expression, optimize: optimize, snapshotLength: snapshotLength, reshaping: reshaping)
        } catch {
            guard let indexed else { throw error }
            return indexed
        }
        guard let indexed, indexed.instructions.count < twice.instructions.count else { return twice }
        return indexed
    }

    private static func program(_ predicate: PredicateTree, of expression: String, optimize: Bool,
                                snapshotLength: UInt32, maximumLength: Int = ClassicOpcode.maxInstructions,
                                reshaping: Bool = true) throws(FilterError) -> ClassicProgram {
        // Parts that ran before on the way to them decided: the same verdicts, less to search.
        let tree = optimize ? predicate.decidingRepeats() : predicate
        // The layout per protocol (`reshaping` off) does not follow ways apart: following
        // them kept the same programs over 16,493 expressions on five link types, file and socket.
        let (graph, searches) = optimize ? GraphOptimizer.optimized(tree, reshaping: reshaping, followingWays: reshaping)
            : (DecisionGraph(unoptimized: tree), BeyondSearches())
        var instructions: [ClassicInstruction] = []
        var refusal: FilterError?
        do {
            instructions = try CodeEmitter.emit(graph, snapshotLength: snapshotLength, reuseRegisters: optimize, maximumLength: maximumLength)
        } catch {
            refusal = error
        }
        if searches.followedWays, refusal != nil {
            // Following ways apart can split tests that the graph shared: where that made the
            // program too long, the one without may fit. Where it also ran wherever a test
            // was laid out twice, this run made 34–44 of some 40,000 random programs 1–33
            // instructions shorter (three sets of 12,000 expressions × 5 link types), none of
            // them then longer than libpcap's, for 12.5 % of the compile instructions of the
            // bench's mixes.
            var plain = BeyondSearches(followingWays: false)
            if let other = try? CodeEmitter.emit(GraphOptimizer.optimized(tree, &plain, reshaping: reshaping), snapshotLength: snapshotLength,
                                                 reuseRegisters: true, maximumLength: maximumLength) {
                (instructions, refusal) = (other, nil)
            }
        }
        if let refusal { throw refusal }
        do {
            return try ClassicProgram(instructions, maximumLength: maximumLength)
        } catch {
            // The emitter only writes what the validator takes; this reports a bug, not a crash.
            throw FilterError(offset: 0, message: "internal error: the compiled program is invalid (\(error))")
        }
    }

    /// The fuzzing entry point: compiles `bytes` as an expression for every link type, with
    /// and without the optimizer, for a capture file and for a live socket. Only ever
    /// returns: how many programs and errors came out.
    @discardableResult
    public static func fuzz(_ bytes: [UInt8]) -> (programs: Int, errors: Int) {
        let text = String(decoding: bytes, as: UTF8.self)
        var programs = 0
        var errors = 0
        for linkType in FilterLinkType.allCases {
            for optimize in [true, false] {
                for live in [false, true] {
                    do {
                        _ = live ? try compileForSocket(text, linkType: linkType, optimize: optimize)
                            : try compile(text, linkType: linkType, optimize: optimize)
                        programs += 1
                    } catch {
                        errors += 1
                    }
                }
            }
        }
        return (programs, errors)
    }
}
