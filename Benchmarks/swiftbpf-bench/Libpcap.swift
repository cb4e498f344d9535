#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// libpcap, loaded at run time when it is installed: the peer of the classic BPF suites.
struct Libpcap: @unchecked Sendable {  // C function pointers, immutable
    typealias Filter = @convention(c) (UnsafeRawPointer?, UnsafePointer<UInt8>?, UInt32, UInt32) -> UInt32
    typealias OpenDead = @convention(c) (Int32, Int32) -> OpaquePointer?
    typealias Compile = @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?, UnsafePointer<CChar>?, Int32, UInt32) -> Int32
    typealias FreeCode = @convention(c) (UnsafeMutableRawPointer?) -> Void
    typealias Close = @convention(c) (OpaquePointer?) -> Void

    let filter: Filter
    let openDead: OpenDead
    let compile: Compile
    let freeCode: FreeCode
    let close: Close

    static let shared: Libpcap? = {
        for name in ["libpcap.so.0.8", "libpcap.so.1", "libpcap.so", "libpcap.A.dylib"] {
            guard let handle = dlopen(name, RTLD_NOW) else { continue }
            func symbol<T>(_ name: String, as type: T.Type) -> T? {
                dlsym(handle, name).map { unsafeBitCast($0, to: type) }
            }
            guard let filter = symbol("bpf_filter", as: Filter.self), let openDead = symbol("pcap_open_dead", as: OpenDead.self),
                  let compile = symbol("pcap_compile", as: Compile.self), let freeCode = symbol("pcap_freecode", as: FreeCode.self),
                  let close = symbol("pcap_close", as: Close.self) else { continue }
            return Libpcap(filter: filter, openDead: openDead, compile: compile, freeCode: freeCode, close: close)
        }
        return nil
    }()

    /// Runs `program` (struct bpf_insn[]) on every packet; the sum of the results.
    func filterAll(_ program: UnsafeRawPointer?, _ packets: [UnsafeMutableRawBufferPointer]) -> UInt32 {
        packets.withUnsafeBufferPointer { packets in
            var sum: UInt32 = 0
            for packet in packets {
                let bytes = UnsafePointer(packet.baseAddress?.assumingMemoryBound(to: UInt8.self))
                sum &+= filter(program, bytes, UInt32(packet.count), UInt32(packet.count))
            }
            return sum
        }
    }

    /// A dead pcap handle for compiling: Ethernet, tcpdump's snapshot length.
    func deadHandle(linkType: Int32 = 1) -> OpaquePointer? { openDead(linkType, 262_144) }

    /// Compiles `expression` with the optimizer into `program` (a struct bpf_program, 16
    /// bytes); the instruction count, or nil when libpcap refuses.
    func compile(_ handle: OpaquePointer?, _ expression: String, into program: UnsafeMutableRawPointer) -> Int? {
        guard compile(handle, program, expression, 1, 0xffff_ffff) == 0 else { return nil }
        return Int(program.load(as: UInt32.self))
    }
}
