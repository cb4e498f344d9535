#if os(Linux)
import BPFLinux

/// runqlat: how long runnable tasks wait for a CPU, as a log2 histogram (raw tracepoints
/// sched_wakeup, sched_wakeup_new and sched_switch).
public enum RunQueueLatency {
    public static let tool = "runqlat"

    /// `pid`: only this process's threads; `milliseconds`: count in ms rather than µs.
    public static func start(pid: Int32? = nil, milliseconds: Bool = false) throws(ToolError) -> HistogramTracer {
        var constants = RunqlatSkeleton.Constants()
        constants.target_pid = pid
        constants.milliseconds = milliseconds ? 1 : 0
        let skeleton = try loadSkeleton(tool: tool) { try RunqlatSkeleton(constants: constants) }
        return try HistogramTracer(tool: tool, unit: milliseconds ? "msecs" : "usecs", object: skeleton.collection,
                                   attach: skeleton.attach, histogram: skeleton.maps.histogram)
    }
}

/// biolatency: block device I/O latency from issue to completion, as a log2 histogram (raw
/// tracepoints block_rq_issue and block_rq_complete).
public enum BlockIOLatency {
    public static let tool = "biolatency"

    public static func start(milliseconds: Bool = false) throws(ToolError) -> HistogramTracer {
        var constants = BiolatencySkeleton.Constants()
        constants.milliseconds = milliseconds ? 1 : 0
        let skeleton = try loadSkeleton(tool: tool) { try BiolatencySkeleton(constants: constants) }
        return try HistogramTracer(tool: tool, unit: milliseconds ? "msecs" : "usecs", object: skeleton.collection,
                                   attach: skeleton.attach, histogram: skeleton.maps.histogram)
    }
}
#endif
