#if canImport(Glibc)
import Glibc
import PacketFilter

/// Resolves the names in filter expressions as libpcap does on this machine: host names
/// with getaddrinfo (hosts file, then DNS), Ethernet host names from /etc/ethers, service
/// names with getservbyname (TCP first, then UDP).
public struct SystemNameResolver: FilterNameResolver {
    /// Where Ethernet host names are looked up.
    public var ethersPath: String

    public init(ethersPath: String = "/etc/ethers") {
        self.ethersPath = ethersPath
    }

    public func addresses(ofHost name: String) -> [HostAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &list) == 0 else { return [] }
        defer { freeaddrinfo(list) }
        var addresses: [HostAddress] = []
        var entry = list
        while let info = entry?.pointee {
            defer { entry = info.ai_next }
            guard let socketAddress = info.ai_addr else { continue }
            let address: HostAddress?
            switch info.ai_family {
            case AF_INET:
                address = socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    .ipv4(UInt32(bigEndian: $0.pointee.sin_addr.s_addr))
                }
            case AF_INET6:
                address = socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    var bytes = $0.pointee.sin6_addr
                    return .ipv6(withUnsafeBytes(of: &bytes) { Array($0) })
                }
            default:
                address = nil
            }
            if let address, !addresses.contains(address) { addresses.append(address) }
        }
        return addresses
    }

    public func ethernetAddress(ofHost name: String) -> [UInt8]? {
        EthersFile.entries(ethersPath).first { $0.name == name }?.address
    }

    /// As libpcap's pcap_nametonetaddr: the number getnetbyname gives.
    public func network(named name: String) -> UInt32? {
        guard let entry = getnetbyname(name), entry.pointee.n_addrtype == AF_INET else { return nil }
        return UInt32(truncatingIfNeeded: entry.pointee.n_net)
    }

    /// As libpcap's pcap_nametoport: the TCP port if there is one, for both protocols
    /// when UDP lists the same port.
    public func port(ofService name: String) -> ServicePort? {
        func lookup(_ proto: String) -> UInt16? {
            guard let entry = getservbyname(name, proto) else { return nil }
            return UInt16(bigEndian: UInt16(truncatingIfNeeded: entry.pointee.s_port))
        }
        switch (lookup("tcp"), lookup("udp")) {
        case (let tcp?, let udp?): return ServicePort(tcp, tcp == udp ? .any : .tcp)
        case (let tcp?, nil): return ServicePort(tcp, .tcp)
        case (nil, let udp?): return ServicePort(udp, .udp)
        case (nil, nil): return nil
        }
    }
}
#endif
