/// A power-of-two histogram as bcc's tools keep and print it: `counts[i]` counts the values
/// that need `i` bits (0 and 1 in slot 1, 2–3 in slot 2, 4–7 in slot 3...); slot 0 is unused.
public struct Log2Histogram: Sendable, Hashable, Codable {
    public var counts: [UInt64]

    public init(counts: [UInt64]) { self.counts = counts }

    public var total: UInt64 { counts.reduce(0, &+) }

    /// The range of values slot `i` counts, as bcc labels it.
    public static func range(ofSlot slot: Int) -> (low: UInt64, high: UInt64) {
        guard slot > 0 else { return (0, 0) }
        let high = slot >= 64 ? UInt64.max : (UInt64(1) << UInt64(slot)) - 1
        let low = high >> 1 + 1
        return slot == 1 ? (0, 1) : (low, high)
    }

    /// The histogram's lines, laid out as bcc's `print_log2_hist` lays them out: a header
    /// naming `unit`, then one line per slot up to the last non-zero one, with a bar of up
    /// to 40 stars (20, and wider number columns, when values need more than 32 bits).
    /// No lines at all when every count is zero.
    public func lines(unit: String) -> [String] {
        guard let last = counts.lastIndex(where: { $0 > 0 }), last > 0 else { return [] }
        let largest = counts.max() ?? 0
        let wide = last > 32
        let numberWidth = wide ? 20 : 10
        let barWidth = wide ? 20 : 40
        var lines = [(wide ? String(repeating: " ", count: 15) + pad(unit, 29) : "     " + pad(unit, 19)) + " : count     distribution"]
        for slot in 1...last {
            let (low, high) = Self.range(ofSlot: slot)
            let count = counts[slot]
            let stars = min(barWidth, Int((Double(barWidth) * Double(count) / Double(largest)).rounded(.down)))
            lines.append(padLeft(String(low), numberWidth) + " -> " + pad(String(high), numberWidth) + " : " + pad(String(count), 8)
                         + " |" + pad(String(repeating: "*", count: stars), barWidth) + "|")
        }
        return lines
    }
}
