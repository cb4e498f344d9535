#if canImport(Glibc)
import Glibc

/// This machine's names for a packet's numbers, from where tcpdump takes them: reverse
/// lookups through the hosts file and DNS, /etc/services and /etc/ethers.
/// Called under `PrintedNames`'s lock, so the C library's shared lookup buffers are safe.
public struct SystemPacketNames: PacketNameSource {
    /// Where Ethernet host names are looked up.
    public var ethersPath: String

    public init(ethersPath: String = "/etc/ethers") {
        self.ethersPath = ethersPath
    }

    public func hostName(_ address: IPAddress) -> String? {
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let status: Int32
        switch address {
        case .v4(let v4):
            var socketAddress = sockaddr_in()
            socketAddress.sin_family = sa_family_t(AF_INET)
            socketAddress.sin_addr.s_addr = v4.value.bigEndian
            status = reverseLookup(&socketAddress, &host)
        case .v6(let v6):
            guard v6.bytes.count == 16 else { return nil }
            var socketAddress = sockaddr_in6()
            socketAddress.sin6_family = sa_family_t(AF_INET6)
            withUnsafeMutableBytes(of: &socketAddress.sin6_addr) { $0.copyBytes(from: v6.bytes) }
            status = reverseLookup(&socketAddress, &host)
        }
        guard status == 0 else { return nil }
        return String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public func serviceName(_ port: UInt16, _ transport: ServiceTransport) -> String? {
        guard let entry = getservbyport(Int32(port.bigEndian), transport == .tcp ? "tcp" : "udp"),
              let name = entry.pointee.s_name else { return nil }
        return String(cString: name)
    }

    public func ethernetHostName(_ address: [UInt8]) -> String? {
        EthersFile.entries(ethersPath).first { $0.address == address }?.name
    }

    /// The IPv4 network of `interface` (its first address with the netmask, as libpcap's
    /// pcap_lookupnet), nil when it has no IPv4 address.
    public static func localNetwork(of interface: String) -> (network: UInt32, mask: UInt32)? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return nil }
        defer { freeifaddrs(list) }
        var entry = list
        while let current = entry?.pointee {
            defer { entry = current.ifa_next }
            guard String(cString: current.ifa_name) == interface, let address = current.ifa_addr, let netmask = current.ifa_netmask,
                  address.pointee.sa_family == sa_family_t(AF_INET) else { continue }
            let value = { (socketAddress: UnsafeMutablePointer<sockaddr>) in
                socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt32(bigEndian: $0.pointee.sin_addr.s_addr) }
            }
            let mask = value(netmask)
            return (value(address) & mask, mask)
        }
        return nil
    }

    /// getnameinfo of `socketAddress` into `host`, a name only (no numeric fallback).
    @inline(never)
    private func reverseLookup<Address>(_ socketAddress: inout Address, _ host: inout [CChar]) -> Int32 {
        let count = host.count
        return withUnsafePointer(to: &socketAddress) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                host.withUnsafeMutableBufferPointer {
                    getnameinfo(generic, socklen_t(MemoryLayout<Address>.size), $0.baseAddress, socklen_t(count), nil, 0, NI_NAMEREQD)
                }
            }
        }
    }
}

/// The lines of an ethers file (`08:00:20:00:61:ca host`, # comments), as libpcap and
/// tcpdump read it through glibc; a missing file has none, a malformed line is skipped.
enum EthersFile {
    static func entries(_ path: String) -> [(address: [UInt8], name: String)] {
        guard let file = fopen(path, "r") else { return [] }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        var entries: [(address: [UInt8], name: String)] = []
        while getline(&line, &capacity, file) >= 0, let line {
            let text = String(cString: line)
            let fields = text.prefix { $0 != "#" }.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
            guard fields.count >= 2 else { continue }
            // As glibc's ether_line: six hex bytes of one or two digits, or the line is skipped.
            let parts = fields[0].split(separator: ":", omittingEmptySubsequences: false)
            let octets = parts.compactMap { $0.count <= 2 ? UInt8($0, radix: 16) : nil }
            if parts.count == 6, octets.count == 6 { entries.append((octets, String(fields[1]))) }
        }
        return entries
    }
}
#endif
