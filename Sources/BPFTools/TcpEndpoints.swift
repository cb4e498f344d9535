#if os(Linux)
import Glibc

/// The two ends of a TCP connection as the tcp tools' programs send them
/// (`struct tcp_endpoints` of bpf/tools.h: family, ports, 16-byte addresses).
public struct TcpEndpoints: Sendable, Hashable, Codable {
    public var localAddress: String
    public var localPort: UInt16
    public var remoteAddress: String
    public var remotePort: UInt16
    public var isIPv6: Bool

    /// The 40 bytes at `offset` of `record`.
    init(_ record: EventRecord, at offset: Int) {
        let family: UInt16 = record.load(offset)
        isIPv6 = family == UInt16(AF_INET6)
        localPort = record.load(offset + 2)
        remotePort = record.load(offset + 4)
        localAddress = Self.text(record, offset + 8, ipv6: isIPv6)
        remoteAddress = Self.text(record, offset + 24, ipv6: isIPv6)
    }

    /// An address as inet_ntop writes it.
    private static func text(_ record: EventRecord, _ offset: Int, ipv6: Bool) -> String {
        let bytes = (0..<(ipv6 ? 16 : 4)).map { record.load(offset + $0, as: UInt8.self) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(ipv6 ? AF_INET6 : AF_INET, bytes, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Address columns as bcc's tcp tools size them: 15 wide for IPv4, 39 for IPv6.
    static func addressWidth(ipv6: Bool) -> Int { ipv6 ? 39 : 15 }
}

/// Linux's TCP states (include/net/tcp_states.h), by the names the tools print.
enum TcpState {
    static let names = ["", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE",
                        "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV"]

    static func name(_ state: Int32) -> String {
        state > 0 && Int(state) < names.count ? names[Int(state)] : "UNKNOWN(\(state))"
    }
}
#endif
