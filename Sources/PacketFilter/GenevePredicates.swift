import ClassicBPF

/// `geneve [VNI]`: UDP to port 6081 with a Geneve version 0 header (RFC 8926), over IPv4 or IPv6.
extension PredicateBuilder {
    static let genevePort: UInt32 = 6081

    func geneve(_ vni: UInt32?) throws(Failure) -> Predicate {
        if let vni, vni > 0xff_ffff { throw Failure(message: "Geneve VNI \(vni) is greater than the maximum 16777215") }
        /// The header `at` the UDP header: version 0 in the top bits of its first byte, the
        /// VNI in the top three bytes of its second word.
        func header(_ load: (LoadSize, UInt32) -> FilterValue) -> Predicate {
            let version = arena.masked(load(.byte, 8), 0xc0, 0)
            guard let vni else { return version }
            return arena.and(version, arena.masked(load(.word, 12), 0xffff_ff00, vni << 8))
        }
        let index = transportIndex
        let ip = try arena.and(arena.and(arena.and(ipProtocol(17), firstFragment), arena.equal(.loadIndexed(.half, index: index, networkOffset + 2), Self.genevePort)),
                               header { size, offset in .loadIndexed(size, index: index, networkOffset + offset) })
        let udp = networkOffset + 40
        let ip6 = try arena.and(arena.and(arena.and(linkProtocol(0x86dd), arena.equal(packet(.byte, networkOffset + 6), 17)),
                                          arena.equal(packet(.half, udp + 2), Self.genevePort)),
                                header { size, offset in packet(size, udp + offset) })
        return arena.or(ip, ip6)
    }
}
