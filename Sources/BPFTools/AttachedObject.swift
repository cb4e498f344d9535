#if os(Linux)
import BPFLinux

/// A tool's loaded object with its programs attached: what every tool holds, released
/// together (links first, then the object).
final class AttachedObject {
    private let object: ObjectCollection
    private var links: [Link]

    /// Attaches with `attach`; if that fails the object is released and the kernel's
    /// refusal explained for `tool`.
    init(tool: String, object: ObjectCollection, attach: () throws(BPFError) -> [Link]) throws(ToolError) {
        self.object = object
        do {
            links = try attach()
        } catch {
            object.close()
            throw ToolError(tool: tool, error)
        }
    }

    /// Runs the kernel skipped because another BPF program was already running on that CPU
    /// (its `recursion_misses`): events that were never produced, unlike ring buffer losses.
    func missedRuns() throws(BPFError) -> UInt64 {
        var total: UInt64 = 0
        for program in object.programs.values { total &+= try program.info().recursionMisses }
        return total
    }

    func close() {
        for link in links { link.close() }
        links = []
        object.close()
    }

    deinit { close() }
}
#endif
