extension BTF {
    /// The types as a compilable C header, the `vmlinux.h` that
    /// `bpftool btf dump file F format c` writes: an include guard, every named type in
    /// an order C accepts (forward declarations where pointers form cycles), anonymous
    /// structs, unions and enums inlined where they are used, bitfields, explicit padding
    /// and `__attribute__((packed))` where the layout needs them, and
    /// `preserve_access_index` on every record so that field reads become CO-RE
    /// relocations. Names used twice get libbpf's `___2`, `___3` suffixes.
    ///
    /// `rootTypes` limits the header to those types and what they need (bpftool's
    /// `root_type_ids`); nil writes every type, base types included for split BTF.
    ///
    /// Output follows libbpf's `btf_dump` rules, with one difference from libbpf 1.1:
    /// prototypes without parameters are written `(void)`, as newer libbpf writes them.
    public func cHeader(rootTypes: [BTFTypeID]? = nil) throws(BTFCHeaderError) -> String {
        String(decoding: try cHeaderBytes(rootTypes: rootTypes), as: UTF8.self)
    }

    /// `cHeader(rootTypes:)` as UTF-8 bytes, without building a `String`.
    public func cHeaderBytes(rootTypes: [BTFTypeID]? = nil) throws(BTFCHeaderError) -> [UInt8] {
        var writer = BTFCHeaderWriter(self)
        writer.write("""
            #ifndef __VMLINUX_H__
            #define __VMLINUX_H__

            #ifndef BPF_NO_PRESERVE_ACCESS_INDEX
            #pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
            #endif


            """)
        if let rootTypes {
            for id in rootTypes where Int(id) < count { try writer.dump(id) }
        } else {
            for id in 1..<BTFTypeID(truncatingIfNeeded: count) { try writer.dump(id) }
        }
        writer.write("""
            #ifndef BPF_NO_PRESERVE_ACCESS_INDEX
            #pragma clang attribute pop
            #endif

            #endif /* __VMLINUX_H__ */

            """)
        return writer.output
    }
}
