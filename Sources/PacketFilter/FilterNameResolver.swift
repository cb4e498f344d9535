/// Answers the names an expression may use where libpcap asks the system: host names
/// (`host`, `gateway`), Ethernet host names (`ether host`, `gateway`; /etc/ethers) and
/// service names (`port`). Without one, only numbers and the well-known service names work.
/// PacketCapture's `SystemNameResolver` asks this machine.
public protocol FilterNameResolver: Sendable {
    /// The host's addresses in the order the system gives them; empty when unknown.
    func addresses(ofHost name: String) -> [HostAddress]
    /// The host's Ethernet address, or nil when unknown.
    func ethernetAddress(ofHost name: String) -> [UInt8]?
    /// The port of a TCP or UDP service and the protocols it is listed for, or nil when unknown.
    func port(ofService name: String) -> ServicePort?
    /// The IPv4 network number of a network name (/etc/networks), or nil when unknown.
    func network(named name: String) -> UInt32?
}

extension FilterNameResolver {
    /// No network names, for resolvers that keep none.
    public func network(named name: String) -> UInt32? { nil }
}

/// A service name's port and the transport protocols the system lists it for: libpcap
/// keeps `port NAME` to those (`port http` is TCP only) and refuses another (`udp port http`).
public struct ServicePort: Sendable, Hashable {
    public var number: UInt16
    public var transport: ServiceTransport

    public init(_ number: UInt16, _ transport: ServiceTransport) {
        self.number = number
        self.transport = transport
    }
}

/// Which transport protocols a service name stands for.
public enum ServiceTransport: String, Sendable, Hashable {
    case tcp, udp
    /// Listed for TCP and UDP with the same port: the name then works as its number does,
    /// for TCP, UDP and SCTP.
    case any
}

/// An IP address a host name resolves to.
public enum HostAddress: Sendable, Hashable {
    /// As a number: 10.0.0.1 is 0x0a000001.
    case ipv4(UInt32)
    /// Sixteen bytes in network order.
    case ipv6([UInt8])
}

/// Fixed answers, for tests and for programs that keep their own tables.
public struct FilterNameTable: FilterNameResolver {
    public var hosts: [String: [HostAddress]]
    public var ethernetHosts: [String: [UInt8]]
    public var services: [String: ServicePort]
    public var networks: [String: UInt32]

    public init(hosts: [String: [HostAddress]] = [:], ethernetHosts: [String: [UInt8]] = [:], services: [String: ServicePort] = [:],
                networks: [String: UInt32] = [:]) {
        self.hosts = hosts
        self.ethernetHosts = ethernetHosts
        self.services = services
        self.networks = networks
    }

    public func addresses(ofHost name: String) -> [HostAddress] { hosts[name] ?? [] }
    public func ethernetAddress(ofHost name: String) -> [UInt8]? { ethernetHosts[name] }
    public func port(ofService name: String) -> ServicePort? { services[name] }
    public func network(named name: String) -> UInt32? { networks[name] }
}
