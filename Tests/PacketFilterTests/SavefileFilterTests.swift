import ClassicBPF
import Foundation
import PacketFilter
import Testing

/// Primitives whose meaning depends on reading a capture file rather than capturing live:
/// `inbound`, `outbound` and `ifindex` read the Linux cooked header's fields and are refused
/// on other link types. Checked against `tcpdump -d -r FILE`, for a file of each link type,
/// by running both programs over headers with each packet type and interface.
@Suite("Filters for capture files")
struct SavefileFilterTests {
    /// Past `geneve`, libpcap takes the link for Ethernet (refused in a savefile whatever the
    /// outer header); before it, the outer header's.
    static let expressions = ["inbound", "outbound", "ifindex 3", "not inbound", "outbound and ip", "ifindex 7 or inbound",
                              "geneve and inbound", "geneve or outbound", "geneve and ifindex 3", "inbound and geneve"]

    /// A capture file with no packets: all tcpdump needs to compile for its link type.
    static func emptyCapture(_ linkType: FilterLinkType, in folder: URL) throws -> String {
        var header: [UInt8] = []
        for (value, size) in [(0xa1b2_c3d4, 4), (2, 2), (4, 2), (0, 4), (0, 4),
                              (Int(PacketFilter.defaultSnapshotLength), 4), (Int(linkType.linkTypeValue), 4)] {
            header += (0..<size).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
        }
        let path = folder.appendingPathComponent("\(linkType).pcap").path
        try Data(header).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Packets with every packet type (0–4, 4 being outgoing), a few interface indexes and
    /// both IP versions in the link type's header, followed by an IPv4 header's first bytes.
    static func headers(_ linkType: FilterLinkType) -> [[UInt8]] {
        var packets: [[UInt8]] = []
        for type: UInt8 in 0...4 {
            for index: UInt8 in [3, 7, 9] {
                for etherType: [UInt8] in [[0x08, 0x00], [0x86, 0xdd]] {
                    var packet = [UInt8](repeating: 0x45, count: 60)
                    switch linkType {
                    case .sll: packet.replaceSubrange(0..<2, with: [0, type]); packet.replaceSubrange(14..<16, with: etherType)
                    case .sll2:
                        packet.replaceSubrange(0..<2, with: etherType)
                        packet.replaceSubrange(4..<8, with: [0, 0, 0, index])
                        packet[10] = type
                    case .ethernet, .raw, .null, .ipv4, .ipv6: break
                    }
                    packets.append(packet)
                }
            }
        }
        return packets
    }

    @Test("inbound, outbound and ifindex compile as tcpdump -r compiles them, or are refused as it refuses them")
    func directionAndInterface() throws {
        guard let tcpdump = FilterTestSupport.tcpdump() else { return }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("swiftbpf-savefile-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var agreeing = 0, refusedByBoth = 0
        for linkType in FilterLinkType.allCases {
            let file = try Self.emptyCapture(linkType, in: folder)
            for expression in Self.expressions {
                let run = try FilterTestSupport.run(tcpdump, ["-ddd", "-r", file, "--", expression])
                let mine = Result { () throws(FilterError) in try PacketFilter.compile(expression, linkType: linkType) }
                switch mine {
                case .success(let program):
                    guard run.status == 0, let raw = try? ClassicTextFormat.decimal.parse(String(decoding: run.output, as: UTF8.self)) else {
                        Issue.record("\(linkType) '\(expression)': we compile, tcpdump: \(run.errors)")
                        continue
                    }
                    let (ours, theirs) = (ClassicInterpreter(program: program), ClassicInterpreter(program: try ClassicProgram(raw)))
                    let differing = Self.headers(linkType).filter { (ours.run(packet: $0) != 0) != (theirs.run(packet: $0) != 0) }
                    #expect(differing.isEmpty, "\(linkType) '\(expression)': \(differing.count) packets differ")
                    agreeing += 1
                case .failure(let error):
                    // libpcap's message, after its "tcpdump: ", is ours.
                    let message = run.errors.split(separator: "\n").last.map(String.init) ?? ""
                    #expect(run.status != 0 && message.hasSuffix(error.message), "\(linkType) '\(expression)': we refuse (\(error)), tcpdump: \(message)")
                    refusedByBoth += 1
                }
            }
        }
        print("inbound/outbound/ifindex against tcpdump -r: \(agreeing) programs keep the same packets, \(refusedByBoth) refused")
        #expect(agreeing >= 10)
    }
}
