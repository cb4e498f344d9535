import ClassicBPF
import PacketFilter
import Testing

/// Random and mutated expressions: the compiler only ever returns a program or an error,
/// and every program passes ClassicBPF's validator (ClassicProgram validates on creation;
/// this re-validates the bytes to be sure).
@Suite("Filter fuzzing")
struct FuzzTests {
    /// A small seeded generator so that a failure can be replayed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
    }

    static let words = [
        "host", "net", "port", "portrange", "src", "dst", "ether", "ip", "ip6", "arp", "rarp", "tcp", "udp", "icmp",
        "icmp6", "sctp", "igmp", "proto", "protochain", "vlan", "mpls", "pppoes", "less", "greater", "len", "and", "or",
        "not", "&&", "||", "!", "(", ")", "[", "]", ":", "+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", "=", "!=",
        "<", ">", "<=", ">=", "1.2.3.4", "10/8", "::1", "fe80::/10", "0:1:2:3:4:5", "80", "0", "4", "2", "65535",
        "4294967295", "99999999999", "1-2", "tcpflags", "tcp-syn", "broadcast", "multicast", "mask", "255.0.0.0",
        "gateway", "\\tcp", "llc", "foo", "0x", "08", "1.2.3.4.5", "::", "a:b", "ip[", "]", "0/0",
    ]

    static func check(_ text: String) {
        for linkType in FilterLinkType.allCases {
            for optimize in [true, false] {
                do {
                    let program = try PacketFilter.compile(text, linkType: linkType, optimize: optimize)
                    #expect((try? ClassicProgram(program.raw)) != nil, "invalid program for '\(text)'")
                } catch {
                    #expect(error.offset >= 0 && error.offset <= text.utf8.count, "error outside the text for '\(text)'")
                }
            }
        }
    }

    @Test("random token sequences")
    func randomTokens() {
        var rng = SplitMix(state: 0x5eed)
        for _ in 0..<3000 {
            let count = Int.random(in: 1...12, using: &rng)
            let text = (0..<count).map { _ in Self.words.randomElement(using: &rng) ?? "" }.joined(separator: " ")
            Self.check(text)
        }
    }

    @Test("mutated valid expressions")
    func mutations() {
        var rng = SplitMix(state: 0xf11e)
        let seeds = AgreementTests.expressions
        for _ in 0..<3000 {
            var bytes = Array((seeds.randomElement(using: &rng) ?? "ip").utf8)
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let position = Int.random(in: 0...bytes.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0 where position < bytes.count: bytes.remove(at: position)
                case 1: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: position)
                default:
                    let word = Array((Self.words.randomElement(using: &rng) ?? "").utf8)
                    bytes.insert(contentsOf: word + [0x20], at: position)
                }
            }
            Self.check(String(decoding: bytes, as: UTF8.self))
            _ = PacketFilter.fuzz(bytes)
        }
    }

    @Test("deep nesting and long expressions are errors, not crashes")
    func limits() {
        Self.check(String(repeating: "(", count: 10_000) + "ip" + String(repeating: ")", count: 10_000))
        Self.check(String(repeating: "not ", count: 10_000) + "ip")
        Self.check(Array(repeating: "ip", count: 5_000).joined(separator: " and "))
        Self.check(Array(repeating: "len", count: 5_000).joined(separator: " + ") + " > 1")
        Self.check(Array(repeating: "tcp port 80", count: 300).joined(separator: " or "))
    }

    /// Up to the limits, past libpcap's 100 levels and 450 hosts, the recursion fits a
    /// test thread's stack in a debug build. Arithmetic counts a level per precedence
    /// level, six per parenthesis.
    @Test("the largest nesting and the most primitives allowed compile")
    func atTheLimits() throws {
        let deepest = 127
        let expressions = [
            String(repeating: "(", count: deepest) + "ip" + String(repeating: ")", count: deepest),
            String(repeating: "not ", count: deepest) + "ip",
            String(repeating: "(", count: 20) + "len" + String(repeating: ")", count: 20) + " > 1",
            Array(repeating: "len", count: deepest).joined(separator: " + ") + " > 1",
            (0..<1000).map { "ether proto \(1600 + $0)" }.joined(separator: " or "),
        ]
        // Unoptimized, 450 hosts need more than classic BPF's 4096 instructions.
        let hosts = (0..<450).map { "host 10.\($0 / 250).\($0 % 250).1" }.joined(separator: " or ")
        for expression in expressions + [hosts] {
            for optimize in expression == hosts ? [true] : [true, false] {
                do {
                    _ = try PacketFilter.compile(expression, optimize: optimize)
                } catch {
                    Issue.record("\(expression.prefix(60))... (optimize \(optimize)): \(error)")
                }
            }
        }
        #expect(throws: FilterError.self) { try PacketFilter.compile(String(repeating: "not ", count: deepest + 1) + "ip") }
        // Too deep with arithmetic inside: the nesting is the expression's, not the arithmetic's.
        let parenthesized = String(repeating: "(", count: deepest + 1) + "tcp[13] & 2 != 0" + String(repeating: ")", count: deepest + 1)
        do {
            _ = try PacketFilter.compile(parenthesized)
            Issue.record("\(deepest + 1) parentheses compiled")
        } catch {
            #expect(error.message.hasPrefix("the expression nests more than 128 levels deep (parentheses, not and arithmetic"), "\(error.message)")
        }
        #expect(throws: FilterError.self) {
            try PacketFilter.compile((0...1000).map { "ether proto \(1600 + $0)" }.joined(separator: " or "))
        }
    }
}
