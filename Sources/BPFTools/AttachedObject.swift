#if os(Linux)
import BPFLinux

/// How often a tool's programs ran, as the kernel counts it.
public struct ProgramRunCounts: Sendable, Equatable {
    /// Runs, counted only while run statistics are on (BPF_ENABLE_STATS or the
    /// kernel.bpf_stats_enabled sysctl); 0 otherwise.
    public var runs: UInt64 = 0
    /// Runs the kernel skipped because another BPF program was already running on that CPU
    /// (`recursion_misses`): events never produced, unlike ring buffer losses.
    public var missed: UInt64 = 0
}

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

    /// The kernel's run counts of the object's programs, summed.
    func runCounts() throws(BPFError) -> ProgramRunCounts {
        var counts = ProgramRunCounts()
        for program in object.programs.values {
            let info = try program.info()
            counts.runs &+= info.runCount
            counts.missed &+= info.recursionMisses
        }
        return counts
    }

    func close() {
        for link in links { link.close() }
        links = []
        object.close()
    }

    deinit { close() }
}
#endif
