import BPFLinux

/// The bytes of the kernel's BTF object `id` (`btf dump ID`), and whether it is a module's
/// split BTF, which reads on top of vmlinux.
func kernelBTFBytes(id: UInt32) throws -> (bytes: [UInt8], isModule: Bool) {
    let fd = try kernel("cannot open BTF id \(id)") { () throws(BPFError) in try SystemCall.fileDescriptor(of: .btf, id: id) }
    defer { fd.close() }
    let info = try kernel("cannot read BTF id \(id)") { () throws(BPFError) in try SystemCall.btfInfo(fd: fd.rawValue) }
    let bytes = try kernel("cannot read BTF id \(id)") { () throws(BPFError) in try SystemCall.btfBytes(fd: fd.rawValue) }
    return (bytes, info.isKernel && info.name != "vmlinux")
}
