#if os(Linux)
import Foundation
import Glibc
import Testing

// Ethernet frames for live-capture tests: built here, written on one end of a veth pair
// with a raw packet socket, captured on the other.

/// An Ethernet/IPv4/UDP frame from 10.9.0.2:4000 to 10.9.0.1:`port` carrying "frame N".
public func frame(port: UInt16, _ number: Int) -> [UInt8] {
    let payload = Array("frame \(number)".utf8)
    let udpLength = 8 + payload.count, totalLength = 20 + udpLength
    var ip: [UInt8] = [0x45, 0, UInt8(totalLength >> 8), UInt8(totalLength & 0xff), 0, UInt8(number), 0x40, 0, 64, 17, 0, 0, 10, 9, 0, 2, 10, 9, 0, 1]
    var sum: UInt32 = 0
    for index in stride(from: 0, to: 20, by: 2) { sum += UInt32(ip[index]) << 8 | UInt32(ip[index + 1]) }
    while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
    ip[10] = UInt8(~sum >> 8 & 0xff)
    ip[11] = UInt8(~sum & 0xff)
    let udp: [UInt8] = [0x0f, 0xa0, UInt8(port >> 8), UInt8(port & 0xff), UInt8(udpLength >> 8), UInt8(udpLength & 0xff), 0, 0]
    return [0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00] + ip + udp + payload
}

/// `frame` with VLAN tags (TPID and TCI, outer first) after its MAC addresses.
public func tagged(_ frame: [UInt8], _ tags: [(protocolID: UInt16, tci: UInt16)]) -> [UInt8] {
    var bytes = frame
    for tag in tags.reversed() {
        bytes.insert(contentsOf: [UInt8(tag.protocolID >> 8), UInt8(tag.protocolID & 0xff), UInt8(tag.tci >> 8), UInt8(tag.tci & 0xff)], at: 12)
    }
    return bytes
}

/// Writes `frame` out of interface `index` through a raw packet socket.
public func sendFrame(_ fd: Int32, _ index: UInt32, _ frame: [UInt8]) {
    // struct sockaddr_ll: family, protocol, ifindex, then fields unused for sending.
    var address = [UInt8](repeating: 0, count: 20)
    withUnsafeBytes(of: UInt16(AF_PACKET)) { address.replaceSubrange(0..<2, with: $0) }
    withUnsafeBytes(of: Int32(bitPattern: index)) { address.replaceSubrange(4..<8, with: $0) }
    address[11] = 6
    let sent = frame.withUnsafeBytes { bytes in
        address.withUnsafeBytes { target in
            sendto(fd, bytes.baseAddress, bytes.count, 0, target.baseAddress?.assumingMemoryBound(to: sockaddr.self), socklen_t(target.count))
        }
    }
    #expect(sent == frame.count, "sendto: \(String(cString: strerror(errno)))")
}

/// A veth pair, `<prefix><pid>a` and `…b`, both up, or nil after recording why not. The
/// caller deletes it (`ip link del` of `inside`), also when the test fails.
public func makeVethPair(_ prefix: String) -> (inside: String, outside: String)? {
    let (inside, outside) = ("\(prefix)\(getpid())a", "\(prefix)\(getpid())b")
    removeAbandonedPairs(prefix)
    guard ip(["link", "add", inside, "type", "veth", "peer", "name", outside]) else {
        Issue.record("cannot create a veth pair")
        return nil
    }
    // No IPv6 on them: the kernel's own neighbour and multicast listener messages, sent
    // whenever it likes after the link comes up, would join the frames a test counts.
    for name in [inside, outside] {
        _ = try? "1".write(toFile: "/proc/sys/net/ipv6/conf/\(name)/disable_ipv6", atomically: false, encoding: .utf8)
    }
    guard ip(["link", "set", inside, "up"]), ip(["link", "set", outside, "up"]) else {
        _ = ip(["link", "del", inside])
        Issue.record("cannot bring the veth pair \(inside)/\(outside) up")
        return nil
    }
    return (inside, outside)
}

/// Deletes the pairs `<prefix><pid>a/b` of test processes that are gone: a test killed before
/// its `defer` ran leaves its pair behind, which would be counted as this machine's interface.
func removeAbandonedPairs(_ prefix: String) {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/class/net")) ?? []
    for name in names where name.hasPrefix(prefix) && name.hasSuffix("a") {
        guard let pid = Int32(name.dropFirst(prefix.count).dropLast()), pid != getpid(),
              kill(pid, 0) != 0, errno == ESRCH else { continue }
        _ = ip(["link", "del", name])
    }
}

public func ip(_ arguments: [String]) -> Bool {
    let path = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "ip"
    guard let result = try? Subprocess.run(path, arguments) else { return false }
    if result.status != 0 { print("ip \(arguments.joined(separator: " ")): \(result.errors)") }
    return result.status == 0
}
#endif
