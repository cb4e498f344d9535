import ArgumentParser
import BPFInstructions
import ClassicBPF
import Foundation
import PacketCapture
import PacketFilter

extension FilterLinkType: ExpressibleByArgument {}

struct FilterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filter",
        abstract: "Compile a pcap filter expression (as tcpdump takes) to classic BPF.",
        discussion: """
            The expression is the language of pcap-filter(7): host, net, port, portrange, \
            src/dst, ether, ip, ip6, arp, tcp, udp, icmp, vlan, mpls, pppoes, protochain, gateway, \
            less/greater, arithmetic on packet bytes (tcp[tcpflags] & tcp-syn != 0) joined by \
            and/or/not. Host names are resolved as libpcap resolves them (hosts file, DNS, \
            /etc/ethers, /etc/services). The expression may be quoted or given as several words.

            The program prints as tcpdump -d does; -dd and -ddd print tcpdump's C array and \
            decimal forms, --ebpf the eBPF translation for a socket filter.

            --live compiles for a live Linux packet socket, the program `swiftbpf capture -i` \
            attaches in the kernel and `tcpdump -i IF -d` prints: Linux takes the outer VLAN \
            tag out of a received frame before a socket filter runs, so the first vlan reads \
            it through the ancillary loads [vlanp] and [vlan_tci] (and the frame when no tag \
            was taken out), and inbound, outbound and ifindex read the kernel's [type] and \
            [ifidx]. Without --live the program is for capture files.

            Examples:
              swiftbpf filter 'tcp port 80'
              swiftbpf filter --linktype raw --ddd 'ip6 and udp'
              swiftbpf filter --ebpf 'host 10.0.0.1 and not port 22'
              swiftbpf filter --live 'vlan 10 and tcp port 80'
            """)

    @Argument(help: "The filter expression, as one or more words; none keeps every packet, as in tcpdump.") var words: [String] = []
    @Option(help: "The link-layer header: ethernet, raw, sll, sll2, null, ipv4 or ipv6.") var linktype: FilterLinkType = .ethernet
    @OptionGroup var translation: TranslationOptions
    @Flag(help: "Leave the program as generated, unoptimized.") var noOptimize = false
    @Flag(help: "Compile for a live Linux packet socket, as capture -i and tcpdump -i do.") var live = false
    @OptionGroup var dump: ClassicDumpOptions

    var expression: String { words.joined(separator: " ") }

    /// The most instructions of a filter for capture files, which runs in user space: libpcap
    /// counts them in 32 bits and has no other limit there (the kernel takes 4096).
    static let userSpaceLength = Int(UInt32.max)

    func run() throws {
        let program: ClassicProgram
        do {
            if live {
                program = try PacketFilter.compileForSocket(expression, linkType: linktype, optimize: !noOptimize, resolver: SystemNameResolver())
            } else {
                // As tcpdump -d: a file's filter runs in user space, where no 4096-instruction limit holds.
                program = try PacketFilter.compile(expression, linkType: linktype, optimize: !noOptimize, resolver: SystemNameResolver(),
                                                   maximumLength: Self.userSpaceLength)
            }
        } catch {
            let caret = String(repeating: " ", count: error.offset) + String(repeating: "^", count: max(1, error.length))
            throw CommandError("filter: \(error)\n  \(expression)\n  \(caret)")
        }
        try ClassicProgramOutput.print(program, dumpLevel: dump.level, translation: translation, command: "filter")
    }
}
