/// The names the language knows without asking the system: protocol numbers, EtherTypes,
/// a few well-known ports, and the constants of pcap-filter(7). Other names need the
/// system's databases (/etc/services, /etc/protocols), which this module does not read.
enum FilterNames {
    static let ipProtocols: [String: UInt32] = [
        "icmp": 1, "igmp": 2, "ggp": 3, "ipencap": 4, "tcp": 6, "egp": 8, "igrp": 9, "udp": 17,
        "ipv6": 41, "rsvp": 46, "gre": 47, "esp": 50, "ah": 51, "icmp6": 58, "ipv6-icmp": 58,
        "ospf": 89, "pim": 103, "vrrp": 112, "carp": 112, "sctp": 132,
    ]

    static let etherTypes: [String: UInt32] = [
        "ip": 0x0800, "ip6": 0x86dd, "arp": 0x0806, "rarp": 0x8035, "atalk": 0x809b, "aarp": 0x80f3,
        "decnet": 0x6003, "sca": 0x6007, "lat": 0x6004, "mopdl": 0x6001, "moprc": 0x6002,
        "iso": 0xfe, "stp": 0x42, "ipx": 0x8137, "netbeui": 0xf0, "loopback": 0x9000,
    ]

    /// The OSI network-layer protocol IDs `iso proto` takes by name.
    static let isoProtocols: [String: UInt32] = ["clnp": 0x81, "esis": 0x82, "isis": 0x83]

    /// The IS-IS PDU types each IS-IS keyword stands for (ISO 10589): LAN hellos of level
    /// 1 and 2 (15, 16), point-to-point hellos (17), link-state PDUs (18, 20), complete
    /// (24, 25) and partial (26, 27) sequence-number PDUs. libpcap counts point-to-point
    /// hellos as both levels.
    static let isisPDUTypes: [String: [UInt32]] = [
        "l1": [15, 17, 18, 24, 26], "l2": [16, 17, 20, 25, 27], "iih": [15, 16, 17], "lsp": [18, 20],
        "snp": [24, 25, 26, 27], "csnp": [24, 25], "psnp": [26, 27],
    ]

    /// `llc TYPE`: the control-field bits that tell the PDU apart, and their value (802.2).
    static let llcTypes: [String: (mask: UInt32, value: UInt32)] = [
        "i": (0x01, 0x00), "s": (0x03, 0x01), "u": (0x03, 0x03),
        "rr": (0x0f, 0x01), "rnr": (0x0f, 0x05), "rej": (0x0f, 0x09),
        "ui": (0xef, 0x03), "ua": (0xef, 0x63), "disc": (0xef, 0x43), "dm": (0xef, 0x0f),
        "sabme": (0xef, 0x6f), "test": (0xef, 0xe3), "xid": (0xef, 0xaf), "frmr": (0xef, 0x87),
    ]

    /// The other names of the link layer (pcap-filter(7)): on every link type here their
    /// headers are read as `link` reads them.
    static func isLinkAlias(_ word: String) -> Bool {
        switch word.utf8.count {
        case 2: word == "tr"
        case 3: word == "ppp"
        case 4: word == "fddi" || word == "wlan" || word == "slip"
        default: false
        }
    }

    /// Well-known services with the protocols /etc/services lists them for (IANA's
    /// registry as Debian ships it), for when there is no resolver.
    static let services: [String: ServicePort] = [
        "ftp-data": .init(20, .tcp), "ftp": .init(21, .tcp), "ssh": .init(22, .tcp), "telnet": .init(23, .tcp),
        "smtp": .init(25, .tcp), "domain": .init(53, .any), "bootps": .init(67, .udp), "bootpc": .init(68, .udp),
        "tftp": .init(69, .udp), "http": .init(80, .tcp), "www": .init(80, .tcp), "kerberos": .init(88, .any),
        "pop3": .init(110, .tcp), "sunrpc": .init(111, .any), "ntp": .init(123, .udp), "netbios-ns": .init(137, .udp),
        "netbios-dgm": .init(138, .udp), "netbios-ssn": .init(139, .tcp), "imap": .init(143, .tcp),
        "snmp": .init(161, .any), "snmp-trap": .init(162, .any), "bgp": .init(179, .tcp), "ldap": .init(389, .any),
        "https": .init(443, .any), "microsoft-ds": .init(445, .tcp), "syslog": .init(514, .udp),
        "submission": .init(587, .tcp), "ldaps": .init(636, .any), "imaps": .init(993, .tcp), "pop3s": .init(995, .tcp),
        "nfs": .init(2049, .any),
    ]

    static let constants: [String: UInt32] = [
        "icmptype": 0, "icmpcode": 1, "icmp6type": 0, "icmp6code": 1, "tcpflags": 13,
        "tcp-fin": 0x01, "tcp-syn": 0x02, "tcp-rst": 0x04, "tcp-push": 0x08, "tcp-ack": 0x10,
        "tcp-urg": 0x20, "tcp-ece": 0x40, "tcp-cwr": 0x80,
        "icmp-echoreply": 0, "icmp-unreach": 3, "icmp-sourcequench": 4, "icmp-redirect": 5,
        "icmp-echo": 8, "icmp-routeradvert": 9, "icmp-routersolicit": 10, "icmp-timxceed": 11,
        "icmp-paramprob": 12, "icmp-tstamp": 13, "icmp-tstampreply": 14, "icmp-ireq": 15,
        "icmp-ireqreply": 16, "icmp-maskreq": 17, "icmp-maskreply": 18,
        "icmp6-destinationunreach": 1, "icmp6-packettoobig": 2, "icmp6-timeexceeded": 3,
        "icmp6-parameterproblem": 4, "icmp6-echo": 128, "icmp6-echoreply": 129,
        "icmp6-multicastlistenerquery": 130, "icmp6-multicastlistenerreportv1": 131,
        "icmp6-multicastlistenerdone": 132, "icmp6-routersolicit": 133, "icmp6-routeradvert": 134,
        "icmp6-neighborsolicit": 135, "icmp6-neighboradvert": 136, "icmp6-redirect": 137,
        "icmp6-routerrenum": 138, "icmp6-nodeinformationquery": 139, "icmp6-nodeinformationresponse": 140,
        "icmp6-ineighbordiscoverysolicit": 141, "icmp6-ineighbordiscoveryadvert": 142,
        "icmp6-multicastlistenerreportv2": 143, "icmp6-homeagentdiscoveryrequest": 144,
        "icmp6-homeagentdiscoveryreply": 145, "icmp6-mobileprefixsolicit": 146,
        "icmp6-mobileprefixadvert": 147, "icmp6-certpathsolicit": 148, "icmp6-certpathadvert": 149,
        "icmp6-multicastrouteradvert": 151, "icmp6-multicastroutersolicit": 152,
        "icmp6-multicastrouterterm": 153,
    ]

    /// The named constant `word` stands for. Every name starts with `icmp` or `tcp`, so
    /// most words are turned away by their first byte, without hashing.
    static func constant(_ word: String) -> UInt32? {
        let first = word.utf8.first
        guard first == UInt8(ascii: "i") || first == UInt8(ascii: "t") else { return nil }
        return constants[word]
    }

    /// Whether the word of `bytes` is a keyword (a word with a meaning of its own, never
    /// taken as a name) and whether a protocol qualifier (a word that may open a primitive
    /// or index packet data), and a keyword's text: the lexer asks once per word, for the parser.
    static func kind(of bytes: Slice<UnsafeBufferPointer<UInt8>>) -> (keyword: Bool, protocolQualifier: Bool, text: String?) {
        guard let code = packed(bytes) else {
            let text = longKeywords.first { $0.utf8.elementsEqual(bytes) }
            return (text != nil, false, text)
        }
        return keywords.kind(code)
    }

    // Keywords found by their bytes as one integer in a small hash table: comparing strings
    // (a switch on them too) costs a library call per word that differs, and most differ.
    private static let keywords = KeywordTable(protocolQualifiers, otherKeywords)
    private static let protocolQualifiers = [
        "ip", "ah", "tr", "l1", "l2", "ip6", "arp", "tcp", "udp", "pim", "esp", "lat", "sca", "iso", "stp",
        "ipx", "ppp", "iih", "lsp", "snp", "link", "rarp", "sctp", "icmp", "igmp", "igrp", "vrrp", "carp",
        "aarp", "fddi", "wlan", "slip", "clnp", "esis", "isis", "csnp", "psnp", "ether", "icmp6", "moprc",
        "mopdl", "atalk", "decnet", "netbeui"
    ]
    /// The keywords of up to eight bytes that are no protocol qualifiers.
    private static let otherKeywords = [
        "or", "on", "sc", "ra", "ta", "net", "src", "dst", "len", "llc", "and", "not", "rnr", "atm", "oam",
        "bcc", "dir", "host", "port", "mask", "less", "vlan", "mpls", "rset", "srnr", "lane", "type", "proto",
        "radio", "vxlan", "oamf4", "metac", "ilmic", "addr1", "addr2", "addr3", "addr4", "pppoes", "pppoed",
        "ifname", "reason", "action", "geneve", "oamf4s", "gateway", "greater", "inbound", "ifindex",
        "rulenum", "ruleset", "oamf4ec", "subtype", "outbound"
    ]
    private static let longKeywords = ["portrange", "broadcast", "multicast", "protochain", "subrulenum", "connectmsg", "metaconnect"]

    /// The bytes of a word of up to eight, first byte lowest; nil for a longer word.
    fileprivate static func packed(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> UInt64? {
        guard bytes.count <= 8 else { return nil }
        var code: UInt64 = 0
        var at = bytes.endIndex
        while at > bytes.startIndex {
            at -= 1
            code = code << 8 | UInt64(bytes[at])
        }
        return code
    }

    /// Open addressing over 256 slots, under half full: a word is found or missed in a
    /// probe or two.
    private struct KeywordTable {
        /// 0 where a slot is free, 1 for a protocol qualifier, 2 for another keyword.
        private var kinds: [UInt8] = .init(repeating: 0, count: 256)
        private var codes: [UInt64] = .init(repeating: 0, count: 256)
        private var texts: [String] = .init(repeating: "", count: 256)

        init(_ protocolQualifiers: [String], _ others: [String]) {
            for word in protocolQualifiers { insert(word, 1) }
            for word in others { insert(word, 2) }
        }

        private static func slot(_ code: UInt64) -> Int { Int(truncatingIfNeeded: (code &* 0x9e37_79b9_7f4a_7c15) >> 56) }

        private mutating func insert(_ word: String, _ kind: UInt8) {
            var word = word
            guard let code = word.withUTF8({ FilterNames.packed($0[...]) }) else { return }
            var at = Self.slot(code)
            while kinds[at] != 0 { at = (at + 1) & 255 }
            kinds[at] = kind
            codes[at] = code
            texts[at] = word
        }

        func kind(_ code: UInt64) -> (keyword: Bool, protocolQualifier: Bool, text: String?) {
            var at = Self.slot(code)
            while kinds[at] != 0 {
                if codes[at] == code { return (true, kinds[at] == 1, texts[at]) }
                at = (at + 1) & 255
            }
            return (false, false, nil)
        }
    }
}
