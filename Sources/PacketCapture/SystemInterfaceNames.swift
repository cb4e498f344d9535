#if canImport(Glibc)
import Glibc

/// This machine's network interfaces by index, from if_nameindex(3): what tcpdump prints
/// for the interface index of a Linux cooked v2 packet, even one read from a file.
public enum SystemInterfaceNames {
    public static func current() -> [UInt32: String] {
        guard let list = if_nameindex() else { return [:] }
        defer { if_freenameindex(list) }
        var names: [UInt32: String] = [:]
        var entry = list
        while entry.pointee.if_index != 0, let name = entry.pointee.if_name {
            names[entry.pointee.if_index] = String(cString: name)
            entry += 1
        }
        return names
    }
}
#endif
