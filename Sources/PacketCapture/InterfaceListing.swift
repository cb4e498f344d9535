#if os(Linux)
import Glibc

/// One line of tcpdump -D: an interface a live capture can use, numbered in the order
/// libpcap lists them, with its state.
public struct InterfaceListing: Sendable, Hashable, CustomStringConvertible {
    public var number: Int
    public var name: String
    /// What the interface is, for pseudo-devices (`any`).
    public var note: String?
    /// "Up", "Running", "Wireless", "Loopback", then "Connected" or "Disconnected" when the
    /// link state is known.
    public var states: [String]

    public var description: String {
        "\(number).\(name)" + (note.map { " (\($0))" } ?? "") + " [" + (states.isEmpty ? "none" : states.joined(separator: ", ")) + "]"
    }

    /// The interfaces in libpcap's order: running before not running, up before down,
    /// connected before disconnected, others before loopback, `any` just before loopback;
    /// the kernel's index order among equals.
    public static func current() -> [InterfaceListing] {
        var found: [(rank: Int, entry: InterfaceListing)] = []
        if let list = if_nameindex() {
            defer { if_freenameindex(list) }
            var entry = list
            while entry.pointee.if_index != 0, let cName = entry.pointee.if_name {
                let name = String(cString: cName)
                entry += 1
                let flags = LiveCapture.interfaceFlags(name) ?? 0
                let up = flags & Int32(IFF_UP) != 0, running = flags & Int32(IFF_RUNNING) != 0
                let loopback = flags & Int32(IFF_LOOPBACK) != 0
                let wireless = access("/sys/class/net/\(name)/wireless", F_OK) == 0
                var states: [String] = []
                if up { states.append("Up") }
                if running { states.append("Running") }
                if wireless { states.append("Wireless") }
                if loopback { states.append("Loopback") }
                // The carrier cannot be read while the interface is down: then it is unknown.
                let carrier = loopback ? nil : Self.carrier(name)
                if let carrier { states.append(carrier ? "Connected" : "Disconnected") }
                var rank = 0
                if !running { rank |= 8 }
                if !up { rank |= 4 }
                if !wireless, carrier == false { rank |= 2 }
                if loopback { rank |= 1 }
                found.append((rank * 2, InterfaceListing(number: 0, name: name, states: states)))
            }
        }
        found.append((1, InterfaceListing(number: 0, name: "any", note: "Pseudo-device that captures on all interfaces", states: ["Up", "Running"])))
        // A stable sort, so equal ranks keep the kernel's order.
        let ordered = found.enumerated().sorted { ($0.element.rank, $0.offset) < ($1.element.rank, $1.offset) }
        return ordered.enumerated().map { number, item in
            var entry = item.element.entry
            entry.number = number + 1
            return entry
        }
    }

    /// /sys/class/net/NAME/carrier: true for "1", false for "0", nil when unreadable.
    static func carrier(_ name: String) -> Bool? {
        let fd = open("/sys/class/net/\(name)/carrier", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var byte: UInt8 = 0
        guard read(fd, &byte, 1) == 1 else { return nil }
        return byte == UInt8(ascii: "1") ? true : byte == UInt8(ascii: "0") ? false : nil
    }
}
#endif
