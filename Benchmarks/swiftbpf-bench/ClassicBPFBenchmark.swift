import BPFInstructions
import BPFVM
import ClassicBPF
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Classic filters as tcpdump compiles them, per packet over a mix of frames: our classic
/// interpreter, its eBPF translation in BPFVM's interpreter, and libpcap's `bpf_filter`
/// when libpcap is on the machine.
enum ClassicBPFBenchmark {
    /// `tcpdump -ddd -y EN10MB <expression>` (tcpdump 4.99.3, libpcap 1.10.3), commas for newlines.
    static let filters: [(name: String, decimal: String)] = [
        ("tcp port 80", "20,40 0 0 12,21 0 6 34525,48 0 0 20,21 0 15 6,40 0 0 54,21 12 0 80,40 0 0 56,21 10 11 80,21 0 10 2048,48 0 0 23,21 0 8 6,40 0 0 20,69 6 0 8191,177 0 0 14,72 0 0 14,21 2 0 80,72 0 0 16,21 0 1 80,6 0 0 262144,6 0 0 0"),
        ("host 192.168.1.1", "14,40 0 0 12,21 0 4 2048,32 0 0 26,21 8 0 3232235777,32 0 0 30,21 6 7 3232235777,21 1 0 2054,21 0 5 32821,32 0 0 28,21 2 0 3232235777,32 0 0 38,21 0 1 3232235777,6 0 0 262144,6 0 0 0"),
        ("vlan 100 and tcp", "19,40 0 0 12,21 2 0 33024,21 1 0 34984,21 0 14 37120,40 0 0 14,84 0 0 4095,21 0 11 100,40 0 0 16,21 0 2 2048,48 0 0 27,21 6 7 6,21 0 6 34525,48 0 0 24,21 3 0 6,21 0 3 44,48 0 0 58,21 0 1 6,6 0 0 262144,6 0 0 0"),
        ("tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn", "12,40 0 0 12,21 0 9 2048,48 0 0 23,21 0 7 6,40 0 0 20,69 5 0 8191,177 0 0 14,80 0 0 27,84 0 0 18,21 0 1 2,6 0 0 262144,6 0 0 0"),
        ("portrange 1000-2000", "27,40 0 0 12,21 0 9 34525,48 0 0 20,21 2 0 132,21 1 0 6,21 0 20 17,40 0 0 54,53 0 1 1000,37 0 16 2000,40 0 0 56,53 13 15 1000,21 0 14 2048,48 0 0 23,21 2 0 132,21 1 0 6,21 0 10 17,40 0 0 20,69 8 0 8191,177 0 0 14,72 0 0 14,53 0 1 1000,37 0 3 2000,72 0 0 16,53 0 2 1000,37 1 0 2000,6 0 0 262144,6 0 0 0"),
    ]

    /// Eight frames: IPv4 TCP to and from port 80, a SYN to 1500, IPv6 TCP, UDP DNS, ARP,
    /// a VLAN-tagged TCP frame and an IPv4 fragment.
    static let packets: [[UInt8]] = {
        let ethernet: [UInt8] = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb]
        func ipv4(_ proto: UInt8, source: [UInt8] = [10, 0, 0, 1], fragment: UInt8 = 0, _ transport: [UInt8]) -> [UInt8] {
            let length = 20 + transport.count
            return ethernet + [0x08, 0x00, 0x45, 0, UInt8(length >> 8), UInt8(length & 0xff), 0x12, 0x34, 0x40, fragment, 64, proto, 0, 0]
                + source + [192, 168, 1, 1] + transport
        }
        func tcp(_ source: UInt16, _ destination: UInt16, flags: UInt8 = 0x18) -> [UInt8] {
            [UInt8(source >> 8), UInt8(source & 0xff), UInt8(destination >> 8), UInt8(destination & 0xff), 0, 0, 0, 1, 0, 0, 0, 0,
             0x50, flags, 0xff, 0xff, 0, 0, 0, 0] + [UInt8](repeating: 0x61, count: 40)
        }
        let udp: [UInt8] = [0xc3, 0x50, 0, 53, 0, 20, 0, 0] + [UInt8](repeating: 0, count: 12)
        let ipv6 = ethernet + [0x86, 0xdd, 0x60, 0, 0, 0, 0, 60, 6, 64] + [UInt8](repeating: 0x20, count: 32) + tcp(50000, 443)
        let arp = ethernet + [0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1] + [UInt8](repeating: 0, count: 20) + [192, 168, 1, 1]
        var vlan = ipv4(6, tcp(50000, 80))
        vlan.insert(contentsOf: [0x81, 0x00, 0x00, 100], at: 12)
        return [ipv4(6, tcp(50000, 80)), ipv4(6, tcp(80, 50000)), ipv4(6, tcp(50000, 1500, flags: 0x02)), ipv6,
                ipv4(17, udp), arp, vlan, ipv4(6, fragment: 0x20, tcp(50000, 8080))]
    }()

    static func run() throws {
        print("suite cbpf: classic filters, ns per packet over \(packets.count) frames (release build)")
        let libpcap = Libpcap.shared
        var header = pad("filter", 46, left: true) + pad("insns", 7) + pad("classic", 10) + pad("eBPF VM", 10) + pad("eBPF JIT", 10)
        if libpcap != nil { header += pad("libpcap", 10) + pad("classic/libpcap", 17) }
        print(header)
        // Packets and VM inputs live in plain buffers, so the loops below time the filters,
        // not array reference counting.
        let frames = buffers(packets)
        let inputs = buffers(packets.map { ClassicContextBlock.memory(packet: $0) })
        defer { for buffer in frames + inputs { buffer.deallocate() } }
        for (name, decimal) in filters {
            let program = try ClassicProgram(ClassicTextFormat.decimal.parse(decimal))
            let interpreter = ClassicInterpreter(program: program)
            let vm = try Interpreter(program: ClassicTranslator.translate(program, to: .virtualMachine))
            var sink: UInt64 = 0
            // With libpcap on the machine, the classic interpreter and bpf_filter are timed
            // in turns (see `measureAgainstPeer`).
            var classic = 0.0
            var peer: Double?
            let code = program.bytes()
            frames.withUnsafeBufferPointer { frames in
                let runClassic = { for frame in frames { sink &+= UInt64(interpreter.run(packet: UnsafeRawBufferPointer(frame))) } }
                guard let libpcap else {
                    classic = measure(runClassic) / Double(packets.count)
                    return
                }
                code.withUnsafeBytes { code in
                    let times = measureAgainstPeer(runClassic, peer: {
                        for frame in frames {
                            let bytes = UnsafePointer(frame.baseAddress?.assumingMemoryBound(to: UInt8.self))
                            sink &+= UInt64(libpcap.filter(code.baseAddress, bytes, UInt32(frame.count), UInt32(frame.count)))
                        }
                    })
                    classic = times.ours / Double(packets.count)
                    peer = times.peer / Double(packets.count)
                }
            }
            let ebpf = try inputs.withUnsafeBufferPointer { inputs in
                try measure {
                    for input in inputs { sink &+= try vm.run(memory: input) }
                }
            } / Double(packets.count)
            // The JIT runs the translation over the packet alone (no context block to fill).
            let jit = try JITProgram(program: ClassicTranslator.translate(program, to: .packet))
            let jitted = try frames.withUnsafeBufferPointer { frames in
                try measure {
                    for frame in frames { sink &+= try jit.run(memory: frame) }
                }
            } / Double(packets.count)
            var line = pad(name, 46, left: true) + pad(String(program.raw.count), 7)
                + pad(format(classic, decimals: 1), 10) + pad(format(ebpf, decimals: 1), 10) + pad(format(jitted, decimals: 1), 10)
            if let peer {
                line += pad(format(peer, decimals: 1), 10) + pad(format(classic / peer, decimals: 2), 17)
            }
            print(line)
            if sink == 0x5eed { print("") }  // keeps the results alive
        }
    }

    static func buffers(_ arrays: [[UInt8]]) -> [UnsafeMutableRawBufferPointer] {
        arrays.map { array in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: array.count, alignment: 8)
            array.withUnsafeBytes { buffer.copyMemory(from: $0) }
            return buffer
        }
    }
}
