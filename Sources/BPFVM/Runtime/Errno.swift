/// The negative errnos helpers return to programs, as r0 holds them (Linux's numbers).
enum Errno {
    static let noEntry = negative(LinuxErrno.noEntry)
    static let tryAgain = negative(LinuxErrno.tryAgain)
    static let accessDenied = negative(LinuxErrno.accessDenied)
    static let fault = negative(LinuxErrno.fault)
    static let invalid = negative(LinuxErrno.invalid)

    static func negative(_ errno: Int32) -> UInt64 { UInt64(bitPattern: -Int64(errno)) }
}
