import Synchronization

/// Where the names for a packet's numbers come from when it prints without -n: on Linux this
/// machine's hosts file and DNS, services, protocols and ethers files (`SystemPacketNames`).
public protocol PacketNameSource: Sendable {
    /// The name a reverse lookup of `address` gives, nil when it has none.
    func hostName(_ address: IPAddress) -> String?
    /// The service listed for `port` of TCP or UDP, nil when none is.
    func serviceName(_ port: UInt16, _ transport: ServiceTransport) -> String?
    /// The name the ethers file gives a 6-byte Ethernet address.
    func ethernetHostName(_ address: [UInt8]) -> String?
}

public enum ServiceTransport: Sendable, Hashable {
    case tcp, udp
}

/// Names in place of the numbers of a packet's line, as tcpdump prints them without -n:
/// hosts by reverse lookup, TCP and UDP ports by service, IP protocols by name, Ethernet
/// addresses by the ethers file or with their maker (`00:10:18:de:38:1e (oui Broadcom)`).
/// Each number is looked up once: a reverse DNS lookup may wait on the network.
public final class PrintedNames: Sendable {
    let source: any PacketNameSource
    /// Host names up to their first dot (tcpdump -N).
    let shortHostNames: Bool
    /// With it, IPv4 addresses outside this network print as numbers (tcpdump -f).
    let localNetwork: (network: UInt32, mask: UInt32)?
    private let cache = Mutex(Cache())

    private struct Cache {
        var hosts: [IPAddress: String] = [:]
        var services: [ServiceKey: String] = [:]
        var ethernet: [[UInt8]: String] = [:]
    }

    private struct ServiceKey: Hashable {
        var port: UInt16
        var transport: ServiceTransport
    }

    public init(_ source: any PacketNameSource, shortHostNames: Bool = false, localNetwork: (network: UInt32, mask: UInt32)? = nil) {
        self.source = source
        self.shortHostNames = shortHostNames
        self.localNetwork = localNetwork
    }

    func host(_ address: IPAddress) -> String {
        if let localNetwork, case .v4(let v4) = address, v4.value & localNetwork.mask != localNetwork.network {
            return address.description
        }
        return cache.withLock { cache in
            if let known = cache.hosts[address] { return known }
            var name = source.hostName(address) ?? address.description
            if shortHostNames, name != address.description, let dot = name.firstIndex(of: ".") { name = String(name[..<dot]) }
            cache.hosts[address] = name
            return name
        }
    }

    func port(_ port: UInt16, _ transport: ServiceTransport) -> String {
        cache.withLock { cache in
            let key = ServiceKey(port: port, transport: transport)
            if let known = cache.services[key] { return known }
            let name = source.serviceName(port, transport) ?? "\(port)"
            cache.services[key] = name
            return name
        }
    }

    /// `udp` for 17, `ip-proto-N` for a number with no name, as tcpdump prints an IP
    /// protocol it does not dissect.
    func ipProtocol(_ number: UInt8) -> String {
        let index = Int(number)
        guard index < Self.protocolKeywords.count, Self.protocolKeywords[index] != "-" else {
            return index >= 253 ? ["exptest-253", "exptest-254", "reserved"][index - 253] : "ip-proto-\(number)"
        }
        return String(Self.protocolKeywords[index])
    }

    /// IANA's keywords for the IP protocols 0 to 142, lowercase, as tcpdump has them (not
    /// this machine's /etc/protocols); `-` where a number names a class, not a protocol.
    static let protocolKeywords = (
        "hopopt icmp igmp ggp ipencap st tcp cbt egp igp bbn-rcc-mon nvp-ii pup argus emcon xnet chaos " +
        "udp mux dcn-meas hmp prm xns-idp trunk-1 trunk-2 leaf-1 leaf-2 rdp irtp iso-tp4 netblt mfe-nsp " +
        "merit-inp dccp 3pc idpr xtp ddp idpr-cmtp tp++ il ipv6 sdrp ipv6-route ipv6-frag idrp rsvp gre " +
        "dsr bna esp ah i-nlsp swipe narp mobile tlsp skip ipv6-icmp ipv6-nonxt ipv6-opts - cftp - " +
        "sat-expak kryptolan rvd ippc - sat-mon visa ipcv cpnx rspf wsn pvp br-sat-mon sun-nd wb-mon " +
        "wb-expak iso-ip vmtp secure-vmtp vines ttp nsfnet-igp dgp tcf eigrp ospf sprite-rpc larp mtp " +
        "ax.25 ipip micp scc-sp etherip encap - gmtp ifmp pnni pim aris scps qnx a/n ipcomp snp " +
        "compaq-peer ipx-in-ip vrrp pgm - l2tp ddx iatp stp srp uti smp sm ptp isis fire crtp crudp " +
        "sscopmce iplt sps pipe sctp fc rsvp-e2e-ignore mobility-header udplite mpls-in-ip manet hip " +
        "shim6 wesp rohc "
    ).split(separator: " ")

    /// The ethers file's name, `Broadcast`, or the address with its maker's name from the
    /// OUI (`Unknown` for one tcpdump does not list).
    func ethernet(_ address: MACAddress) -> String {
        guard address.bytes.count == 6 else { return address.description }
        return cache.withLock { cache in
            if let known = cache.ethernet[address.bytes] { return known }
            let name = source.ethernetHostName(address.bytes)
                ?? (address.bytes.allSatisfy { $0 == 0xff } ? "Broadcast"
                    : "\(address) (oui \(Self.organizations[UInt32(address.bytes[0]) << 16 | UInt32(address.bytes[1]) << 8 | UInt32(address.bytes[2])] ?? "Unknown"))")
            cache.ethernet[address.bytes] = name
            return name
        }
    }

    /// The organizations tcpdump names by their OUI, with its short names.
    static let organizations: [UInt32: String] = [
        0x000000: "Ethernet", 0x00000c: "Cisco", 0x00005e: "IANA", 0x000081: "Nortel Networks SONMP",
        0x0000f8: "Cisco bridged", 0x0019a7: "ITU-T", 0x0080c2: "Ethernet bridged", 0x00a03e: "ATM Forum",
        0x00e02f: "DOCSIS Spanning Tree", 0x080007: "Appletalk", 0x009069: "Juniper", 0x080009: "Hewlett-Packard",
        0x00120f: "IEEE 802.3 Private", 0x0012bb: "ANSI/TIA", 0x001b21: "DCBX", 0x002320: "Nicira Networks",
        0x5c16c7: "Big Switch Networks", 0xb0d2f5: "Vello Systems", 0x002481: "HP", 0x0004ea: "HP-Labs",
        0x748771: "Infoblox Inc", 0xa42305: "Open Networking Lab", 0x00049f: "Freescale", 0x0015ad: "Netronome",
        0x001018: "Broadcom", 0x00e004: "PMC-Sierra", 0xd0f0db: "Ericsson",
    ]
}
