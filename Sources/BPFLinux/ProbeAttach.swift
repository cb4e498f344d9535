#if os(Linux)
import BPFObject
import CBPFLinux
import Glibc

/// Where in a binary a uprobe goes.
public enum UprobeTarget: Sendable, Hashable {
    /// A function by its name in `.symtab` or `.dynsym`, plus a byte offset into it.
    case symbol(String, offset: UInt64 = 0)
    /// A file offset in the binary, as the kernel takes it.
    case fileOffset(UInt64)
}

/// Where in the kernel a kprobe goes.
public enum KprobeTarget: Sendable, Hashable {
    /// A kernel function by name, plus a byte offset into it.
    case symbol(String, offset: UInt64 = 0)
    /// A kernel address.
    case address(UInt64)
}

extension Link {
    /// Attaches a `kprobe`-type program to the entry of a user-space function (a uprobe):
    /// the binary's ELF symbols give the file offset, and a perf event on the uprobe PMU
    /// carries the program. `pid` limits it to one process; nil probes every process that
    /// maps the binary.
    public static func uprobe(_ binary: String, _ target: UprobeTarget, pid: Int32? = nil,
                              program: some AttachableProgram, mode: PerfAttachMode = .automatic) throws(BPFError) -> Link {
        try probe(binary, target, pid: pid, isReturn: false, program: program, mode: mode)
    }

    /// As `uprobe`, on the function's return (a uretprobe): the program sees the return
    /// value in the context's ax register.
    public static func uretprobe(_ binary: String, _ target: UprobeTarget, pid: Int32? = nil,
                                 program: some AttachableProgram, mode: PerfAttachMode = .automatic) throws(BPFError) -> Link {
        try probe(binary, target, pid: pid, isReturn: true, program: program, mode: mode)
    }

    /// Attaches a `kprobe` program to a kernel function's entry, or its return with
    /// `isReturn`, through the kprobe PMU.
    public static func kprobe(_ target: KprobeTarget, isReturn: Bool = false, program: some AttachableProgram,
                              mode: PerfAttachMode = .automatic) throws(BPFError) -> Link {
        let kind = isReturn ? "kretprobe" : "kprobe"
        let hook: String
        switch target {
        case .symbol(let name, let offset): hook = "\(kind) \(name)\(offset == 0 ? "" : "+0x\(String(offset, radix: 16))")"
        case .address(let address): hook = "\(kind) at 0x\(String(address, radix: 16))"
        }
        let pmu = try ProbePMU(named: "kprobe", hook: hook)
        var attr = perf_event_attr()
        attr.type = pmu.type
        attr.config = isReturn ? try pmu.returnBit(hook: hook) : 0
        attr.disabled = 1
        let event: FileDescriptor
        switch target {
        case .symbol(let name, let offset):
            let cName = try OwnedCString(name, for: "perf_event_open")
            attr.config1 = cName.address
            attr.config2 = offset
            event = try openProbe(&attr, pid: -1, hook: hook, cause: { code in
                code == ENOENT || code == EINVAL
                    ? "no kernel function '\(name)' that kprobes may probe (see /proc/kallsyms and tracefs available_filter_functions)" : nil
            })
        case .address(let address):
            attr.config2 = address
            event = try openProbe(&attr, pid: -1, hook: hook, cause: { _ in nil })
        }
        return Link(hook: hook, attachments: [try attachProgram(program.programDescriptor, toPerfEvent: event, mode: mode,
                                                                hook: hook, expected: [.kprobe])])
    }

    private static func probe(_ binary: String, _ target: UprobeTarget, pid: Int32?, isReturn: Bool,
                              program: some AttachableProgram, mode: PerfAttachMode) throws(BPFError) -> Link {
        let kind = isReturn ? "uretprobe" : "uprobe"
        let path = try ProbePMU.resolveBinary(binary, hook: "\(kind) \(binary)")
        let offset: UInt64
        let hook: String
        switch target {
        case .symbol(let name, let extra):
            hook = "\(kind) \(path):\(name)\(extra == 0 ? "" : "+0x\(String(extra, radix: 16))")"
            offset = try ProbePMU.fileOffset(of: name, in: path, hook: hook) &+ extra
        case .fileOffset(let value):
            hook = "\(kind) \(path)+0x\(String(value, radix: 16))"
            offset = value
        }
        let pmu = try ProbePMU(named: "uprobe", hook: hook)
        var attr = perf_event_attr()
        attr.type = pmu.type
        attr.config = isReturn ? try pmu.returnBit(hook: hook) : 0
        attr.disabled = 1
        let cPath = try OwnedCString(path, for: "perf_event_open")
        attr.config1 = cPath.address
        attr.config2 = offset
        let event = try openProbe(&attr, pid: pid ?? -1, hook: hook, cause: { code in
            switch code {
            case ENOENT: "the binary \(path) does not exist"
            case EINVAL: "the kernel refused offset 0x\(String(offset, radix: 16)) in \(path): not in an executable segment, or not an instruction boundary"
            case ESRCH: "no process \(pid ?? -1)"
            default: nil
            }
        })
        return Link(hook: hook, attachments: [try attachProgram(program.programDescriptor, toPerfEvent: event, mode: mode,
                                                                hook: hook, expected: [.kprobe])])
    }

    /// perf_event_open for a probe PMU: every process means pid -1 on CPU 0, as libbpf does
    /// (the probe fires on all CPUs); one process means that pid on any CPU.
    private static func openProbe(_ attr: inout perf_event_attr, pid: Int32, hook: String,
                                  cause: (Int32) -> String?) throws(BPFError) -> FileDescriptor {
        do {
            return try openPerfEvent(&attr, pid: pid, cpu: pid < 0 ? 0 : -1, hook: hook)
        } catch {
            var explained = error
            if let reason = cause(error.errno) { explained.detail = reason }
            throw explained
        }
    }
}

/// A dynamic PMU for probes (/sys/bus/event_source/devices/{kprobe,uprobe}): its perf type,
/// and the `config` bit that makes a return probe.
struct ProbePMU {
    let name: String
    let type: UInt32

    init(named name: String, hook: String) throws(BPFError) {
        self.name = name
        let path = "/sys/bus/event_source/devices/\(name)/type"
        do throws(BPFError) {
            let value = try KernelFile.number(path)
            guard let type = UInt32(exactly: value) else {
                throw BPFError(operation: "read", errno: EINVAL, subject: path, detail: "PMU type \(value) is out of range")
            }
            self.type = type
        } catch where error.errno == ENOENT {
            let feature = name == "kprobe" ? "kprobes are not available on this kernel" : "uprobes are not available on this kernel"
            let config = name == "kprobe" ? "CONFIG_KPROBES / CONFIG_KPROBE_EVENTS" : "CONFIG_UPROBES / CONFIG_UPROBE_EVENTS"
            throw BPFError(operation: "perf_event_open", errno: ENOENT, subject: hook,
                           detail: "\(feature): there is no \(name) PMU in /sys/bus/event_source/devices (\(config) is off); use tracepoints or raw tracepoints instead")
        }
    }

    /// The config bit from `format/retprobe` ("config:0").
    func returnBit(hook: String) throws(BPFError) -> UInt64 {
        let path = "/sys/bus/event_source/devices/\(name)/format/retprobe"
        let text = KernelFile.trimmed(try KernelFile.text(path))
        guard text.hasPrefix("config:"), let bit = UInt64(text.dropFirst("config:".count)), bit < 64 else {
            throw BPFError(operation: "read", errno: EINVAL, subject: path,
                           detail: "unexpected retprobe format '\(text.prefix(40))' for \(hook)")
        }
        return 1 << bit
    }

    /// An absolute path for `binary`: as given when it has a slash, else found on PATH (for
    /// programs) or in the usual library folders (for "libc.so.6" and the like).
    static func resolveBinary(_ binary: String, hook: String) throws(BPFError) -> String {
        if let path = find(binary) { return path }
        throw BPFError(operation: "open", errno: ENOENT, subject: hook,
                       detail: binary.contains("/") ? "no readable file \(binary)" : "'\(binary)' is not on PATH or in the library folders; give its path")
    }

    /// The first readable candidate for `binary`, resolved to an absolute path.
    @inline(never)
    private static func find(_ binary: String) -> String? {
        var candidates: [String] = []
        if binary.contains("/") {
            candidates = [binary]
        } else {
            let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
            let folders = binary.contains(".so")
                ? ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                   "/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib"]
                : path.split(separator: ":").map(String.init)
            candidates = folders.map { "\($0)/\(binary)" }
        }
        for candidate in candidates where access(candidate, R_OK) == 0 {
            guard let resolved = realpath(candidate, nil) else { continue }
            defer { free(resolved) }
            return String(cString: resolved)
        }
        return nil
    }

    /// Whether `symbol` is defined only as a GNU indirect function (STT_GNU_IFUNC).
    @inline(never)
    private static func isIndirect(_ symbol: String, in elf: ELFExecutable) -> Bool {
        guard let symbols = try? elf.symbols(named: symbol), !symbols.isEmpty else { return false }
        return symbols.allSatisfy { $0.kind == .other(10) }
    }

    /// The file offset of function `symbol` in the ELF file at `path`.
    static func fileOffset(of symbol: String, in path: String, hook: String) throws(BPFError) -> UInt64 {
        let bytes = try KernelFile.contents(path)
        let elf: ELFExecutable
        let found: UInt64?
        do {
            elf = try ELFExecutable(parsing: bytes)
            found = try elf.fileOffset(ofSymbol: symbol)
        } catch {
            throw BPFError(operation: "uprobe", errno: ENOEXEC, subject: hook, detail: "cannot read symbols of \(path): \(error)")
        }
        guard let offset = found else {
            if isIndirect(symbol, in: elf) {
                throw BPFError(operation: "uprobe", errno: ENOENT, subject: hook,
                               detail: "'\(symbol)' in \(path) is an indirect function (IFUNC): its symbol is the resolver; probe the implementation it picks (such as __\(symbol)_avx2) or give a file offset")
            }
            let stripped = elf.hasSymbolTable ? "" : " (the binary is stripped: only .dynsym was searched)"
            throw BPFError(operation: "uprobe", errno: ENOENT, subject: hook, detail: "no function '\(symbol)' in \(path)\(stripped)")
        }
        return offset
    }
}
#endif
