#if os(Linux)
import BPFObject
import Glibc

/// Finds `__ksym` variables and kfuncs in the kernel's BTF as libbpf does: vmlinux first,
/// then each loaded module's BTF (/sys/kernel/btf/<module>, read only when vmlinux lacks the
/// name). A module's symbol needs that module's BTF object open while programs load.
final class KernelSymbols {
    struct Found {
        /// The type id in vmlinux or the module's split BTF.
        var typeID: UInt32
        /// The module's BTF object, nil for vmlinux.
        var module: FileDescriptor?
    }

    private var modules: [(name: String, btf: BTF, id: UInt32)]?
    private var moduleDescriptors: [UInt32: FileDescriptor] = [:]

    /// The BTF id of the VAR or FUNC `name`.
    func find(_ name: String, function: Bool) throws(BPFError) -> Found? {
        let kind: BTFKind = function ? .function : .variable
        let vmlinux = try KernelBTF.vmlinux()
        if let id = vmlinux.ids(named: name, kind: kind).first { return Found(typeID: id, module: nil) }
        for module in try loadedModules() {
            guard let id = module.btf.ids(named: name, kind: kind).first(where: { $0 >= module.btf.ownIDs.lowerBound }) else { continue }
            let fd: FileDescriptor
            if let open = moduleDescriptors[module.id] { fd = open } else {
                fd = try SystemCall.fileDescriptor(of: .btf, id: module.id)
                moduleDescriptors[module.id] = fd
            }
            return Found(typeID: id, module: fd)
        }
        return nil
    }

    /// The address of `name` in /proc/kallsyms (untyped `__ksym`), nil when absent.
    func address(of name: String) throws(BPFError) -> UInt64? {
        let text = String(decoding: try readWholeFile("/proc/kallsyms"), as: UTF8.self)
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 3)
            guard fields.count >= 3, fields[2] == name else { continue }
            return UInt64(fields[0], radix: 16)
        }
        return nil
    }

    private func loadedModules() throws(BPFError) -> [(name: String, btf: BTF, id: UInt32)] {
        if let modules { return modules }
        let vmlinux = try KernelBTF.vmlinux()
        var found: [(name: String, btf: BTF, id: UInt32)] = []
        for id in try SystemCall.ids(of: .btf) {
            guard let fd = try? SystemCall.fileDescriptor(of: .btf, id: id) else { continue }
            defer { fd.close() }
            guard let info = try? SystemCall.btfInfo(fd: fd.rawValue), info.isKernel, info.name != "vmlinux",
                  let bytes = try? readWholeFile("/sys/kernel/btf/\(info.name)"),
                  let btf = try? BTF(parsing: bytes, base: vmlinux) else { continue }
            found.append((info.name, btf, id))
        }
        modules = found
        return found
    }

    func close() {
        for fd in moduleDescriptors.values { fd.close() }
        moduleDescriptors = [:]
    }
}
#endif
