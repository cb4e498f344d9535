#if os(Linux)
import BPFLinux
import Glibc

/// Why a tool could not start or stopped: one sentence that names the tool and says what to
/// do — which privilege is missing, which hook this kernel lacks, or what the kernel said.
public struct ToolError: Error, Sendable, CustomStringConvertible {
    public var tool: String
    public var message: String
    /// The kernel's error underneath, when there is one.
    public var underlying: BPFError?

    public init(tool: String, message: String, underlying: BPFError? = nil) {
        self.tool = tool
        self.message = message
        self.underlying = underlying
    }

    /// The kernel's refusal explained for someone running the tool.
    init(tool: String, _ error: BPFError) {
        self.tool = tool
        underlying = error
        let refused = error.errno == EPERM || error.errno == EACCES && !error.operation.contains("PROG_LOAD")
        switch error.errno {
        case _ where refused:
            let who = geteuid() == 0 ? "as root but without the needed capability" : "as user \(geteuid())"
            message = "the kernel refused \(error.operation) running \(who): tracing needs root, or CAP_BPF with "
                + "CAP_PERFMON (CAP_SYS_ADMIN before Linux 5.8) — run it with sudo (\(error.systemMessage))"
        case ENOENT where error.operation == "tracepoint":
            message = "this kernel has no tracepoint \(error.subject ?? "") that the tool attaches to: \(error.detail ?? error.systemMessage)"
        default:
            message = error.description
        }
    }

    public var description: String { "\(tool): \(message)" }
}
#endif
