import BPFInstructions
import BPFVM

/// `swiftbpf-bench [suite]`: one table per suite. Always build with `-c release`.
@main
struct SwiftBPFBench {
    static let suites: [String: @Sendable () throws -> Void] = ["vm": VMBenchmark.run, "btf": BTFBenchmark.run, "capture": CaptureBenchmark.run,
                                                                   "cbpf": ClassicBPFBenchmark.run, "load": CollectionBenchmark.run,
                                                                   "kernel": KernelBenchmark.run,
                                                                   "ringbuf": RingBufferBenchmark.run, "filter": FilterBenchmark.run,
                                                                   "jit": JITBenchmark.run, "verifier": VerifierBenchmark.run,
                                                                   "tools": ToolsBenchmark.run,
                                                                   "runtime": RuntimeBenchmark.run,
                                                                   "maps": UserspaceMapBenchmark.run]

    static func main() throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let chosen = arguments.isEmpty ? suites.keys.sorted() : arguments
        for name in chosen {
            guard let suite = suites[name] else {
                print("swiftbpf-bench: unknown suite '\(name)'; suites: \(suites.keys.sorted().joined(separator: ", "))")
                exit(code: 2)
            }
            try suite()
        }
    }
}

#if canImport(Glibc)
import Glibc
func exit(code: Int32) -> Never { Glibc.exit(code) }
#elseif canImport(Darwin)
import Darwin
func exit(code: Int32) -> Never { Darwin.exit(code) }
#endif

/// Times `body` over enough repetitions to last about `target`, best of several rounds.
func measure(rounds: Int = 5, target: Duration = .milliseconds(200), _ body: () throws -> Void) rethrows -> Double {
    let clock = ContinuousClock()
    var iterations = 1
    while true {
        let elapsed = try clock.measure { for _ in 0..<iterations { try body() } }
        if elapsed >= target / 10 || iterations >= 1 << 30 { break }
        iterations *= 4
    }
    let scaled = iterations * 10
    var best = Double.infinity
    for _ in 0..<rounds {
        let elapsed = try clock.measure { for _ in 0..<scaled { try body() } }
        best = min(best, nanoseconds(elapsed) / Double(scaled))
    }
    return best
}

func nanoseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) / 1e9
}

/// Right-aligned fixed-point text, as `%.*f` would give, without Foundation.
func format(_ value: Double, decimals: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int((value * scale).rounded())
    var text = String(scaled / Int(scale))
    if decimals > 0 {
        let fraction = String(abs(scaled % Int(scale)))
        text += "." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }
    return text
}

func pad(_ text: String, _ width: Int, left: Bool = false) -> String {
    let padding = String(repeating: " ", count: max(0, width - text.count))
    return left ? text + padding : padding + text
}
