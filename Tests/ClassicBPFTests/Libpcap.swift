import Foundation
import Testing

/// libpcap itself, loaded at run time, as the reference for the interpreter (`bpf_filter`)
/// and the listing (`bpf_image`). Both take the program as an array of `struct bpf_insn`,
/// which is `struct sock_filter` in host order.
struct Libpcap: @unchecked Sendable {  // C function pointers, read-only
    typealias FilterFunction = @convention(c) (UnsafeRawPointer?, UnsafePointer<UInt8>?, UInt32, UInt32) -> UInt32
    typealias ImageFunction = @convention(c) (UnsafeRawPointer?, Int32) -> UnsafeMutablePointer<CChar>?

    let filter: FilterFunction
    let image: ImageFunction

    static let shared: Libpcap? = {
        for name in ["libpcap.so.0.8", "libpcap.so.1", "libpcap.so", "libpcap.A.dylib"] {
            guard let handle = dlopen(name, RTLD_NOW) else { continue }
            guard let filter = dlsym(handle, "bpf_filter"), let image = dlsym(handle, "bpf_image") else { return nil }
            return Libpcap(filter: unsafeBitCast(filter, to: FilterFunction.self),
                           image: unsafeBitCast(image, to: ImageFunction.self))
        }
        return nil
    }()

    /// libpcap, or nil after printing why (an issue when peers are required).
    static func load() -> Libpcap? {
        if let shared { return shared }
        if ClassicTestSupport.peersRequired {
            Issue.record("libpcap is not installed and SWIFTBPF_REQUIRE_PEERS=1")
        } else {
            print("skipped: libpcap is not installed (apt-get install libpcap0.8)")
        }
        return nil
    }

    /// `bpf_filter(program, packet, wirelen, buflen)`: only for programs it can run
    /// (libpcap 1.10 aborts on unknown opcodes and trusts jumps).
    func run(_ program: [UInt8], packet: [UInt8], wireLength: UInt32) -> UInt32 {
        program.withUnsafeBytes { code in
            packet.withUnsafeBufferPointer { bytes in
                // A valid pointer even for an empty packet; bpf_filter reads none of it then.
                withUnsafePointer(to: UInt8(0)) { empty in
                    filter(code.baseAddress, bytes.baseAddress ?? empty, wireLength, UInt32(bytes.count))
                }
            }
        }
    }
}
