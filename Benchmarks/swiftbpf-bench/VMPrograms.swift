/// The interpreter benchmark's programs, in the conformance-suite syntax. Each states what
/// it stresses; all take r1 = packet, r2 = length.
struct BenchmarkProgram {
    var name: String
    var assembly: String
    var memory: [UInt8]
}

enum VMPrograms {
    /// A 1500-byte Ethernet/IPv4/TCP frame with a known 5-tuple, the rest filler.
    static let packet: [UInt8] = {
        var bytes = [UInt8](repeating: 0, count: 1500)
        let header: [UInt8] = [
            0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x08, 0x00,  // Ethernet, IPv4
            0x45, 0x00, 0x05, 0xce, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00,              // IPv4, TCP
            10, 0, 0, 1, 192, 168, 1, 20,                                                      // addresses
            0xc3, 0x50, 0x01, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0,  // TCP 50000 -> 443
        ]
        bytes.replaceSubrange(0..<header.count, with: header)
        for i in header.count..<bytes.count { bytes[i] = UInt8(truncatingIfNeeded: i &* 31 &+ 7) }
        return bytes
    }()

    static let all: [BenchmarkProgram] = [
        BenchmarkProgram(name: "exit only (cost of a run)", assembly: """
            # One instruction: what a run costs besides the program.
            exit
            """, memory: packet),
        BenchmarkProgram(name: "arithmetic loop", assembly: """
            # 1,000 iterations of a 6-instruction loop of 64-bit arithmetic.
            mov %r0, 0
            mov %r1, 1000
            loop:
            add %r0, %r1
            mul %r0, 7
            xor %r0, 0x5a5a
            rsh %r0, 1
            sub %r1, 1
            jne %r1, 0, loop
            exit
            """, memory: []),
        BenchmarkProgram(name: "64-bit division loop", assembly: """
            # 1,000 iterations dividing and taking remainders of 64-bit values.
            lddw %r0, 0x123456789abcdef
            mov %r1, 1000
            loop:
            mov %r2, %r1
            add %r2, 3
            mov %r3, %r0
            div %r3, %r2
            mod %r0, %r2
            add %r0, %r3
            lsh %r0, 7
            sub %r1, 1
            jne %r1, 0, loop
            exit
            """, memory: []),
        BenchmarkProgram(name: "byte loop, 1500-byte packet", assembly: """
            # Sums every byte of the packet, bounds-checked against the length.
            mov %r0, 0
            mov %r3, %r1
            add %r3, %r2
            loop:
            jge %r1, %r3, done
            ldxb %r4, [%r1]
            add %r0, %r4
            add %r1, 1
            ja loop
            done:
            exit
            """, memory: packet),
        BenchmarkProgram(name: "Ethernet/IPv4/TCP parse + 5-tuple hash", assembly: """
            # Parses the headers with the length checks a real filter makes, then hashes the
            # addresses, ports and protocol (FNV-1a style, a word at a time).
            mov %r0, 0
            jlt %r2, 54, out
            ldxh %r3, [%r1+12]
            jne %r3, 0x0008, out
            ldxb %r3, [%r1+14]
            mov %r4, %r3
            and %r4, 0xf0
            jne %r4, 0x40, out
            and %r3, 0x0f
            lsh %r3, 2
            jlt %r3, 20, out
            ldxb %r5, [%r1+23]
            jne %r5, 6, out
            mov %r6, %r3
            add %r6, 34
            jgt %r6, %r2, out
            mov %r7, %r1
            add %r7, 14
            add %r7, %r3
            ldxw %r8, [%r1+26]
            ldxw %r9, [%r1+30]
            ldxh %r3, [%r7]
            ldxh %r4, [%r7+2]
            lddw %r0, 0xcbf29ce484222325
            lddw %r6, 0x100000001b3
            xor %r0, %r8
            mul %r0, %r6
            xor %r0, %r9
            mul %r0, %r6
            xor %r0, %r3
            mul %r0, %r6
            xor %r0, %r4
            mul %r0, %r6
            xor %r0, %r5
            mul %r0, %r6
            out:
            exit
            """, memory: packet),
    ]
}
