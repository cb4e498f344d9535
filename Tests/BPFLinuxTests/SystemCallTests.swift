#if os(Linux)
@testable import BPFLinux
import CBPFLinux
import Glibc
import TestPeers
import Testing

/// bpf(2) through the C shim, on the real kernel.
@Suite struct SystemCallTests {
    @Test func createsAndReadsAnArrayMap() throws {
        guard KernelTestSupport.bpfAvailable() else { return }
        try KernelTestLock.run { try arrayMapRoundTrip() }
    }

    private func arrayMapRoundTrip() throws {
        var attr = zeroedAttributes()
        attr.map_type = BPF_MAP_TYPE_ARRAY.rawValue
        attr.key_size = 4
        attr.value_size = 8
        attr.max_entries = 4
        let map = FileDescriptor(owning: try bpf(BPF_MAP_CREATE, &attr, name: "BPF_MAP_CREATE"))
        defer { map.close() }

        var key: UInt32 = 2
        var value: UInt64 = 0x1122_3344_5566_7788
        try element(BPF_MAP_UPDATE_ELEM, "BPF_MAP_UPDATE_ELEM", map, &key, &value)
        var read: UInt64 = 0
        try element(BPF_MAP_LOOKUP_ELEM, "BPF_MAP_LOOKUP_ELEM", map, &key, &read)
        #expect(read == 0x1122_3344_5566_7788)

        key = 9
        let error = #expect(throws: BPFError.self) { try element(BPF_MAP_LOOKUP_ELEM, "BPF_MAP_LOOKUP_ELEM", map, &key, &read) }
        #expect(error?.errno == ENOENT)
        #expect(error?.description.contains("no such key") == true)
    }
}

/// One element command on `map` with `key` and `value` (both kept alive for the call).
func element(_ command: bpf_cmd, _ name: String, _ map: FileDescriptor, _ key: inout UInt32, _ value: inout UInt64) throws(BPFError) {
    try withUnsafeMutablePointer(to: &key) { keyPointer throws(BPFError) in
        try withUnsafeMutablePointer(to: &value) { valuePointer throws(BPFError) in
            var attr = zeroedAttributes()
            attr.map_fd = UInt32(map.rawValue)
            attr.key = UInt64(UInt(bitPattern: keyPointer))
            attr.value = UInt64(UInt(bitPattern: valuePointer))
            try bpf(command, &attr, name: name)
        }
    }
}

/// Kernel tests skip with a reason where bpf(2) is not permitted, unless
/// SWIFTBPF_REQUIRE_KERNEL=1 makes that a failure.
enum KernelTestSupport {
    static func bpfAvailable(sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        var attr = zeroedAttributes()
        attr.map_type = BPF_MAP_TYPE_ARRAY.rawValue
        attr.key_size = 4
        attr.value_size = 4
        attr.max_entries = 1
        do {
            // Under the kernel test lock: the probe's descriptor must not show up in a
            // concurrent test's leak check.
            try KernelTestLock.run { FileDescriptor(owning: try bpf(BPF_MAP_CREATE, &attr, name: "BPF_MAP_CREATE")).close() }
            return true
        } catch {
            KernelRequirement.unavailable(error, sourceLocation: sourceLocation)
            return false
        }
    }
}
#endif
