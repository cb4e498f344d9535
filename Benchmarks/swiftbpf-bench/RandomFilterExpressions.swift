/// Filter expressions made at random from common primitives joined by `and`, `or` and `not`,
/// the same on every run (a fixed seed): the compile rows above are short expressions each
/// of one kind, where the optimizer has little to search; these show what longer mixes cost.
struct RandomFilterExpressions {
    static let primitives = [
        "tcp", "udp", "icmp", "ip", "ip6", "arp", "port 80", "port 53", "tcp port 80", "udp port 53",
        "portrange 1000-2000", "host 10.0.0.1", "src net 192.168.0.0/16", "ether broadcast", "ether multicast",
        "ip[8] > 60", "tcp[13] & 2 != 0", "less 80", "esp", "stp", "dst port 443", "icmp6", "greater 1000",
        "ip6 host ::1", "dst host 192.1.2.23", "tcp port 22",
    ]

    /// SplitMix64: a small generator whose sequence is fixed by its seed on every platform.
    var state: UInt64

    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ z >> 30) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ z >> 27) &* 0x94d0_49bb_1331_11eb
        return Int((z ^ z >> 31) % UInt64(bound))
    }

    /// An expression of `count` primitives: one, maybe negated, or two smaller ones joined,
    /// sometimes parenthesized and negated.
    mutating func expression(_ count: Int) -> String {
        if count == 1 {
            let primitive = Self.primitives[next(Self.primitives.count)]
            return next(4) == 0 ? "not " + primitive : primitive
        }
        let left = 1 + next(count - 1)
        var text = "\(expression(left)) \(next(2) == 0 ? "and" : "or") \(expression(count - left))"
        if next(5) < 2 { text = "(\(text))" }
        if next(10) == 0 { text = "not (\(text))" }
        return text
    }

    /// `count` distinct expressions of 3 to 6 primitives.
    static func make(_ count: Int, seed: UInt64) -> [String] {
        var generator = RandomFilterExpressions(state: seed)
        var seen = Set<String>(), made: [String] = []
        while made.count < count {
            let text = generator.expression(3 + generator.next(4))
            if seen.insert(text).inserted { made.append(text) }
        }
        return made
    }
}
