import BPFInstructions
import ClassicBPF

/// The qualifiers before an id: `[proto] [dir] [type]`. An id standing alone after `and`,
/// `or`, `not` or `(` takes the last ones given (`host a or b`), as in libpcap.
struct Qualifiers: Sendable {
    var proto: String?
    var direction: Direction?
    var type: String?
}

/// A value in an arithmetic expression, with what must hold for its packet data to exist.
struct Arithmetic: Sendable {
    var value: FilterValue
    var guards: [Predicate] = []
}

/// Recursive descent over the tokens, building predicates as it goes so that `vlan` and
/// `mpls` shift what follows in the order written. `and` and `or` have equal precedence
/// and group from the left; `not` binds tighter (pcap-filter(7)).
struct FilterParser {
    /// Bounds on the recursion (parsing, and the graph and code built from the predicates),
    /// checked to fit a test thread's stack in a debug build; both are above libpcap's
    /// practical sizes (100 levels, 450 hosts). 1000 primitives compile in hundredths of a
    /// second; classic BPF's 4096 instructions are usually reached first.
    static let nestingLimit = 128
    static let primitiveLimit = 1000

    var tokens: [FilterToken]
    var position = 0
    var builder: PredicateBuilder
    var resolver: (any FilterNameResolver)?
    var last: Qualifiers?
    var depth = 0
    var primitives = 0
    /// The tokens of the first `leafLimit` primitives and relations parsed, and how many
    /// there were: where two were written alike, one may decide the other
    /// (`PredicateTree.decidingRepeats`). Inline: an array would cost every compile an allocation.
    var leaves = InlineArray<16, Range<Int>>(repeating: 0..<0)
    var leafCount = 0
    static let leafLimit = 16

    static func parse(_ text: String, linkType: FilterLinkType, fileByteOrder: ByteOrder? = nil, live: LiveForm? = nil,
                      resolver: (any FilterNameResolver)? = nil, arena: PredicateArena = PredicateArena(),
                      layout: FilterLayout = .shared) throws(FilterError) -> PredicateTree {
        let tokens = try FilterLexer.tokenize(text)
        let builder = PredicateBuilder(linkType: linkType, fileByteOrder: fileByteOrder, live: live, arena: arena,
                                       layout: layout)
        var parser = FilterParser(tokens: tokens, builder: builder, resolver: resolver)
        if parser.current.kind == .end { return PredicateTree(arena: arena, root: arena.always(true)) }
        let predicate = try parser.expression()
        guard parser.current.kind == .end else { throw parser.unexpected("'and', 'or' or the end") }
        if parser.leavesRepeat { arena.repeatsLeaf = true }
        return PredicateTree(arena: arena, root: predicate)
    }

    var arena: PredicateArena { builder.arena }

    var current: FilterToken { tokens[min(position, tokens.count - 1)] }
    func peek(_ ahead: Int = 1) -> FilterToken { tokens[min(position + ahead, tokens.count - 1)] }

    mutating func advance() -> FilterToken {
        let token = current
        if position < tokens.count - 1 { position += 1 }
        return token
    }

    func error(_ message: String, at token: FilterToken? = nil) -> FilterError {
        let t = token ?? current
        return FilterError(offset: t.offset, length: max(t.length, 1), message: message)
    }

    func unexpected(_ expected: String) -> FilterError {
        switch current.kind {
        case .end: error("expected \(expected), found the end of the expression")
        case .word(let w, _): error("expected \(expected), found '\(w)'")
        case .symbol(let s): error("expected \(expected), found '\(s)'")
        }
    }

    func isWord(_ w: String) -> Bool { current.isWord(w) }

    mutating func expect(_ symbol: String) throws(FilterError) {
        guard current.isSymbol(symbol) else { throw unexpected("'\(symbol)'") }
        _ = advance()
    }

    // MARK: Boolean structure

    mutating func expression() throws(FilterError) -> Predicate {
        var left = try term()
        while true {
            if isWord("and") || current.isSymbol("&&") {
                _ = advance()
                left = arena.and(left, try term())
            } else if isWord("or") || current.isSymbol("||") {
                _ = advance()
                left = arena.or(left, try term())
            } else {
                return left
            }
        }
    }

    /// One level deeper, refused past `nestingLimit`: parentheses, `not` and the operators of
    /// arithmetic count together, as each is a level of the parser's recursion.
    mutating func enterLevel() throws(FilterError) {
        guard depth < Self.nestingLimit else {
            throw error("the expression nests more than \(Self.nestingLimit) levels deep (parentheses, not and arithmetic operators count together)")
        }
        depth += 1
    }

    mutating func term() throws(FilterError) -> Predicate {
        try enterLevel()
        defer { depth -= 1 }
        if isWord("not") || current.isSymbol("!") {
            _ = advance()
            return arena.not(try term())
        }
        // Past `geneve`, every header is read past the Geneve header's variable length.
        if builder.genevesSeen > 0 { arena.followsGeneve = true }
        if current.isSymbol("(") {
            // Either arithmetic, which wins, or a parenthesized expression: `(ip[0] + 1) > 2`.
            // When the first operand already rules arithmetic out (`(port 80 or ...)`), it is
            // tried only for its error, should the expression fail too: the error that got
            // further is reported, and the parser is left where the expression failed.
            let saved = self
            var arithmeticFailure: (error: FilterError, position: Int)?
            if mayStartArithmetic() {
                do {
                    let result = try leaf { parser throws(FilterError) in try parser.relation() }
                    last = nil
                    return result
                } catch { arithmeticFailure = (error, position) }
                self = saved
            }
            do {
                _ = advance()
                let inner = try expression()
                try expect(")")
                // What follows takes the qualifiers from before the parentheses (libpcap).
                last = saved.last
                return inner
            } catch {
                let afterExpression = self
                if arithmeticFailure == nil {
                    self = saved
                    do { _ = try relation() } catch let failure { arithmeticFailure = (failure, position) }
                    self = afterExpression
                }
                let (arithmeticError, arithmeticPosition) = arithmeticFailure ?? (error, position)
                throw position >= arithmeticPosition ? error : arithmeticError
            }
        }
        if startsRelation() {
            last = nil
            return try leaf { parser throws(FilterError) in try parser.relation() }
        }
        primitives += 1
        guard primitives <= Self.primitiveLimit else { throw error("the expression has more than \(Self.primitiveLimit) primitives") }
        return try leaf { parser throws(FilterError) in try parser.primitive() }
    }

    /// `parse`'s primitive or relation, its tokens recorded in `leaves`.
    mutating func leaf(_ parse: (inout FilterParser) throws(FilterError) -> Predicate) throws(FilterError) -> Predicate {
        let start = position
        let result = try parse(&self)
        if leafCount < Self.leafLimit { leaves[leafCount] = start..<position }
        leafCount += 1
        return result
    }

    /// Whether two primitives or relations were written with the same tokens; true past
    /// `leafLimit` of them, which are not looked at.
    var leavesRepeat: Bool {
        guard leafCount <= Self.leafLimit else { return true }
        for i in 0..<leafCount {
            for j in 0..<i where leaves[i].count == leaves[j].count {
                if zip(leaves[i], leaves[j]).allSatisfy({ tokens[$0].kind == tokens[$1].kind }) { return true }
            }
        }
        return false
    }

    /// Whether arithmetic can start at the current `(`: the first token past the opening
    /// parentheses is one that `primary` takes.
    func mayStartArithmetic() -> Bool {
        var ahead = 1
        while peek(ahead).isSymbol("(") { ahead += 1 }
        let first = peek(ahead)
        if first.isSymbol("-") { return true }
        guard case .word(let w, _) = first.kind else { return false }
        return w == "len" || AddressParser.number(w) != nil || FilterNames.constant(w) != nil
            || (first.isProtocolQualifier && peek(ahead + 1).isSymbol("["))
    }

    /// Whether the next tokens are arithmetic rather than a primitive.
    func startsRelation() -> Bool {
        let t = current
        if t.isSymbol("-") { return true }
        guard let w = t.word else { return false }
        if w == "len" { return true }
        if t.isProtocolQualifier { return peek().isSymbol("[") }
        if FilterNames.constant(w) != nil { return true }
        if AddressParser.number(w) != nil {
            guard case .symbol(let s) = peek().kind else { return false }
            return s != "(" && s != ")" && s != "!"
        }
        return false
    }

    // MARK: Primitives

    mutating func primitive() throws(FilterError) -> Predicate {
        let start = current
        func build(_ body: (inout PredicateBuilder) throws(PredicateBuilder.Failure) -> Predicate) throws(FilterError) -> Predicate {
            do {
                return try body(&builder)
            } catch {
                throw FilterError(offset: start.offset, length: max(1, current.offset - start.offset), message: error.message)
            }
        }
        guard case .word(let w, let escaped) = start.kind else {
            throw unexpected("a primitive such as 'host', 'port', 'tcp' or '('")
        }
        if escaped || !start.isKeyword {
            // An id alone takes the qualifiers of the primitive before it, as in libpcap:
            // there must be one, with an id of its own (`host a or b`, not `tcp or b`).
            guard let last else { throw error("'\(w)' needs a qualifier such as 'host', 'net' or 'port' before it", at: start) }
            return try identifier(last, start: start)
        }
        last = nil
        // The primitives of their own below are no protocol names: for those (the most
        // common start) the string comparisons of the switch are skipped.
        let isProtocol = start.isProtocolQualifier
        if !isProtocol {
            switch w {
            case "vlan", "mpls", "pppoes":
                _ = advance()
                let number = try optionalNumber()
                return try build { b throws(PredicateBuilder.Failure) in
                    switch w {
                    case "vlan": try b.vlan(number)
                    case "mpls": try b.mpls(number)
                    default: try b.pppoeSession(number)
                    }
                }
            case "geneve":
                _ = advance()
                let vni = try optionalNumber()
                return try build { b throws(PredicateBuilder.Failure) in try b.geneve(vni) }
            case "pppoed":
                _ = advance()
                return try build { b throws(PredicateBuilder.Failure) in try b.linkProtocol(0x8863) }
            case "less", "greater":
                _ = advance()
                let n = try number()
                return w == "less" ? arena.not(arena.compare(.length, .gt, n)) : arena.compare(.length, .ge, n)
            case "llc":
                _ = advance()
                // `llc TYPE`: a name after it (`rnr` too, though it is a keyword), never a number.
                if case .word(let name, let escaped) = current.kind, escaped || !current.isKeyword || name == "rnr",
                   AddressParser.number(name) == nil {
                    let typeToken = advance()
                    guard let type = FilterNames.llcTypes[name.lowercased()] else {
                        throw error("unknown LLC type '\(name)': i, s, u, rr, rnr, rej, ui, ua, disc, dm, sabme, test, xid or frmr", at: typeToken)
                    }
                    return try build { b throws(PredicateBuilder.Failure) in try b.llc(type: type) }
                }
                return try build { b throws(PredicateBuilder.Failure) in try b.llc() }
            case "broadcast", "multicast":
                _ = advance()
                return try build { b throws(PredicateBuilder.Failure) in
                    w == "broadcast" ? try b.etherBroadcast() : try b.etherMulticast()
                }
            case "gateway":
                return try gateway(protocol: nil)
            case "inbound", "outbound":
                _ = advance()
                return try build { b throws(PredicateBuilder.Failure) in try b.packetDirection(outbound: w == "outbound") }
            case "ifindex":
                _ = advance()
                let index = try number()
                return try build { b throws(PredicateBuilder.Failure) in try b.interfaceIndex(index) }
            default:
                break
            }
        }
        var qualifiers = Qualifiers()
        if isProtocol {
            // pcap-filter(7): `fddi`, `tr`, `wlan`, `ppp` and `slip` name the link layer as
            // `link` does; on every link type here its addresses are Ethernet's.
            let name = FilterNames.isLinkAlias(w) ? "link" : w
            qualifiers.proto = name
            _ = advance()
            // `ether broadcast`, `ip multicast`...
            if isWord("broadcast") || isWord("multicast") {
                let broadcast = isWord("broadcast")
                _ = advance()
                return try build { b throws(PredicateBuilder.Failure) in try b.castPrimitive(name, broadcast: broadcast) }
            }
            if isWord("proto") || isWord("protochain") { return try protoPrimitive(name) }
            // As in libpcap, an address needs `host`, `net`, `src` or `dst` after the protocol.
            if !(isWord("src") || isWord("dst") || isWord("host") || isWord("net") || isWord("port")
                 || isWord("portrange") || isWord("gateway")) {
                guard name != "link", name != "ether" else { throw error("'\(w)' needs a qualifier such as 'host' or 'proto'", at: start) }
                last = nil
                return try build { b throws(PredicateBuilder.Failure) in try b.protocolKeyword(name) }
            }
        }
        if isWord("proto") || isWord("protochain") { return try protoPrimitive(nil) }
        if isWord("src") || isWord("dst") {
            let first = advance().word
            if (isWord("or") || isWord("and")), peek().isWord(first == "src" ? "dst" : "src") {
                qualifiers.direction = isWord("or") ? .either : .both
                _ = advance()
                _ = advance()
            } else {
                qualifiers.direction = first == "src" ? .source : .destination
            }
        }
        if let type = current.word, Self.isIdentifierType(type) {
            if type == "gateway" {
                guard qualifiers.direction == nil else { throw error("'gateway' takes no 'src' or 'dst'") }
                return try gateway(protocol: qualifiers.proto)
            }
            qualifiers.type = type
            _ = advance()
        }
        guard startsIdentifier() else { throw unexpected("an address, a number or a name") }
        last = qualifiers
        return try identifier(qualifiers, start: current)
    }

    /// The type qualifiers, matched without building an array per primitive.
    static func isIdentifierType(_ word: String) -> Bool {
        switch word {
        case "host", "net", "port", "portrange", "gateway": true
        default: false
        }
    }

    func startsIdentifier() -> Bool {
        guard case .word(_, let escaped) = current.kind else { return false }
        return escaped || !current.isKeyword
    }

    mutating func optionalNumber() throws(FilterError) -> UInt32? {
        guard let w = current.word, AddressParser.number(w) != nil else { return nil }
        return try number()
    }

    mutating func number() throws(FilterError) -> UInt32 {
        guard let w = current.word else { throw unexpected("a number") }
        guard let n = AddressParser.number(w) else { throw error("'\(w)' is not a number (or does not fit in 32 bits)") }
        _ = advance()
        return n
    }

    /// `[ether|ip|ip6] proto N` and `protochain`.
    mutating func protoPrimitive(_ qualifier: String?) throws(FilterError) -> Predicate {
        let start = current
        let chain = isWord("protochain")
        _ = advance()
        let valueToken = current
        guard case .word(let w, _) = valueToken.kind else { throw unexpected("a protocol number or name") }
        _ = advance()
        let table = switch qualifier {
        case "ether", "link": FilterNames.etherTypes
        case "iso": FilterNames.isoProtocols
        default: FilterNames.ipProtocols
        }
        guard let number = AddressParser.number(w) ?? table[w] else {
            if qualifier == "iso" { throw error("unknown OSI protocol '\(w)': clnp, esis, isis or a number", at: valueToken) }
            throw error("unknown protocol '\(w)'; give its number", at: valueToken)
        }
        do throws(PredicateBuilder.Failure) {
            if chain {
                guard number <= 0xff else { throw PredicateBuilder.Failure(message: "protocol \(number) is greater than 255") }
                switch qualifier {
                case "ip": return try builder.protocolChain(number, ipVersion: 4)
                case "ip6": return try builder.protocolChain(number, ipVersion: 6)
                case nil: return try arena.or(builder.protocolChain(number, ipVersion: 4), builder.protocolChain(number, ipVersion: 6))
                default: throw PredicateBuilder.Failure(message: "'\(qualifier ?? "")' does not take 'protochain'")
                }
            }
            switch qualifier {
            case "ether", "link": return try builder.linkProtocol(number)
            case "ip": return try builder.ipProtocol(number)
            case "ip6": return try builder.ip6Protocol(number)
            case nil: return try arena.or(builder.ipProtocol(number), builder.ip6Protocol(number))
            case "iso": return try builder.isoProtocol(number)
            case "isis": return try builder.isisPDU(number)
            default: throw PredicateBuilder.Failure(message: "'\(qualifier ?? "")' does not take 'proto'")
            }
        } catch {
            throw FilterError(offset: start.offset, length: max(1, current.offset - start.offset), message: error.message)
        }
    }

    /// An address, port, or name under `qualifiers`.
    mutating func identifier(_ qualifiers: Qualifiers, start: FilterToken) throws(FilterError) -> Predicate {
        let token = advance()
        guard case .word(let text, _) = token.kind else { throw unexpected("an address, a number or a name") }
        let direction = qualifiers.direction ?? .either
        func fail(_ message: String) -> FilterError { error(message, at: token) }
        func wrap(_ body: () throws(PredicateBuilder.Failure) -> Predicate) throws(FilterError) -> Predicate {
            do { return try body() } catch { throw fail(error.message) }
        }
        let builder = self.builder
        if qualifiers.proto == "decnet", qualifiers.type != "port", qualifiers.type != "portrange" {
            let address: UInt16
            switch PredicateBuilder.decnetAddress(text) {
            case .success(let value): address = value
            case .failure(let failure): throw fail(failure.message)
            }
            return try wrap { () throws(PredicateBuilder.Failure) in try builder.decnetAddress(address, direction) }
        }
        switch qualifiers.type {
        case "port", "portrange":
            let (ports, transport) = try portMatch(text, range: qualifiers.type == "portrange", fail: fail)
            var proto = qualifiers.proto
            if transport != .any {
                // A name listed for one protocol stands for that protocol alone, as in libpcap.
                if proto == nil {
                    proto = transport.rawValue
                } else if proto == "tcp" || proto == "udp" || proto == "sctp", proto != transport.rawValue {
                    throw fail("port \(qualifiers.type == "port" ? "" : "in range ")'\(text)' is \(transport.rawValue)")
                }
            }
            return try wrap { () throws(PredicateBuilder.Failure) in try builder.port(ports, direction, protocol: proto) }
        case "net":
            return try network(text, token: token, qualifiers)
        default:
            // Unqualified, only the forms with `:` or `-` are Ethernet addresses.
            let separated = AddressParser.has(text, UInt8(ascii: ":")) || AddressParser.has(text, UInt8(ascii: "-"))
            if qualifiers.proto == "ether" || qualifiers.proto == "link" || (qualifiers.proto == nil && separated && AddressParser.macAddress(text) != nil) {
                guard let mac = AddressParser.macAddress(text) ?? resolver?.ethernetAddress(ofHost: text) else {
                    throw fail(resolver == nil ? "'\(text)' is not an Ethernet address" : "unknown Ethernet host '\(text)'")
                }
                return try wrap { () throws(PredicateBuilder.Failure) in try builder.etherAddress(mac, direction) }
            }
            // As libpcap: a number alone is the whole 32-bit address (`host 2130706433`,
            // `dst 0x10`), a dotted one with fewer than four parts the network it starts.
            if !AddressParser.has(text, UInt8(ascii: ".")), let value = AddressParser.number(text) {
                return try wrap { () throws(PredicateBuilder.Failure) in
                    try builder.ipv4Address(value, mask: .max, direction, protocol: qualifiers.proto)
                }
            }
            if let (address, bits) = AddressParser.ipv4(text) {
                let mask: UInt32 = bits >= 32 ? .max : ~(UInt32.max >> UInt32(bits))
                return try wrap { () throws(PredicateBuilder.Failure) in
                    try builder.ipv4Address(address, mask: mask, direction, protocol: qualifiers.proto)
                }
            }
            if let words = AddressParser.ipv6Address(text) {
                return try wrap { () throws(PredicateBuilder.Failure) in
                    try builder.ipv6Address(words, mask: [.max, .max, .max, .max], direction, protocol: qualifiers.proto)
                }
            }
            if AddressParser.number(text) != nil {
                throw fail("'\(text)' is not an address; a number needs 'port', 'net' or 'proto' before it")
            }
            if AddressParser.isDottedDecimal(text) { throw fail("invalid IPv4 address '\(text)': each part must be at most 255") }
            return try hostName(text, at: token, direction, protocol: qualifiers.proto)
        }
    }

    /// The ports of `port TEXT` or `portrange TEXT` and the protocols a service name limits
    /// them to. A range's names must agree on the protocol to limit it (libpcap's
    /// pcap_nametoportrange); a number alone is the range of that one port.
    func portMatch(_ text: String, range: Bool, fail: (String) -> FilterError) throws(FilterError) -> (PortMatch, ServiceTransport) {
        func port(_ part: String) -> (UInt32, ServiceTransport)? {
            if let number = AddressParser.number(part) { return (number, .any) }
            return servicePort(part).map { (UInt32($0.number), $0.transport) }
        }
        if !range || AddressParser.number(text) != nil {
            guard let (number, transport) = port(text) else {
                throw fail(range ? "'\(text)' is not a port range such as 6000-6010" : "unknown port '\(text)'")
            }
            guard number <= 0xffff else { throw fail("port \(number) is greater than 65535") }
            return (range ? .range(number, number) : .single(number), transport)
        }
        let ends = text.split(separator: "-", omittingEmptySubsequences: false)
        guard ends.count == 2, let (a, first) = port(String(ends[0])), let (b, second) = port(String(ends[1])) else {
            throw fail("'\(text)' is not a port range such as 6000-6010")
        }
        guard a <= 0xffff, b <= 0xffff else { throw fail("ports must be at most 65535") }
        return (.range(min(a, b), max(a, b)), first == second ? first : .any)
    }

    /// The well-known service names, or the system's through the resolver.
    func servicePort(_ name: String) -> ServicePort? {
        resolver?.port(ofService: name) ?? FilterNames.services[name]
    }

    /// `host NAME`: any of its addresses, those of the qualifier's IP version only.
    func hostName(_ name: String, at token: FilterToken, _ direction: Direction, protocol qualifier: String?) throws(FilterError) -> Predicate {
        guard let resolver else {
            throw error("unknown host '\(name)': names need a resolver (the command line has one); give a numeric address", at: token)
        }
        let wantsIPv4 = qualifier != "ip6"
        let wantsIPv6 = qualifier == nil || qualifier == "ip6"
        var alternatives: [Predicate] = []
        do throws(PredicateBuilder.Failure) {
            for address in resolver.addresses(ofHost: name) {
                switch address {
                case .ipv4(let value) where wantsIPv4:
                    alternatives.append(try builder.ipv4Address(value, mask: .max, direction, protocol: qualifier))
                case .ipv6(let bytes) where wantsIPv6 && bytes.count == 16:
                    let words = (0..<4).map { i in bytes[(4 * i)..<(4 * i + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } }
                    alternatives.append(try builder.ipv6Address(words, mask: [.max, .max, .max, .max], direction, protocol: qualifier))
                default:
                    continue
                }
            }
        } catch {
            throw self.error(error.message, at: token)
        }
        guard !alternatives.isEmpty else { throw self.error("unknown host '\(name)'", at: token) }
        return arena.any(alternatives)
    }

    /// `gateway NAME`: packets sent through the host as a router, its Ethernet address in
    /// the frame and none of its IPv4 addresses in the IP header (libpcap's gen_gateway).
    mutating func gateway(protocol qualifier: String?) throws(FilterError) -> Predicate {
        let keyword = advance()
        let token = advance()
        guard case .word(let name, _) = token.kind else { throw error("'gateway' needs a host name", at: token) }
        guard qualifier == nil || ["ip", "arp", "rarp"].contains(qualifier ?? "") else {
            throw error("'\(qualifier ?? "")' does not take 'gateway'", at: keyword)
        }
        guard builder.linkType == .ethernet else { throw error("'gateway' needs Ethernet frames", at: keyword) }
        guard let resolver else {
            throw error("'gateway' needs a host name resolved to Ethernet and IP addresses: no resolver was given", at: keyword)
        }
        guard let mac = resolver.ethernetAddress(ofHost: name) else {
            throw error("unknown Ethernet host '\(name)' (gateway needs it in /etc/ethers)", at: token)
        }
        let ipv4 = resolver.addresses(ofHost: name).compactMap { address -> UInt32? in
            if case .ipv4(let value) = address { return value } else { return nil }
        }
        guard !ipv4.isEmpty else { throw error("unknown host '\(name)'", at: token) }
        do throws(PredicateBuilder.Failure) {
            let hosts = try ipv4.map { (value: UInt32) throws(PredicateBuilder.Failure) -> Predicate in
                try builder.ipv4Address(value, mask: .max, .either, protocol: qualifier)
            }
            return try arena.and(builder.etherAddress(mac, .either), arena.not(arena.any(hosts)))
        } catch {
            throw self.error(error.message, at: token)
        }
    }

    /// `net a.b.c.d[/len]`, `net a.b.c.d mask m.m.m.m`, `net v6addr/len`.
    mutating func network(_ text: String, token: FilterToken, _ qualifiers: Qualifiers) throws(FilterError) -> Predicate {
        let direction = qualifiers.direction ?? .either
        var prefix: UInt32?
        var explicitMask: UInt32?
        if current.isSymbol("/") {
            _ = advance()
            prefix = try number()
        } else if isWord("mask") {
            _ = advance()
            let maskToken = advance()
            guard let m = maskToken.word.flatMap(AddressParser.ipv4), m.bits == 32 else {
                throw error("a mask must be a dotted IPv4 address such as 255.255.0.0", at: maskToken)
            }
            explicitMask = m.address
        }
        func fail(_ message: String) -> FilterError {
            FilterError(offset: token.offset, length: max(1, current.offset - token.offset), message: message)
        }
        if let words = AddressParser.ipv6Address(text) {
            guard explicitMask == nil else { throw fail("'mask' is for IPv4; write IPv6 networks as address/length") }
            let length = prefix ?? 128
            guard length <= 128 else { throw fail("IPv6 prefix length \(length) is greater than 128") }
            let mask: [UInt32] = (0..<4).map { i in
                let bits = min(32, max(0, Int(length) - 32 * i))
                return bits == 0 ? 0 : ~(UInt32.max >> UInt32(bits)) | (bits == 32 ? .max : 0)
            }
            for i in 0..<4 where words[i] & ~mask[i] != 0 { throw fail("non-network bits set in \"\(text)/\(length)\"") }
            do {
                return try builder.ipv6Address(words, mask: mask, direction, protocol: qualifiers.proto)
            } catch let failure { throw fail(failure.message) }
        }
        // As libpcap: a network given as one number (`net 10`, `net 0x0a00`, or by name from
        // /etc/networks) is shifted up past its leading zero bytes, and the mask with it:
        // 10.0.0.0/8, 10.0.0.0/16; `loopback`, 127.0.0.0, is matched whole.
        func shortNetwork(_ number: UInt32) throws(FilterError) -> Predicate {
            var network = number, mask = UInt32.max
            while network != 0, network & 0xff00_0000 == 0 {
                network <<= 8
                mask <<= 8
            }
            do {
                return try builder.ipv4Address(network, mask: mask, direction, protocol: qualifiers.proto)
            } catch let failure { throw fail(failure.message) }
        }
        if prefix == nil, explicitMask == nil, !AddressParser.has(text, UInt8(ascii: ".")), let number = AddressParser.number(text) {
            return try shortNetwork(number)
        }
        guard let (address, bits) = AddressParser.ipv4(text) else {
            if AddressParser.isDottedDecimal(text) { throw fail("invalid IPv4 address '\(text)': each part must be at most 255") }
            guard let resolver else { throw fail("'\(text)' is not a network number; names need a resolver (the command line has one)") }
            guard prefix == nil, explicitMask == nil else { throw fail("a network name takes no /length or mask") }
            guard let network = resolver.network(named: text), network != 0 else { throw fail("unknown network '\(text)'") }
            return try shortNetwork(network)
        }
        let mask: UInt32
        if let prefix {
            guard prefix <= 32 else { throw fail("IPv4 prefix length \(prefix) is greater than 32") }
            mask = prefix == 0 ? 0 : ~(UInt32.max >> prefix)
        } else if let explicitMask {
            mask = explicitMask
        } else {
            mask = bits >= 32 ? .max : ~(UInt32.max >> UInt32(bits))
        }
        if address & ~mask != 0 { throw fail("non-network bits set in \"\(text)\"") }
        do {
            return try builder.ipv4Address(address, mask: mask, direction, protocol: qualifiers.proto)
        } catch let failure { throw fail(failure.message) }
    }
}
