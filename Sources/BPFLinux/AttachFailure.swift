#if os(Linux)
import BPFObject
import CBPFLinux
import Glibc

/// Turns an attach call's errno into a sentence about the hook: the program's type when it
/// is the wrong one, else what usually goes wrong at this hook.
enum AttachFailure {
    /// The type of the program behind `fd`, from BPF_OBJ_GET_INFO_BY_FD.
    static func programType(of fd: FileDescriptor) -> UInt32? {
        (try? SystemCall.programInfo(fd: fd.rawValue))?.typeNumber
    }

    static func typeName(_ raw: UInt32) -> String {
        ProgramType(rawValue: raw)?.kernelName ?? "type \(raw)"
    }

    /// `error` with a detail for attaching `program` to `hook`, which takes programs of the
    /// `expected` types. `cause` gives the hook's own reasons by errno.
    @inline(never)
    static func explain(_ error: BPFError, hook: String, program: FileDescriptor, expected: [ProgramType],
                        cause: (Int32) -> String? = { _ in nil }) -> BPFError {
        var explained = error
        explained.subject = hook
        if error.detail != nil { return explained }
        if !program.isOpen {
            explained.detail = "the program's descriptor is closed"
        } else if [EINVAL, EPROTO, EACCES, EBADF].contains(error.errno), !expected.isEmpty {
            if let actual = programType(of: program), !expected.contains(where: { $0.rawValue == actual }) {
                let wanted = expected.map(\.kernelName).joined(separator: " or ")
                explained.detail = "the program is a \(typeName(actual)) program; \(hook) takes \(wanted) programs"
            } else if error.errno == EBADF, programType(of: program) == nil {
                explained.detail = "the descriptor is not a loaded BPF program"
            }
        }
        if explained.detail == nil { explained.detail = cause(error.errno) }
        return explained
    }
}
#endif
