#if os(Linux)
import BPFInstructions
import BPFObject
import CBPFLinux
import Glibc

extension SystemCall {
    /// Everything BPF_PROG_LOAD takes.
    public struct ProgramAttributes: Sendable, Hashable {
        public var type: ProgramType
        public var instructions: [RawInstruction]
        public var license: String
        /// The kernel's name: at most 15 characters of letters, digits, '_' and '.'.
        public var name: String
        /// `expected_attach_type`, for the types that need it (cgroup, tracing, lsm, ...).
        public var expectedAttachType: AttachType?
        /// `prog_flags`: BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS, BPF_F_TEST_RND_HI32, ...
        public var flags: UInt32
        /// Only kprobes on kernels before 5.0 check it.
        public var kernelVersion: UInt32
        /// Offloaded programs: the device's interface index.
        public var interfaceIndex: UInt32
        /// The program's BTF, for function and line info.
        public var btfFD: Int32?
        /// BTF func info; `instructionIndex` is what the kernel gets.
        public var functionInfo: [BTFExt.FunctionInfo]
        /// BTF line info; `instructionIndex` is what the kernel gets.
        public var lineInfo: [BTFExt.LineInfo]
        /// CO-RE relocations for the kernel to apply against its own BTF (needs `btfFD`).
        public var coreRelocations: [BTFExt.CORERelocation]
        /// Tracing, LSM and extension programs: the BTF id of the function to attach to.
        public var attachBTFID: UInt32
        /// The BTF object holding `attachBTFID` (a module's BTF) or, for `ext` and
        /// fentry-on-BPF, the target program.
        public var attachFD: Int32?
        /// Maps (and BTF objects of kfuncs) that `BPF_PSEUDO_MAP_IDX` instructions index.
        public var fdArray: [Int32]
        /// The verifier's log level: 0 (only on failure, with a buffer), 1, 2; 4 for stats.
        public var logLevel: UInt32

        public init(type: ProgramType, instructions: [RawInstruction], license: String = "GPL", name: String = "",
                    expectedAttachType: AttachType? = nil, flags: UInt32 = 0, kernelVersion: UInt32 = 0,
                    interfaceIndex: UInt32 = 0, btfFD: Int32? = nil, functionInfo: [BTFExt.FunctionInfo] = [],
                    lineInfo: [BTFExt.LineInfo] = [], coreRelocations: [BTFExt.CORERelocation] = [], attachBTFID: UInt32 = 0, attachFD: Int32? = nil,
                    fdArray: [Int32] = [], logLevel: UInt32 = 0) {
            self.type = type
            self.instructions = instructions
            self.license = license
            self.name = name
            self.expectedAttachType = expectedAttachType
            self.flags = flags
            self.kernelVersion = kernelVersion
            self.interfaceIndex = interfaceIndex
            self.btfFD = btfFD
            self.functionInfo = functionInfo
            self.lineInfo = lineInfo
            self.coreRelocations = coreRelocations
            self.attachBTFID = attachBTFID
            self.attachFD = attachFD
            self.fdArray = fdArray
            self.logLevel = logLevel
        }
    }

    /// BPF_PROG_LOAD. `log`, when given, receives the verifier's NUL-terminated log. The
    /// error carries the log's text when there is one.
    public static func loadProgram(_ attributes: ProgramAttributes,
                                   log: UnsafeMutableBufferPointer<UInt8>? = nil) throws(BPFError) -> FileDescriptor {
        var code: [UInt8] = []
        code.reserveCapacity(attributes.instructions.count * RawInstruction.byteCount)
        for slot in attributes.instructions { slot.append(to: &code, order: .host) }
        let functionInfo = attributes.functionInfo.map {
            bpf_func_info(insn_off: UInt32(truncatingIfNeeded: $0.instructionIndex), type_id: $0.typeID)
        }
        let lineInfo = attributes.lineInfo.map {
            bpf_line_info(insn_off: UInt32(truncatingIfNeeded: $0.instructionIndex), file_name_off: $0.fileNameOffset,
                          line_off: $0.lineOffset, line_col: $0.lineAndColumn)
        }
        let coreRelocations = attributes.coreRelocations.map {
            bpf_core_relo(insn_off: $0.instructionOffset, type_id: $0.typeID, access_str_off: $0.accessStringOffset,
                          kind: bpf_core_relo_kind(rawValue: $0.kind.rawValue))
        }
        let license = Array(attributes.license.utf8CString)
        let subject = attributes.name.isEmpty ? attributes.type.kernelName : "\(attributes.name), \(attributes.type.kernelName)"
        // Copies the kernel reads during the call, freed after it.
        let buffers = RequestBuffers()
        var attr = zeroedAttributes()
        attr.prog_type = attributes.type.rawValue
        attr.insn_cnt = UInt32(truncatingIfNeeded: attributes.instructions.count)
        attr.insns = buffers.address(of: code)
        attr.license = buffers.address(of: license)
        attr.kern_version = attributes.kernelVersion
        attr.prog_flags = attributes.flags
        attr.prog_name = objectName(attributes.name)
        attr.prog_ifindex = attributes.interfaceIndex
        attr.expected_attach_type = attributes.expectedAttachType?.rawValue ?? 0
        attr.prog_btf_fd = UInt32(bitPattern: attributes.btfFD ?? 0)
        attr.attach_btf_id = attributes.attachBTFID
        attr.attach_prog_fd = UInt32(bitPattern: attributes.attachFD ?? 0)
        if !functionInfo.isEmpty {
            attr.func_info_rec_size = UInt32(MemoryLayout<bpf_func_info>.stride)
            attr.func_info_cnt = UInt32(truncatingIfNeeded: functionInfo.count)
            attr.func_info = buffers.address(of: functionInfo)
        }
        if !lineInfo.isEmpty {
            attr.line_info_rec_size = UInt32(MemoryLayout<bpf_line_info>.stride)
            attr.line_info_cnt = UInt32(truncatingIfNeeded: lineInfo.count)
            attr.line_info = buffers.address(of: lineInfo)
        }
        if !attributes.fdArray.isEmpty { attr.fd_array = buffers.address(of: attributes.fdArray) }
        if !coreRelocations.isEmpty {
            attr.core_relo_cnt = UInt32(truncatingIfNeeded: coreRelocations.count)
            attr.core_relos = buffers.address(of: coreRelocations)
            attr.core_relo_rec_size = UInt32(MemoryLayout<bpf_core_relo>.stride)
        }
        if let log, log.count > 0 {
            log[0] = 0
            attr.log_level = max(attributes.logLevel, 1)
            attr.log_size = UInt32(clamping: log.count)
            attr.log_buf = address(log.baseAddress)
        }
        let result: Int32
        do {
            result = try withExtendedLifetime(buffers) { () throws(BPFError) in
                try bpf(BPF_PROG_LOAD, &attr, name: "BPF_PROG_LOAD", subject: subject)
            }
        } catch {
            var error = error
            if let log, let text = logText(log), !text.isEmpty { error.log = text }
            throw error
        }
        return FileDescriptor(owning: result)
    }

    /// Stable copies of the arrays a request points at, freed with the object: simpler than
    /// nesting a `withUnsafeBytes` per array.
    final class RequestBuffers {
        private var allocations: [UnsafeMutableRawBufferPointer] = []

        /// The address of a copy of `array` (0 for an empty one).
        func address<Element>(of array: [Element]) -> UInt64 {
            guard !array.isEmpty else { return 0 }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: array.count * MemoryLayout<Element>.stride,
                                                                alignment: max(MemoryLayout<Element>.alignment, 8))
            array.withUnsafeBytes { buffer.copyMemory(from: $0) }
            allocations.append(buffer)
            return UInt64(UInt(bitPattern: buffer.baseAddress))
        }

        deinit { for buffer in allocations { buffer.deallocate() } }
    }

    /// The text of a NUL-terminated log buffer.
    static func logText(_ buffer: UnsafeMutableBufferPointer<UInt8>) -> String? {
        guard buffer.count > 0 else { return nil }
        let end = buffer.firstIndex(of: 0) ?? buffer.count
        return String(decoding: UnsafeBufferPointer(rebasing: buffer[0..<end]), as: UTF8.self)
    }

    /// What BPF_PROG_TEST_RUN sends.
    public struct TestRunOptions: Sendable, Hashable {
        /// The packet (`data_in`); empty for context-only types (raw tracepoint, syscall).
        public var data: [UInt8]
        /// Room for the packet out; nil for the input size plus room for growing headers.
        public var dataOutCapacity: Int?
        /// The program's context (`ctx_in`): `struct __sk_buff`, `struct xdp_md`, the raw
        /// tracepoint's arguments, the syscall program's argument struct.
        public var context: [UInt8]?
        /// Room for the context out; nil for the input size. 0 sends no `ctx_out`, as syscall
        /// and raw tracepoint programs require; the result's context is then the input buffer
        /// as the kernel left it (syscall programs write their context in place).
        public var contextOutCapacity: Int?
        /// Runs to time; the kernel reports the mean duration. 0 and 1 both run once; some
        /// types (syscall, raw tracepoint) refuse anything but 0.
        public var repeatCount: UInt32
        /// BPF_F_TEST_RUN_ON_CPU, BPF_F_TEST_XDP_LIVE_FRAMES.
        public var flags: UInt32
        public var cpu: UInt32
        public var batchSize: UInt32

        public init(data: [UInt8] = [], dataOutCapacity: Int? = nil, context: [UInt8]? = nil,
                    contextOutCapacity: Int? = nil, repeatCount: UInt32 = 0, flags: UInt32 = 0, cpu: UInt32 = 0,
                    batchSize: UInt32 = 0) {
            self.data = data
            self.dataOutCapacity = dataOutCapacity
            self.context = context
            self.contextOutCapacity = contextOutCapacity
            self.repeatCount = repeatCount
            self.flags = flags
            self.cpu = cpu
            self.batchSize = batchSize
        }
    }

    /// What BPF_PROG_TEST_RUN returns.
    public struct TestRunResult: Sendable, Hashable {
        /// The program's return value (XDP_PASS, TC_ACT_OK, a filter's length, ...).
        public var returnValue: UInt32
        /// Mean nanoseconds per run, as the kernel measured it.
        public var duration: UInt32
        /// The packet after the program (XDP and TC programs may rewrite or resize it).
        public var data: [UInt8]
        /// The context after the program, when one was sent.
        public var context: [UInt8]?
    }

    /// BPF_PROG_TEST_RUN. When the output does not fit, the kernel says how big it is, and
    /// the run is repeated once with that much room.
    public static func testRun(program: Int32, _ options: TestRunOptions) throws(BPFError) -> TestRunResult {
        // Room for programs that grow the packet (bpf_xdp_adjust_head, bpf_skb_change_tail).
        var dataCapacity = options.dataOutCapacity ?? (options.data.isEmpty ? 0 : options.data.count + 256)
        var contextCapacity = options.context.map { options.contextOutCapacity ?? $0.count } ?? 0
        for attempt in 0..<2 {
            var dataOut = [UInt8](repeating: 0, count: dataCapacity)
            var contextOut = [UInt8](repeating: 0, count: contextCapacity)
            var attr = zeroedAttributes()
            attr.test.prog_fd = UInt32(bitPattern: program)
            attr.test.repeat = options.repeatCount
            attr.test.flags = options.flags
            attr.test.cpu = options.cpu
            attr.test.batch_size = options.batchSize
            var context = options.context ?? []
            do {
                try options.data.withBytes { dataIn throws(BPFError) in
                    try dataOut.withMutableBytes { dataOutBytes throws(BPFError) in
                        try context.withMutableBytes { contextIn throws(BPFError) in
                            try contextOut.withMutableBytes { contextOutBytes throws(BPFError) in
                                if !options.data.isEmpty {
                                    attr.test.data_in = address(dataIn.baseAddress)
                                    attr.test.data_size_in = UInt32(truncatingIfNeeded: options.data.count)
                                }
                                if dataCapacity > 0 {
                                    attr.test.data_out = address(dataOutBytes.baseAddress)
                                    attr.test.data_size_out = UInt32(truncatingIfNeeded: dataCapacity)
                                }
                                if options.context != nil {
                                    if contextIn.count > 0 {
                                        attr.test.ctx_in = address(contextIn.baseAddress)
                                        attr.test.ctx_size_in = UInt32(truncatingIfNeeded: contextIn.count)
                                    }
                                    if contextCapacity > 0 {
                                        attr.test.ctx_out = address(contextOutBytes.baseAddress)
                                        attr.test.ctx_size_out = UInt32(truncatingIfNeeded: contextCapacity)
                                    }
                                }
                                try bpf(BPF_PROG_TEST_RUN, &attr, name: "BPF_PROG_TEST_RUN")
                            }
                        }
                    }
                }
            } catch where error.errno == ENOSPC && attempt == 0
                        && (Int(attr.test.data_size_out) > dataCapacity || Int(attr.test.ctx_size_out) > contextCapacity) {
                dataCapacity = max(dataCapacity, Int(attr.test.data_size_out))
                contextCapacity = max(contextCapacity, Int(attr.test.ctx_size_out))
                continue
            }
            let dataCount = min(Int(attr.test.data_size_out), dataCapacity)
            let contextCount = min(Int(attr.test.ctx_size_out), contextCapacity)
            let contextResult = options.context == nil ? nil : contextCapacity == 0 ? context : Array(contextOut[0..<contextCount])
            return TestRunResult(returnValue: attr.test.retval, duration: attr.test.duration,
                                 data: Array(dataOut[0..<dataCount]), context: contextResult)
        }
        throw BPFError(operation: "BPF_PROG_TEST_RUN", errno: ENOSPC,
                       detail: "the output grew again after a retry with the size the kernel asked for")
    }

    /// BPF_PROG_BIND_MAP: keeps `map` alive as long as `program`, though no instruction uses it.
    public static func bindMap(program: Int32, map: Int32) throws(BPFError) {
        var attr = zeroedAttributes()
        attr.prog_bind_map.prog_fd = UInt32(bitPattern: program)
        attr.prog_bind_map.map_fd = UInt32(bitPattern: map)
        try bpf(BPF_PROG_BIND_MAP, &attr, name: "BPF_PROG_BIND_MAP")
    }
}
#endif
