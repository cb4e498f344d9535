#if os(Linux)
import BPFLinux

/// A histogram tool at work: its object loaded and attached, its `histogram` map (the
/// 65 slots of bpf/histogram.h) read and cleared per interval. Released by `close()` or on
/// deinit.
public final class HistogramTracer {
    public let tool: String
    /// What the values count ("usecs", "msecs").
    public let unit: String
    private let attached: AttachedObject
    private let histogram: Map
    /// The sum of the values and their number, for tools that print an average.
    private let sums: (total: BPFSkeletonGlobal<UInt64>, count: BPFSkeletonGlobal<UInt64>)?
    static let slots = 65

    init(tool: String, unit: String, object: ObjectCollection, attach: () throws(BPFError) -> [Link], histogram: Map,
         sums: (total: BPFSkeletonGlobal<UInt64>, count: BPFSkeletonGlobal<UInt64>)? = nil) throws(ToolError) {
        self.tool = tool
        self.unit = unit
        self.histogram = histogram
        self.sums = sums
        attached = try AttachedObject(tool: tool, object: object, attach: attach)
    }

    /// The counts so far.
    public func read() throws(ToolError) -> Log2Histogram {
        var values: [[UInt8]?] = []
        do {
            for slot in 0..<Self.slots { values.append(try histogram.lookup(key: bytes(of: UInt32(slot)))) }
        } catch {
            throw ToolError(tool: tool, error)
        }
        var counts = [UInt64](repeating: 0, count: Self.slots)
        for (slot, value) in values.enumerated() {
            guard let value else { continue }
            guard value.count == 8 else {
                throw ToolError(tool: tool, message: "histogram slot \(slot) holds \(value.count) bytes, not 8")
            }
            counts[slot] = load(UInt64.self, from: value)
        }
        return Log2Histogram(counts: counts)
    }

    /// The sum of the values counted and how many there were, for tools that keep them
    /// (funclatency); nil for the others.
    public func totals() throws(ToolError) -> (total: UInt64, count: UInt64)? {
        guard let sums else { return nil }
        do { return (try sums.total.get(), try sums.count.get()) } catch { throw ToolError(tool: tool, error) }
    }

    /// Starts the next interval from zero.
    public func clear() throws(ToolError) {
        do {
            for slot in 0..<Self.slots {
                try histogram.update(key: bytes(of: UInt32(slot)), value: bytes(of: UInt64(0)))
            }
            try sums?.total.set(0)
            try sums?.count.set(0)
        } catch {
            throw ToolError(tool: tool, error)
        }
    }

    /// Detaches the programs and releases the object.
    public func close() { attached.close() }
}

/// The bytes of a value, as map keys and values take them. Out of line, as `load`: see
/// EventTracer.read.
@inline(never)
func bytes<T: BitwiseCopyable>(of value: T) -> [UInt8] {
    withUnsafeBytes(of: value) { Array($0) }
}

/// A `T` from the start of `bytes`, which the caller has checked are `T`'s size.
@inline(never)
func load<T: BitwiseCopyable>(_ type: T.Type, from bytes: [UInt8]) -> T {
    bytes.withUnsafeBytes { $0.loadUnaligned(as: T.self) }
}
#endif
