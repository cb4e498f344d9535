#if os(Linux)
import BPFObject
import CBPFLinux
import Glibc

/// What the ring buffer and perf buffer readers share: checking the map they are given,
/// and an epoll descriptor over the descriptors that signal new records.
enum EventMap {
    /// The map's information, refusing a map of another type with a sentence that says so.
    static func describe(_ map: FileDescriptor, expecting type: MapType, reader: String) throws(BPFError) -> MapInfo {
        let info: MapInfo
        do { info = try SystemCall.mapInfo(fd: map.rawValue) } catch {
            var explained = error
            explained.subject = reader
            explained.detail = map.isOpen ? "\(map) is not a BPF map" : "the map's descriptor is closed"
            throw explained
        }
        guard info.type == type else {
            throw BPFError(operation: reader, errno: EINVAL, subject: "map '\(info.name)' id \(info.id)",
                           detail: "a \(reader) reads \(type.kernelName) maps; this map is a \(info.type.kernelName) map")
        }
        return info
    }

    /// A level-triggered epoll over `fds`.
    static func epoll(watching fds: [Int32], what: String) throws(BPFError) -> FileDescriptor {
        let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw BPFError(operation: "epoll_create1", errno: errno, subject: what) }
        let owned = FileDescriptor(owning: epoll)
        for (index, fd) in fds.enumerated() {
            var event = epoll_event()
            event.events = EPOLLIN.rawValue
            event.data.u64 = UInt64(index)
            guard epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0 else {
                let code = errno
                owned.close()
                throw BPFError(operation: "epoll_ctl(EPOLL_CTL_ADD)", errno: code, subject: what)
            }
        }
        return owned
    }

    /// Blocks in epoll_wait on `epoll` for up to `timeout` (nil: indefinitely); true when
    /// something became readable.
    static func wait(_ epoll: Int32, timeout: Duration?) -> Bool {
        var milliseconds: Int32 = -1
        if let timeout {
            let (seconds, attoseconds) = timeout.components
            let total = max(0, seconds) &* 1000 &+ (seconds >= 0 ? (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000 : 0)
            milliseconds = Int32(clamping: total)
        }
        var event = epoll_event()
        while true {
            let count = epoll_wait(epoll, &event, 1, milliseconds)
            if count < 0 && errno == EINTR { continue }
            return count > 0
        }
    }
}
#endif
