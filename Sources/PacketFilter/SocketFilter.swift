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
        /// `frameTagLength` bytes further, known at run time.
        case indexes
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
/// of the expression: `moved`, where the first `vlan` moves it by 4 bytes (as in a capture
/// file), or `unmoved`. The predicate follows the evaluation down to the first `vlan`, which
/// branches on `[vlanp]`; from there each outcome continues in the parse its offsets need,
/// so what comes before the first `vlan` is tested once and only what follows it twice.
///
/// Or, as libpcap does, once: in an `indexed` parse, what follows the first `vlan` reads
/// past `frameTagLength`, a pure value of `[vlanp]` the program computes first, and both
/// outcomes continue there. That costs the computation and an `ldx` per load where X was
/// lost; which of the two forms is shorter depends on the expression, so both are compiled.
enum SocketFilter {
    /// The predicates of `expression` for a live socket of `linkType`: the one with the
    /// tag's continuations written twice, and, when there is a first `vlan` and what follows
    /// it can read at a run-time offset, the one with them written once.
    static func parse(_ expression: String, linkType: FilterLinkType,
                      resolver: (any FilterNameResolver)?) throws(FilterError) -> (twice: PredicateTree, once: PredicateTree?) {
        let arena = PredicateArena()
        let moved = try FilterParser.parse(expression, linkType: linkType, live: LiveForm(firstTag: .moves), resolver: resolver, arena: arena)
        guard let first = arena.firstVLAN else { return (moved, nil) }
        arena.firstVLAN = nil
        let unmoved = try FilterParser.parse(expression, linkType: linkType, live: LiveForm(firstTag: .stays), resolver: resolver, arena: arena)
        // Both parses read the same words: a difference is a bug, reported rather than trapped.
        guard let unmovedFirst = arena.firstVLAN,
              let movedPath = path(to: first.test, from: moved.root, in: arena),
              let unmovedPath = path(to: unmovedFirst.test, from: unmoved.root, in: arena),
              alike(movedPath, unmovedPath, in: arena) else {
            throw FilterError(offset: 0, message: "internal error: the two parses of the live filter differ")
        }
        let offloaded = offloadedTest(first.id, in: arena)
        let present = arena.equal(.load(.byte, AncillaryField.vlanTagPresent.offset), 1)
        let twice = tagBranching(movedPath, unmovedPath, present: present, offloaded: offloaded, in: arena)
        // What cannot read at a run-time offset (`protochain`) is refused by this parse alone.
        arena.firstVLAN = nil
        guard let indexed = try? FilterParser.parse(expression, linkType: linkType, live: LiveForm(firstTag: .indexes), resolver: resolver, arena: arena),
              let indexedFirst = arena.firstVLAN,
              let indexedPath = path(to: indexedFirst.test, from: indexed.root, in: arena),
              alike(indexedPath, unmovedPath, in: arena) else {
            return (PredicateTree(arena: arena, root: twice), nil)
        }
        let once = tagBranching(indexedPath, unmovedPath, present: arena.equal(.frameTagLength, 0), offloaded: offloaded, in: arena, sharing: true)
        return (PredicateTree(arena: arena, root: twice), PredicateTree(arena: arena, root: once))
    }

    /// How the evaluation continues after a part: as the unmoved parse reads (the first
    /// `vlan` not evaluated, or its tag taken out) or as the moved one does.
    struct Continuation {
        var unmoved: Predicate
        var moved: Predicate
    }

    /// The expression along `moved` and `unmoved` (the paths from each parse's root to its
    /// first `vlan`, alike in shape), with that `vlan` branching on `present`. With
    /// `sharing`, `moved` reads past the tag at run time, and both outcomes continue in it.
    static func tagBranching(_ moved: [Predicate], _ unmoved: [Predicate], present: Predicate, offloaded: Predicate,
                             in arena: PredicateArena, sharing: Bool = false) -> Predicate {
        // Where each part on the path continues, from the root down: a right side after the
        // path comes from the parse of the state the evaluation is in.
        var whenTrue = [Continuation(unmoved: arena.always(true), moved: arena.always(true))]
        var whenFalse = [Continuation(unmoved: arena.always(false), moved: arena.always(false))]
        for level in 0..<(moved.count - 1) {
            var (t, f) = (whenTrue[level], whenFalse[level])
            func then(_ unmovedPart: Predicate, _ movedPart: Predicate) -> Continuation {
                Continuation(unmoved: arena.choose(unmovedPart, t.unmoved, f.unmoved), moved: arena.choose(movedPart, t.moved, f.moved))
            }
            let next = moved[level + 1].index
            switch (arena.parts[Int(moved[level].index)], arena.parts[Int(unmoved[level].index)]) {
            case (.not, _): swap(&t, &f)
            case (.and(let left, let movedRight), .and(_, let unmovedRight)) where left.index == next: t = then(unmovedRight, movedRight)
            case (.or(let left, let movedRight), .or(_, let unmovedRight)) where left.index == next: f = then(unmovedRight, movedRight)
            default: break  // the path goes right: what follows is the part's own continuation
            }
            whenTrue.append(t)
            whenFalse.append(f)
        }
        // Back up from the `vlan`: a left side before the path is tested first, unmoved.
        let (t, f) = (whenTrue[moved.count - 1], whenFalse[moved.count - 1])
        var result = sharing
            ? arena.choose(arena.choose(present, offloaded, moved[moved.count - 1]), t.moved, f.moved)
            : arena.choose(present, arena.choose(offloaded, t.unmoved, f.unmoved), arena.choose(moved[moved.count - 1], t.moved, f.moved))
        for level in stride(from: moved.count - 2, through: 0, by: -1) {
            let next = moved[level + 1].index
            switch arena.parts[Int(moved[level].index)] {
            case .and(let left, _) where left.index != next: result = arena.choose(left, result, whenFalse[level].unmoved)
            case .or(let left, _) where left.index != next: result = arena.choose(left, whenTrue[level].unmoved, result)
            default: break
            }
        }
        return result
    }

    /// The first `vlan` when the kernel took the tag out (its presence tested before): the
    /// id from the ancillary TCI, as libpcap reads it (`ldb [vlan_tci]`, all 16 bits).
    static func offloadedTest(_ id: UInt32?, in arena: PredicateArena) -> Predicate {
        guard let id else { return arena.always(true) }
        return arena.masked(.load(.byte, AncillaryField.vlanTag.offset), 0x0fff, id)
    }

    /// Whether two paths have the same parts but for their numbers. Out of line: a closure in
    /// the typed-throws caller could clobber its error in a release build (Swift 6.3).
    @inline(never)
    static func alike(_ a: [Predicate], _ b: [Predicate], in arena: PredicateArena) -> Bool {
        func shape(_ p: Predicate) -> Int {
            switch arena.parts[Int(p.index)] {
            case .always: 0
            case .test: 1
            case .not: 2
            case .and: 3
            case .or: 4
            case .choose: 5
            }
        }
        return a.count == b.count && zip(a, b).allSatisfy { shape($0.0) == shape($0.1) }
    }

    /// The parts from `root` down to `target`, both included; nil if `target` is not there.
    static func path(to target: Predicate, from root: Predicate, in arena: PredicateArena) -> [Predicate]? {
        var path: [Predicate] = []
        func search(_ p: Predicate) -> Bool {
            path.append(p)
            if p.index == target.index { return true }
            switch arena.parts[Int(p.index)] {
            case .not(let q): if search(q) { return true }
            case .and(let a, let b), .or(let a, let b): if search(a) || search(b) { return true }
            case .always, .test, .choose: break
            }
            path.removeLast()
            return false
        }
        return search(root) ? path : nil
    }
}
