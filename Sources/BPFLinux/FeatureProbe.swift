#if os(Linux)
import BPFInstructions
import BPFObject
import Glibc

/// What this kernel supports, found as `bpftool feature probe` finds it: by loading a
/// minimal program of each type, creating a minimal map of each type, and loading, for
/// each program type, a program that calls each helper (the verifier says "unknown func"
/// or "invalid func" for a helper the type may not call).
public enum FeatureProbe {
    /// Whether a program of `type` loads (libbpf's `libbpf_probe_bpf_prog_type`).
    public static func supports(_ type: ProgramType) -> Bool {
        var attributes = minimalProgram(type, instructions: [
            RawInstruction(opcode: 0xb7, dst: 0, imm: 0),   // r0 = 0
            RawInstruction(opcode: 0x95),                   // exit
        ])
        var expectedErrno: Int32?
        switch type {
        case .structOperations: expectedErrno = ENOTSUPP
        case .extension: expectedErrno = EINVAL
        case .tracing, .lsm:
            // No BTF id: a kernel that knows the type refuses with EINVAL, as libbpf expects.
            attributes.expectedAttachType = type == .lsm ? .lsmMAC : .traceFentry
            attributes.attachBTFID = 1
            expectedErrno = EINVAL
        default: break
        }
        do {
            let fd = try SystemCall.loadProgram(attributes)
            fd.close()
            return expectedErrno == nil
        } catch {
            return expectedErrno == error.errno
        }
    }

    static func minimalProgram(_ type: ProgramType, instructions: [RawInstruction]) -> SystemCall.ProgramAttributes {
        var attributes = SystemCall.ProgramAttributes(type: type, instructions: instructions, license: "GPL")
        switch type {
        case .cgroupSocketAddress: attributes.expectedAttachType = .cgroupInet4Connect
        case .cgroupSocketOption: attributes.expectedAttachType = .cgroupGetSocketOption
        case .socketLookup: attributes.expectedAttachType = .socketLookup
        case .netfilter: attributes.expectedAttachType = .netfilter
        case .syscall: attributes.flags = ProgramSpec.sleepableFlag
        case .kprobe: attributes.kernelVersion = KernelRelease.current.versionCode ?? 0
        default: break
        }
        return attributes
    }

    /// Whether a map of `type` can be created (libbpf's `libbpf_probe_bpf_map_type`).
    public static func supports(_ type: MapType) -> Bool {
        var attributes = SystemCall.MapAttributes(type: type, keySize: 4, valueSize: 4, maxEntries: 1)
        var btf: FileDescriptor?
        var inner: FileDescriptor?
        defer {
            btf?.close()
            inner?.close()
        }
        switch type {
        case .longestPrefixMatchTrie:
            attributes.keySize = 8
            attributes.valueSize = 8
            attributes.flags = 1   // BPF_F_NO_PREALLOC
        case .stackTrace:
            attributes.valueSize = 8
        case .queue, .stack, .bloomFilter:
            attributes.keySize = 0
        case .ringBuffer, .userRingBuffer:
            attributes.keySize = 0
            attributes.valueSize = 0
            attributes.maxEntries = UInt32(getpagesize())
        case .arena:
            attributes.keySize = 0
            attributes.valueSize = 0
            attributes.flags = 1 << 10   // BPF_F_MMAPABLE
        case .cgroupStorage, .perCPUCgroupStorage:
            attributes.keySize = 16      // struct bpf_cgroup_storage_key: u64 + u32, padded to 16
            attributes.maxEntries = 0
        case .socketStorage, .inodeStorage, .taskStorage, .cgroupStorageByID:
            guard let blob = try? SystemCall.loadBTF(integerBTF) else { return false }
            btf = blob
            attributes.valueSize = 8
            attributes.maxEntries = 0
            attributes.flags = 1
            attributes.btfFD = blob.rawValue
            attributes.btfKeyTypeID = 1
            attributes.btfValueTypeID = 2
        case .arrayOfMaps, .hashOfMaps:
            guard let template = try? SystemCall.createMap(SystemCall.MapAttributes(type: .array, keySize: 4, valueSize: 4, maxEntries: 1)) else {
                return false
            }
            inner = template
            attributes.innerMapFD = template.rawValue
        case .structOperations:
            // Type id 1 is no struct_ops type: a kernel that knows the map type says ENOTSUPP,
            // as libbpf's probe expects.
            attributes.btfVMLinuxValueTypeID = 1
            do {
                try SystemCall.createMap(attributes).close()
                return true
            } catch {
                return error.errno == ENOTSUPP
            }
        case .unspecified, .other:
            return false
        default:
            break
        }
        guard let fd = try? SystemCall.createMap(attributes) else { return false }
        fd.close()
        return true
    }

    /// The helpers this kernel knows, by number: `enum bpf_func_id` in its BTF
    /// (`BPF_FUNC_map_lookup_elem` → 1 "map_lookup_elem").
    public static func helpers() throws(BPFError) -> [(id: Int32, name: String)] {
        let btf = try KernelBTF.vmlinux()
        guard let id = btf.ids(named: "bpf_func_id", kind: .enum).first, case .enum(let values)? = btf.type(id)?.body else {
            throw BPFError(operation: "feature probe", errno: ENOENT, detail: "the kernel's BTF has no enum bpf_func_id")
        }
        return values.values.compactMap { value -> (Int32, String)? in
            guard let name = btf.strings.string(at: value.nameOffset), name.hasPrefix("BPF_FUNC_"),
                  name != "BPF_FUNC_unspec", !name.hasPrefix("__") else { return nil }
            return (Int32(truncatingIfNeeded: value.bitPattern), String(name.dropFirst("BPF_FUNC_".count)))
        }.filter { !$0.1.hasPrefix("_") && $0.1 != "MAX_ID" }
    }

    /// Whether helper support can be probed for `type` at all: tracing, extension, LSM and
    /// struct_ops programs load only against a target, so their load fails whatever they
    /// call and says nothing about helpers (libbpf and bpftool report none for them).
    public static func canProbeHelpers(for type: ProgramType) -> Bool {
        ![.tracing, .extension, .lsm, .structOperations].contains(type)
    }

    /// Whether a program of `type` may call helper `id` (bpftool's `probe_helper_for_progtype`);
    /// false for the types `canProbeHelpers(for:)` excludes.
    public static func supports(helper id: Int32, for type: ProgramType) -> Bool {
        guard canProbeHelpers(for: type) else { return false }
        var attributes = minimalProgram(type, instructions: [
            RawInstruction(opcode: 0x85, imm: id),   // call id
            RawInstruction(opcode: 0x95),            // exit
        ])
        attributes.logLevel = 1
        var log = [UInt8](repeating: 0, count: 4096)
        let text: String = log.withUnsafeMutableBufferPointer { buffer in
            if let fd = try? SystemCall.loadProgram(attributes, log: buffer) { fd.close() }
            let end = buffer.firstIndex(of: 0) ?? buffer.count
            return String(decoding: buffer[0..<end], as: UTF8.self)
        }
        // Loading also fails for wrong arguments; only these say the helper is not allowed.
        return !text.isEmpty && !text.contains("invalid func ") && !text.contains("unknown func ")
    }

    /// [1] int, [2] long long: keys and values for the local-storage maps, which need BTF.
    static let integerBTF: [UInt8] = {
        var types: [UInt32] = [1, 1 << 24, 4, 1 << 24 | 32, 5, 1 << 24, 8, 1 << 24 | 64]
        let strings = Array("\0int\0long long\0".utf8)
        var blob: [UInt8] = [0x9f, 0xeb, 1, 0]
        func append(_ value: UInt32) { for shift in stride(from: 0, to: 32, by: 8) { blob.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) } }
        append(24)
        append(0)
        append(UInt32(types.count * 4))
        append(UInt32(types.count * 4))
        append(UInt32(strings.count))
        for word in types { append(word) }
        types = []
        return blob + strings
    }()
}
#endif
