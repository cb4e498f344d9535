import BPFObject

/// What a program is verified as: a kernel program type, whose context and helpers follow
/// the kernel's rules, or the VM's plain-memory convention (r1 = input memory of a known
/// size, r2 = that size).
public enum ProgramKind: Hashable, Sendable, CustomStringConvertible {
    case kernel(ProgramType)
    case plainMemory(size: Int)

    /// The types whose context and helpers the verifier knows.
    public static let supportedTypes: [ProgramType] = [
        .socketFilter, .xdp, .schedulerClassifier, .schedulerAction, .cgroupSocketBuffer, .tracepoint,
        .rawTracepoint, .kprobe, .perfEvent,
    ]

    public var description: String {
        switch self {
        case .kernel(let type): type.kernelName
        case .plainMemory(let size): "plain memory (\(size) bytes)"
        }
    }

    var usesSocketBuffer: Bool {
        switch self {
        case .kernel(.socketFilter), .kernel(.schedulerClassifier), .kernel(.schedulerAction),
             .kernel(.cgroupSocketBuffer): true
        default: false
        }
    }

    var isTracing: Bool {
        switch self {
        case .kernel(.tracepoint), .kernel(.rawTracepoint), .kernel(.kprobe), .kernel(.perfEvent): true
        default: false
        }
    }

    /// The range r0 must lie in at exit, where the kernel checks one.
    var returnRange: ClosedRange<UInt64>? {
        switch self {
        case .kernel(.cgroupSocketBuffer): 0...1
        default: nil
        }
    }
}
