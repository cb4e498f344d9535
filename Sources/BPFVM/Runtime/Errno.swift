/// The negative errnos helpers return to programs, as r0 holds them.
enum Errno {
    static let noEntry = negative(2)         // ENOENT
    static let tooBig = negative(7)          // E2BIG
    static let tryAgain = negative(11)       // EAGAIN
    static let accessDenied = negative(13)   // EACCES
    static let fault = negative(14)          // EFAULT
    static let invalid = negative(22)        // EINVAL

    static func negative(_ errno: Int64) -> UInt64 { UInt64(bitPattern: -errno) }
}
