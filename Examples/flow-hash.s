// Flow hash: parse an Ethernet/IPv4/TCP frame and hash its 5-tuple (FNV-1a over the
// addresses, ports and protocol). r1 = the frame, r2 = its length.
// Returns the hash, or 0 for anything that is not IPv4/TCP.
    r0 = 0
    if r2 < 54 goto out              // Ethernet 14 + IPv4 20 + TCP 20
    r3 = *(u16 *)(r1 + 12)           // EtherType in network order,
    r3 = be16 r3                     // converted to host order
    if r3 != 0x800 goto out
    r3 = *(u8 *)(r1 + 14)            // version and header length
    r4 = r3
    r4 &= 0xf0
    if r4 != 0x40 goto out
    r3 &= 0xf
    r3 <<= 2                         // IPv4 header length in bytes
    if r3 < 20 goto out
    r5 = *(u8 *)(r1 + 23)            // protocol
    if r5 != 6 goto out
    r6 = r3
    r6 += 34                         // end of the TCP ports
    if r6 > r2 goto out
    r7 = r1
    r7 += 14
    r7 += r3                         // start of TCP
    r8 = *(u32 *)(r1 + 26)           // source address
    r9 = *(u32 *)(r1 + 30)           // destination address
    r3 = *(u16 *)(r7 + 0)            // source port
    r4 = *(u16 *)(r7 + 2)            // destination port
    r0 = 0xcbf29ce484222325 ll       // FNV offset basis
    r6 = 0x100000001b3 ll            // FNV prime
    r0 ^= r8
    r0 *= r6
    r0 ^= r9
    r0 *= r6
    r0 ^= r3
    r0 *= r6
    r0 ^= r4
    r0 *= r6
    r0 ^= r5
    r0 *= r6
out:
    exit
