#if os(Linux)
/// Events that name the process they come from, for the filters a tool applies in user
/// space (a part of the command name, or a pid the kernel side does not filter on).
protocol ProcessEvent {
    var pid: Int32 { get }
    var command: String { get }
}

extension ProcessEvent {
    func matches(pid: Int32?, command: String?) -> Bool {
        (pid.map { self.pid == $0 } ?? true) && (command.map { self.command.contains($0) } ?? true)
    }
}

/// `decode`, dropping the events of other processes than `pid` and `command` select.
func filtering<Event: ProcessEvent>(_ decode: @escaping (UnsafeRawBufferPointer) throws(ToolError) -> Event, pid: Int32? = nil,
                                    command: String?) -> (UnsafeRawBufferPointer) throws(ToolError) -> Event? {
    { bytes throws(ToolError) in
        let event = try decode(bytes)
        return event.matches(pid: pid, command: command) ? event : nil
    }
}
#endif
