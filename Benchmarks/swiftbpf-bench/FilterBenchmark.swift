import PacketFilter
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Compile time of filter expressions, beside `tcpdump -d` for the same expression. tcpdump's
/// figure is a whole process (started through sh), so it only says how far apart the two are.
enum FilterBenchmark {
    static let expressions = [
        "tcp port 80",
        "host 10.0.0.1 and (port 80 or port 443)",
        "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn",
        "vlan 10 and ip6 net 2001:db8::/32",
        "not (tcp port 22 or udp port 53) and greater 100",
    ]

    static func run() throws {
        print("filter: compile time per expression (ns), optimized")
        print(pad("expression", 52, left: true) + pad("swiftbpf", 12) + pad("insns", 7) + pad("tcpdump -d", 14) + pad("ratio", 9))
        let candidates: [String] = ["/usr/bin/tcpdump", "/usr/sbin/tcpdump", "/sbin/tcpdump"]
        let tcpdump = candidates.first { (path: String) -> Bool in access(path, X_OK) == 0 }
        for expression in expressions {
            let program = try PacketFilter.compile(expression)
            let ours = try measure { _ = try PacketFilter.compile(expression) }
            var line = pad(expression, 52, left: true) + pad(format(ours, decimals: 0), 12) + pad(String(program.instructions.count), 7)
            if let tcpdump {
                let command = "\(tcpdump) -d -y EN10MB '\(expression)' >/dev/null 2>&1"
                let clock = ContinuousClock()
                var best = Double.infinity
                for _ in 0..<5 {
                    let elapsed = clock.measure { _ = system(command) }
                    best = min(best, nanoseconds(elapsed))
                }
                line += pad(format(best, decimals: 0), 14) + pad(format(best / ours, decimals: 1) + "x", 9)
            } else {
                line += pad("(absent)", 14)
            }
            print(line)
        }
    }
}
