#if os(Linux)
import Glibc
import Synchronization

/// The CPUs the kernel could ever bring online, which is how many values a per-CPU map
/// holds for each key (`num_possible_cpus()`, from /sys/devices/system/cpu/possible).
public enum PossibleCPUs {
    public static let path = "/sys/devices/system/cpu/possible"

    /// The count, read once; parse failures throw once per call until one succeeds.
    public static func count() throws(BPFError) -> Int {
        if let cached = cache.withLock({ $0 }) { return cached }
        let text = String(decoding: try readWholeFile(path), as: UTF8.self)
        guard let count = parse(text) else {
            throw BPFError(operation: "read \(path)", errno: EINVAL, detail: "cannot parse the CPU list '\(text)'")
        }
        cache.withLock { $0 = count }
        return count
    }

    private static let cache = Mutex<Int?>(nil)

    /// Counts the CPUs in a list such as "0-3", "0,2-5" or "0-1\n"; nil when malformed.
    public static func parse(_ text: String) -> Int? {
        var total = 0
        let trimmed = text.split(whereSeparator: { $0 == "\n" || $0 == " " }).first ?? ""
        guard !trimmed.isEmpty else { return nil }
        for part in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count == 1 || bounds.count == 2, let low = Int(bounds[0]), low >= 0 else { return nil }
            let high = bounds.count == 2 ? Int(bounds[1]) : low
            guard let high, high >= low, high - low < 1 << 20 else { return nil }
            total += high - low + 1
        }
        return total
    }
}

#endif
