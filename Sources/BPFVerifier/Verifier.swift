import BPFInstructions
import BPFObject

/// Verifies programs: `Verifier.verify` explores every path of a program and either returns
/// a `VerifiedProgram` or throws a `Rejection` that says why not.
public enum Verifier {
    public struct Options: Sendable {
        /// Instructions analysed before giving up, as the kernel's BPF_COMPLEXITY_LIMIT_INSNS.
        public var complexityLimit: Int
        /// Record the state before every analysed instruction (for `--log 2`).
        public var recordsStates: Bool
        /// Let programs read stack bytes they never wrote (as unknown numbers), as the kernel
        /// does for privileged loaders (CAP_PERFMON); off, such reads are refused.
        public var allowsUninitializedStackReads: Bool
        /// Helpers a host adds (or redefines) by id, for programs that run in its VM.
        public var helpers: [Int32: HelperPrototype]
        /// Compare only the numbers some check relied on when pruning (the kernel's precision
        /// tracking); off, every number is compared by its range, which prunes less.
        public var tracksPrecision: Bool
        /// For a tracepoint program: the record of the tracepoint it is for, from tracefs; reads
        /// past its end are refused (the kernel refuses to attach such a program).
        public var tracepointFormat: TracepointFormat?
        /// The kernel's types (vmlinux BTF), for pointers to kernel structs (bpf_get_current_task_btf);
        /// without them, programs that get such a pointer are refused.
        public var kernelTypes: KernelTypes?

        public init(complexityLimit: Int = 1_000_000, recordsStates: Bool = false, allowsUninitializedStackReads: Bool = true,
                    helpers: [Int32: HelperPrototype] = [:], tracksPrecision: Bool = true,
                    tracepointFormat: TracepointFormat? = nil, kernelTypes: KernelTypes? = nil) {
            self.kernelTypes = kernelTypes
            self.complexityLimit = complexityLimit
            self.recordsStates = recordsStates
            self.allowsUninitializedStackReads = allowsUninitializedStackReads
            self.helpers = helpers
            self.tracksPrecision = tracksPrecision
            self.tracepointFormat = tracepointFormat
        }
    }

    /// Verifies `program` as `kind`. `maps` are the maps its `lddw` instructions name, by
    /// their immediate (the map index of an object, or a map fd); `lineInfo` locates rejections.
    public static func verify(
        _ program: Program, as kind: ProgramKind, maps: [Int32: MapInfo] = [:], lineInfo: [BTFExt.LineInfo] = [],
        options: Options = Options()
    ) throws(Rejection) -> VerifiedProgram {
        let analysis = Analysis(program: program, kind: kind, maps: maps, lineInfo: lineInfo, options: options)
        let start = ContinuousClock.now
        try analysis.run()
        var statistics = analysis.statistics
        statistics.duration = ContinuousClock.now - start
        return VerifiedProgram(program: program, kind: kind, statistics: statistics, stateLog: analysis.stateLog,
                               contextAccesses: analysis.contextAccesses)
    }

    /// Verifies a program of an object, with its maps and line info; `btf`, the object's,
    /// describes the maps' values (where their spin locks are).
    public static func verify(_ spec: ProgramSpec, maps: [MapSpec], btf: BTF? = nil, kind: ProgramKind? = nil,
                              options: Options = Options()) throws(Rejection) -> VerifiedProgram {
        guard let program = spec.program else {
            var reason = "no instructions"
            if let error = spec.validationError { reason = "\(error)" }
            throw Rejection(kind: .invalidInstruction, index: spec.validationError?.index ?? 0, instruction: "",
                            message: "the program does not decode: \(reason)")
        }
        var byIndex: [Int32: MapInfo] = [:]
        for (index, map) in maps.enumerated() { byIndex[Int32(index)] = MapInfo(map, btf: btf) }
        return try verify(program, as: kind ?? .kernel(spec.type), maps: byIndex, lineInfo: spec.lineInfo, options: options)
    }
}

/// What an analysis cost.
public struct VerifierStatistics: Sendable, Hashable {
    /// Instructions analysed, over all paths (the kernel's "processed N insns").
    public var instructionsAnalysed = 0
    /// States recorded at jump targets for pruning.
    public var states = 0
    /// The most recorded states whose exploration was under way at once.
    public var peakStates = 0
    /// Paths cut short because a recorded state covered them.
    public var prunedPaths = 0
    public var duration: Duration = .zero
}

/// A program the verifier accepted, with the kind it was verified as. Only the verifier
/// makes one, so code that takes a `VerifiedProgram` knows that the proof was done.
public struct VerifiedProgram: Sendable {
    public let program: Program
    public let kind: ProgramKind
    public let statistics: VerifierStatistics
    /// The state before each analysed instruction, when `Options.recordsStates` was set.
    public let stateLog: [(index: Int, state: String)]
    /// The slots whose loads and stores go through the context pointer (r1 at entry), each
    /// at the constant offset in its instruction: what a runtime rewrites for its own layout
    /// of the context, as the kernel's convert_ctx_access does.
    public let contextAccesses: [Int]

    fileprivate init(program: Program, kind: ProgramKind, statistics: VerifierStatistics,
                     stateLog: [(index: Int, state: String)], contextAccesses: [Int]) {
        self.program = program
        self.kind = kind
        self.statistics = statistics
        self.stateLog = stateLog
        self.contextAccesses = contextAccesses
    }
}
