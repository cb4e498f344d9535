#if os(Linux)
import BPFInstructions
import BPFObject
import CBPFLinux
import Glibc

/// A program loaded into the kernel, owned through its file descriptor: closed by `close()`
/// or when the last reference goes away (the kernel keeps the program while a link, pin or
/// program array holds it).
public final class KernelProgram: Sendable, CustomStringConvertible {
    public let fileDescriptor: FileDescriptor
    /// The kernel's name (at most 15 characters).
    public let name: String
    public let type: ProgramType?
    /// The kernel's id (what bpftool shows).
    public let id: UInt32
    /// The 8-byte tag bpftool prints, a hash of the translated instructions.
    public let tag: [UInt8]
    /// The tag in hex, as bpftool prints it.
    public var tagText: String { ProgramInfo.hex(tag) }
    /// Bytes of machine code from the JIT (0 when it is off).
    public let jitedSize: Int
    /// Bytes of the instructions after the verifier's rewriting.
    public let translatedSize: Int
    /// Instructions the verifier processed.
    public let verifiedInstructions: Int
    /// The verifier's log, when `LoadOptions.logLevel` asked for one.
    public let verifierLog: String?

    /// How to load: the log, and the attributes a `Program` alone does not carry.
    public struct LoadOptions: Sendable, Hashable {
        /// 0: a log only to explain a failure; 1 or 2: always, kept in `verifierLog`
        /// (2 is verbose); add 4 for statistics.
        public var logLevel: UInt32
        /// The first log buffer's size when `logLevel` > 0; grows up to 16 MiB.
        public var logSize: Int
        /// `prog_flags` (BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS, ...), added to the spec's.
        public var flags: UInt32
        public var kernelVersion: UInt32?
        public var interfaceIndex: UInt32
        /// Overrides the BTF id found from the section name (fentry, tp_btf, lsm, iter).
        public var attachBTFID: UInt32?
        /// The BTF object (module) or target program that `attachBTFID` belongs to.
        public var attachFD: Int32?

        public init(logLevel: UInt32 = 0, logSize: Int = 256 * 1024, flags: UInt32 = 0, kernelVersion: UInt32? = nil,
                    interfaceIndex: UInt32 = 0, attachBTFID: UInt32? = nil, attachFD: Int32? = nil) {
            self.logLevel = logLevel
            self.logSize = logSize
            self.flags = flags
            self.kernelVersion = kernelVersion
            self.interfaceIndex = interfaceIndex
            self.attachBTFID = attachBTFID
            self.attachFD = attachFD
        }
    }

    // MARK: Loading

    /// Loads `attributes` (BPF_PROG_LOAD). A failure is retried with a verifier log (level
    /// 1 or more, the buffer growing up to 16 MiB) and the error carries the log and the
    /// failing instruction, with its source line when `attributes.lineInfo` covers it.
    public convenience init(_ attributes: SystemCall.ProgramAttributes, logSize: Int = 256 * 1024) throws(BPFError) {
        let (fd, log) = try KernelProgram.load(attributes, logSize: logSize)
        try self.init(fileDescriptor: fd, verifierLog: log)
    }

    /// Loads a program built or assembled in Swift.
    public convenience init(_ program: Program, type: ProgramType, name: String = "", license: String = "GPL",
                            expectedAttachType: AttachType? = nil, options: LoadOptions = LoadOptions()) throws(BPFError) {
        var attributes = SystemCall.ProgramAttributes(
            type: type, instructions: program.slots, license: license, name: name, expectedAttachType: expectedAttachType,
            flags: options.flags, kernelVersion: options.kernelVersion ?? 0, interfaceIndex: options.interfaceIndex,
            attachBTFID: options.attachBTFID ?? 0, attachFD: options.attachFD, logLevel: options.logLevel)
        attributes.logLevel = options.logLevel
        try self.init(attributes, logSize: options.logSize)
    }

    /// Loads a program of an object. `maps` are the object's maps in `ObjectFile.maps` order
    /// (nil for maps the program does not use), as the spec's map references index them.
    /// `btf` is the object's BTF loaded into the kernel: with it the program gets its
    /// function and line info, and the kernel applies its CO-RE relocations.
    public convenience init(_ spec: ProgramSpec, maps: [Map?] = [], btf: LoadedBTF? = nil,
                            options: LoadOptions = LoadOptions()) throws(BPFError) {
        let attributes = try KernelProgram.attributes(for: spec, maps: maps, btf: btf, options: options)
        try self.init(attributes, logSize: options.logSize)
    }

    /// Takes ownership of a program descriptor and asks the kernel what it is.
    public init(fileDescriptor: FileDescriptor, verifierLog: String? = nil) throws(BPFError) {
        try SystemCall.expect(.program, fd: fileDescriptor.rawValue)
        let info = try SystemCall.programInfo(fd: fileDescriptor.rawValue)
        self.fileDescriptor = fileDescriptor
        self.verifierLog = verifierLog
        name = info.name
        type = info.type
        id = info.id
        tag = info.tag
        jitedSize = Int(info.jitedSize)
        translatedSize = Int(info.translatedSize)
        verifiedInstructions = Int(info.verifiedInstructions)
    }

    /// Opens the program with this id (BPF_PROG_GET_FD_BY_ID).
    public convenience init(id: UInt32) throws(BPFError) {
        try self.init(fileDescriptor: SystemCall.fileDescriptor(of: .program, id: id))
    }

    /// Opens the program pinned at `path` (BPF_OBJ_GET).
    public convenience init(pinnedAt path: String) throws(BPFError) {
        let fd = try SystemCall.openPinned(at: path)
        do { try self.init(fileDescriptor: fd) } catch {
            var error = error
            error.subject = path
            throw error
        }
    }

    /// Closes the descriptor now; the program lives on while something else holds it.
    public func close() { fileDescriptor.close() }

    public var description: String {
        "\(type?.kernelName ?? "unknown") program '\(name)' id \(id) tag \(ProgramInfo.hex(tag))"
    }

    /// The kernel's current account of the program (run statistics, map ids, ...).
    public func info() throws(BPFError) -> ProgramInfo { try SystemCall.programInfo(fd: fileDescriptor.rawValue) }

    /// The instructions after the verifier's rewriting, as `bpftool prog dump xlated` reads them.
    public func translatedInstructions() throws(BPFError) -> [RawInstruction] {
        try SystemCall.translatedInstructions(fd: fileDescriptor.rawValue)
    }

    // MARK: Test runs

    /// Runs the program once or `repeatCount` times on `data` (and `context`) in the kernel
    /// (BPF_PROG_TEST_RUN): socket filters, XDP, TC, cgroup skb, flow dissector, raw
    /// tracepoints (context only), syscall programs (context only), struct_ops, netfilter.
    /// Syscall and raw tracepoint programs take only a context (written back in place for
    /// syscall programs) and run once.
    public func testRun(data: [UInt8] = [], context: [UInt8]? = nil, repeat repeatCount: UInt32 = 1,
                        dataOutCapacity: Int? = nil, flags: UInt32 = 0, cpu: UInt32 = 0) throws(BPFError) -> SystemCall.TestRunResult {
        let contextOnly = type == .syscall || type == .rawTracepoint || type == .rawTracepointWritable
        do {
            return try SystemCall.testRun(program: fileDescriptor.rawValue, SystemCall.TestRunOptions(
                data: data, dataOutCapacity: dataOutCapacity, context: context, contextOutCapacity: contextOnly ? 0 : nil,
                repeatCount: repeatCount > 1 ? repeatCount : 0, flags: flags, cpu: cpu))
        } catch {
            var error = error
            if error.subject == nil { error.subject = name }
            throw error
        }
    }

    // MARK: Loading, in steps

    static func load(_ attributes: SystemCall.ProgramAttributes, logSize: Int) throws(BPFError) -> (FileDescriptor, String?) {
        var firstError: BPFError
        if attributes.logLevel > 0 {
            do { return try loadWithLog(attributes, size: max(logSize, 1024)) } catch { firstError = error }
        } else {
            do { return (try SystemCall.loadProgram(attributes), nil) } catch { firstError = error }
        }
        if firstError.errno == EPERM || (firstError.log != nil && firstError.errno != ENOSPC) {
            throw located(firstError, attributes: attributes)
        }
        var retry = attributes
        retry.logLevel = max(attributes.logLevel, 1)
        do {
            let (fd, _) = try loadWithLog(retry, size: max(logSize, 64 * 1024))
            // Loaded once the log had room; an error without a log would have said no more.
            return (fd, nil)
        } catch {
            throw located(error, attributes: attributes)
        }
    }

    /// Loads with a log buffer, growing it ×4 on ENOSPC up to 16 MiB. At the limit the
    /// kernel keeps the log's end, which is where the failure is.
    static func loadWithLog(_ attributes: SystemCall.ProgramAttributes, size: Int) throws(BPFError) -> (FileDescriptor, String?) {
        var size = min(size, SystemCall.maximumLogSize)
        while true {
            var buffer = [UInt8](repeating: 0, count: size)
            do {
                return try buffer.withMutableBuffer { log throws(BPFError) in
                    let fd = try SystemCall.loadProgram(attributes, log: log)
                    return (fd, SystemCall.logText(log))
                }
            } catch where error.errno == ENOSPC && size < SystemCall.maximumLogSize {
                size = min(size * 4, SystemCall.maximumLogSize)
            }
        }
    }

    /// Adds the failing instruction, found from the verifier log, to a load error.
    static func located(_ error: BPFError, attributes: SystemCall.ProgramAttributes) -> BPFError {
        var error = error
        guard let log = error.log, let index = VerifierLog.failingInstructionIndex(in: log) else { return error }
        error.failingInstruction = VerifierLog.describe(instruction: index, in: attributes.instructions,
                                                         lineInfo: attributes.lineInfo, log: log)
        return error
    }

    /// The load attributes for an object's program, as libbpf would send them.
    static func attributes(for spec: ProgramSpec, maps: [Map?], btf: LoadedBTF?,
                           options: LoadOptions) throws(BPFError) -> SystemCall.ProgramAttributes {
        if let problem = spec.validationError {
            throw BPFError(operation: "BPF_PROG_LOAD", errno: EINVAL, subject: spec.name,
                           detail: "the program's instructions do not decode: \(problem)")
        }
        var fdArray: [Int32] = []
        for relocation in spec.relocations {
            switch relocation.target {
            case .map(let index), .mapValue(let index, _), .kconfig(_, let index, _):
                guard index < maps.count, maps[index] != nil else {
                    throw BPFError(operation: "BPF_PROG_LOAD", errno: EBADF, subject: spec.name,
                                   detail: "instruction \(relocation.instruction) uses map #\(index) of the object, which was not given")
                }
            case .kernelFunction(let name), .kernelVariable(let name):
                throw BPFError(operation: "BPF_PROG_LOAD", errno: EOPNOTSUPP, subject: spec.name,
                               detail: "instruction \(relocation.instruction) refers to kernel symbol '\(name)' (__ksym), which this loader does not resolve yet")
            case .subprogramCall, .functionAddress:
                break
            }
        }
        fdArray = maps.map { $0?.fileDescriptor.rawValue ?? -1 }

        var attachBTFID = options.attachBTFID ?? 0
        if options.attachBTFID == nil, let target = spec.attachTarget, needsAttachBTFID(spec) {
            attachBTFID = try KernelBTF.attachID(for: spec, target: target)
        }
        let useBTF = btf != nil
        return SystemCall.ProgramAttributes(
            type: spec.type, instructions: spec.instructions, license: spec.license ?? "", name: spec.name,
            expectedAttachType: spec.expectedAttachType, flags: spec.loadFlags | options.flags,
            kernelVersion: options.kernelVersion ?? spec.kernelVersion ?? 0, interfaceIndex: options.interfaceIndex,
            btfFD: btf?.fileDescriptor.rawValue, functionInfo: useBTF ? spec.functionInfo : [],
            lineInfo: useBTF ? spec.lineInfo : [], coreRelocations: useBTF ? spec.coreRelocations : [],
            attachBTFID: attachBTFID, attachFD: options.attachFD, fdArray: fdArray, logLevel: options.logLevel)
    }

    /// Tracing, LSM and BTF-enabled raw tracepoint programs name a kernel function or type.
    static func needsAttachBTFID(_ spec: ProgramSpec) -> Bool {
        switch spec.type {
        case .tracing, .lsm: return true
        default: return false
        }
    }
}

extension ProgramInfo {
    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
#endif
