#if os(Linux)
import CBPFLinux
import Glibc

/// The bpf filesystem (bpffs), where maps, programs and links are pinned to outlive the
/// process that made them.
public enum BPFFileSystem {
    /// Where systems mount it.
    public static let defaultRoot = "/sys/fs/bpf"
    /// `BPF_FS_MAGIC`, statfs's type for bpffs.
    static let magic: Int = 0xcafe_4a11

    /// Whether `path` is on a bpf filesystem.
    public static func contains(_ path: String) -> Bool {
        swiftbpf_filesystem_type(path) == magic
    }

    /// Mounts bpffs at `root` unless one is there already (creating the directory).
    public static func mountIfNeeded(at root: String = defaultRoot) throws(BPFError) {
        if contains(root) { return }
        try createDirectories(root, checkFileSystem: false)
        guard mount("bpf", root, "bpf", 0, nil) == 0 else {
            throw BPFError(operation: "mount(bpf)", errno: errno, subject: root,
                           detail: "cannot mount the bpf filesystem (needs CAP_SYS_ADMIN)")
        }
    }

    /// Creates `path` and its missing parents (mode 0700 as bpftool does); the last
    /// existing ancestor must be on bpffs unless `checkFileSystem` is false.
    public static func createDirectories(_ path: String, checkFileSystem: Bool = true) throws(BPFError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        var missing: [String] = []
        for component in path.split(separator: "/") {
            prefix += "/" + component
            var info = stat()
            if stat(prefix, &info) == 0 {
                guard info.st_mode & S_IFMT == S_IFDIR else {
                    throw BPFError(operation: "mkdir", errno: ENOTDIR, subject: prefix, detail: "\(prefix) is not a directory")
                }
            } else {
                missing.append(prefix)
            }
        }
        if checkFileSystem, let first = missing.first {
            let parent = String(first[..<(first.lastIndex(of: "/") ?? first.startIndex)])
            if !contains(parent.isEmpty ? "/" : parent) {
                throw BPFError(operation: "mkdir", errno: EINVAL, subject: path,
                               detail: "\(parent.isEmpty ? "/" : parent) is not in a bpf filesystem (mount -t bpf bpf \(defaultRoot))")
            }
        }
        for directory in missing where mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw BPFError(operation: "mkdir", errno: errno, subject: directory)
        }
    }

    /// Pins `fd` at `path`, mounting bpffs at its default place and creating directories
    /// as needed.
    public static func pin(fd: Int32, at path: String) throws(BPFError) {
        if path.hasPrefix(defaultRoot + "/") { try mountIfNeeded() }
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            try createDirectories(String(path[..<slash]))
        }
        do { try SystemCall.pin(fd: fd, at: path) } catch {
            var error = error
            if error.errno == EINVAL || error.errno == EPERM, !contains(parentDirectory(of: path)) {
                error.detail = "\(parentDirectory(of: path)) is not in a bpf filesystem"
            }
            throw error
        }
    }

    /// Removes a pin (the object lives on while something else holds it).
    public static func unpin(_ path: String) throws(BPFError) {
        guard unlink(path) == 0 else { throw BPFError(operation: "unlink", errno: errno, subject: path) }
    }

    static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}

extension Map {
    /// Pins the map at `path` in bpffs (see `BPFFileSystem.pin`).
    public func pin(at path: String) throws(BPFError) {
        do { try BPFFileSystem.pin(fd: fileDescriptor.rawValue, at: path) } catch { throw named(error) }
    }
}

extension KernelProgram {
    /// Pins the program at `path` in bpffs (see `BPFFileSystem.pin`).
    public func pin(at path: String) throws(BPFError) {
        try BPFFileSystem.pin(fd: fileDescriptor.rawValue, at: path)
    }
}
#endif
