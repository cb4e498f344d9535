import ClassicBPF

/// What a filter for a live Linux packet socket reads differently from one for a capture
/// file: `inbound`, `outbound` and `ifindex` read the kernel's ancillary fields, and the
/// first `vlan` may move nothing (see `SocketFilter`).
struct LiveForm: Sendable {
    /// How what follows the first `vlan` reads past its tag.
    enum FirstTag: Sendable {
        /// 4 bytes further, as in a capture file.
        case moves
        /// Where it would without the tag: the kernel took it out.
        case stays
        /// `length` bytes further, known at run time (a `saved` value).
        case indexes(by: FilterValue)
    }

    var firstTag: FirstTag
}

/// The first `vlan` of an expression as parsed: its test of the tag in the frame, and the
/// id it asks for.
struct VLANPrimitive: Sendable {
    var test: Predicate
    var id: UInt32?
}

/// The meaning of a filter on a live Linux packet socket (AF_PACKET), where it runs in the
/// kernel with libpcap's meaning.
///
/// Linux takes the outer VLAN tag out of a received frame (into skb->vlan_tci) before a
/// socket filter runs, but leaves inner tags, and the tags of frames this host sends, in the
/// frame. libpcap's live program therefore tests `[vlanp]` at the first `vlan`, reads its id
/// from `[vlan_tci]` when the tag was taken out, and otherwise tests the frame and adds 4 to
/// a run-time offset (M[1]) under which everything after it reads — only on the paths that
/// evaluate that first `vlan` (`ip and vlan or udp` skips it on a frame that is not IPv4).
///
/// Predicates here are pure, so what follows the first `vlan` comes from one of two parses
/// of the expression (joined by `ParseVariants`): `moved`, where the first `vlan` moves it
/// by 4 bytes (as in a capture file), or `unmoved`; the first `vlan` branches on `[vlanp]`,
/// so what comes before it is tested once and only what follows it twice.
///
/// Or, as libpcap does, once: in an `indexed` parse, what follows the first `vlan` reads
/// past `tagLength`, a pure value of `[vlanp]` kept in a scratch word once computed (a
/// `saved` value), and both outcomes continue there. That costs the computation and an
/// `ldx` per load where X was lost; which of the two forms is shorter depends on the
/// expression, so both are compiled.
enum SocketFilter {
    /// The predicates of `expression` for a live socket of `linkType`: the one with the
    /// tag's continuations written twice, and, when there is a first `vlan` and what follows
    /// it can read at a run-time offset, the one with them written once.
    static func parse(_ expression: String, linkType: FilterLinkType, resolver: (any FilterNameResolver)?,
                      layout: FilterLayout = .shared) throws(FilterError) -> (twice: PredicateTree, once: PredicateTree?) {
        let arena = PredicateArena()
        let moved = try FilterParser.parse(expression, linkType: linkType, live: LiveForm(firstTag: .moves), resolver: resolver, arena: arena, layout: layout)
        guard let first = arena.firstVLAN else { return (moved, nil) }
        guard !arena.followsGeneve else {
            throw FilterError(offset: 0, length: max(1, expression.utf8.count), message: "on a live socket, nothing can follow geneve in an expression with vlan yet (both read past a run-time offset)")
        }
        arena.firstVLAN = nil
        let unmoved = try FilterParser.parse(expression, linkType: linkType, live: LiveForm(firstTag: .stays), resolver: resolver, arena: arena, layout: layout)
        // Both parses read the same words: a difference is a bug, reported rather than trapped.
        guard let unmovedFirst = arena.firstVLAN,
              let twiceVariants = ParseVariants(roots: [unmoved.root, moved.root], targets: [unmovedFirst.test, first.test], in: arena) else {
            throw FilterError(offset: 0, message: "internal error: the two parses of the live filter differ")
        }
        let offloaded = offloadedTest(first.id, in: arena)
        let present = arena.equal(.load(.byte, AncillaryField.vlanTagPresent.offset), 1)
        let twice = joinedTwice(twiceVariants, present: present, offloaded: offloaded, in: arena)
        // What cannot read at a run-time offset (`protochain`) is refused by these parses alone.
        arena.firstVLAN = nil
        guard let skipped = try? FilterParser.parse(expression, linkType: linkType, live: LiveForm(firstTag: .indexes(by: .constant(0))),
                                                    resolver: resolver, arena: arena, layout: layout),
              let skippedFirst = arena.firstVLAN else { return (PredicateTree(arena: arena, root: twice), nil) }
        arena.firstVLAN = nil
        guard let indexed = try? FilterParser.parse(expression, linkType: linkType, live: LiveForm(firstTag: .indexes(by: tagLength)),
                                                    resolver: resolver, arena: arena, layout: layout),
              let indexedFirst = arena.firstVLAN,
              let onceVariants = ParseVariants(roots: [skipped.root, indexed.root], targets: [skippedFirst.test, indexedFirst.test], in: arena) else {
            return (PredicateTree(arena: arena, root: twice), nil)
        }
        let once = joinedOnce(onceVariants, present: present, offloaded: offloaded, in: arena)
        return (PredicateTree(arena: arena, root: twice), PredicateTree(arena: arena, root: once))
    }

    /// The first `vlan` branching on `present`: the unmoved parse continues where the tag was
    /// taken out, the moved one where it is in the frame. Out of line, as the closures in
    /// the typed-throws caller could clobber its error in a release build (Swift 6.3).
    @inline(never)
    static func joinedTwice(_ variants: ParseVariants, present: Predicate, offloaded: Predicate, in arena: PredicateArena) -> Predicate {
        let movedTest = variants.paths[1][variants.paths[1].count - 1]
        return variants.joined(in: arena) { t, f in
            arena.choose(present, arena.choose(offloaded, t[0], f[0]), arena.choose(movedTest, t[1], f[1]))
        }
    }

    /// The length of the first tag in the frame: 0 when the kernel took it out, else 4.
    static let tagLength = FilterValue.binary(.lsh, .binary(.xor, .load(.byte, AncillaryField.vlanTagPresent.offset), .constant(1)), .constant(2))

    /// The first `vlan` as one test of the tag wherever it is; both outcomes continue in the
    /// parse that reads past `tagLength`. Where the first `vlan` is not evaluated, what
    /// follows it reads past 0 bytes kept in the same scratch word: the same code, laid out once.
    @inline(never)
    static func joinedOnce(_ variants: ParseVariants, present: Predicate, offloaded: Predicate, in arena: PredicateArena) -> Predicate {
        let tag = arena.choose(present, offloaded, variants.paths[1][variants.paths[1].count - 1])
        return variants.joined(in: arena) { t, f in arena.choose(tag, t[1], f[1]) }
    }

    /// The first `vlan` when the kernel took the tag out (its presence tested before): the
    /// id from the ancillary TCI, as libpcap reads it (`ldb [vlan_tci]`, all 16 bits).
    static func offloadedTest(_ id: UInt32?, in arena: PredicateArena) -> Predicate {
        guard let id else { return arena.always(true) }
        return arena.masked(.load(.byte, AncillaryField.vlanTag.offset), 0x0fff, id)
    }
}
