#if os(Linux)
import Glibc
import Synchronization

/// The tracing filesystem, where tracepoint ids live (`events/<category>/<name>/id`).
/// Found where it is mounted, at /sys/kernel/tracing or under debugfs; mounted at
/// /sys/kernel/tracing when it is nowhere, as bpftool and perf do.
public enum Tracefs {
    private static let found = Mutex<String?>(nil)

    /// The mount point, mounting tracefs if needed.
    public static func root() throws(BPFError) -> String {
        if let cached = cachedRoot() { return cached }
        let root = try locate()
        remember(root)
        return root
    }

    // The lock's closures stay out of typed-throws functions (see KernelFile.readFully).
    @inline(never)
    private static func cachedRoot() -> String? { found.withLock { $0 } }

    @inline(never)
    private static func remember(_ root: String) { found.withLock { $0 = root } }

    /// Where tracefs is mounted or can be found, without mounting it.
    @inline(never)
    private static func mounted() -> String? {
        if let mounts = try? KernelFile.text("/proc/self/mounts") {
            for line in mounts.split(separator: "\n") {
                let fields = line.split(separator: " ")
                if fields.count > 2, fields[2] == "tracefs" { return String(fields[1]) }
            }
        }
        for candidate in ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"] where KernelFile.exists(candidate + "/events") {
            return candidate
        }
        return nil
    }

    private static func locate() throws(BPFError) -> String {
        if let root = mounted() { return root }
        let target = "/sys/kernel/tracing"
        guard mount("tracefs", target, "tracefs", 0, nil) == 0 else {
            let code = errno
            let cause = code == EPERM
                ? "mounting it needs CAP_SYS_ADMIN"
                : code == ENODEV ? "the kernel has no tracefs (CONFIG_TRACING is off)" : "mount it with: mount -t tracefs tracefs \(target)"
            throw BPFError(operation: "mount(tracefs)", errno: code, subject: target,
                           detail: "tracefs is not mounted and could not be mounted: \(cause)")
        }
        return target
    }

    /// The id of tracepoint `category:name`, which perf_event_open takes as `config`.
    public static func tracepointID(category: String, name: String) throws(BPFError) -> UInt64 {
        try KernelFile.number(try eventDirectory(category: category, name: name) + "/id")
    }

    /// The text of tracepoint `category:name`'s format file: the fields of its record.
    public static func tracepointFormat(category: String, name: String) throws(BPFError) -> String {
        try KernelFile.text(try eventDirectory(category: category, name: name) + "/format")
    }

    private static func eventDirectory(category: String, name: String) throws(BPFError) -> String {
        guard !category.isEmpty, !name.isEmpty, !category.contains("/"), !name.contains("/"),
              category != "..", name != ".." else {
            throw BPFError(operation: "tracepoint", errno: EINVAL, subject: "\(category)/\(name)",
                           detail: "a tracepoint is named by a category and a name without slashes, e.g. syscalls and sys_enter_openat")
        }
        let root = try root()
        let directory = "\(root)/events/\(category)/\(name)"
        guard KernelFile.exists(directory) else {
            let categoryExists = KernelFile.exists("\(root)/events/\(category)")
            let detail = categoryExists
                ? "no tracepoint '\(name)' in category '\(category)' (see \(root)/events/\(category))"
                : "no tracepoint category '\(category)' (see \(root)/available_events)"
            throw BPFError(operation: "tracepoint", errno: ENOENT, subject: "\(category)/\(name)", detail: detail)
        }
        return directory
    }
}
#endif
