#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs the C compiler and waits for it; its diagnostics go straight to our standard error,
/// which the build shows.
enum Compiler {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func run(_ executable: String, _ arguments: [String]) throws(Failure) {
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        #if canImport(Darwin)
        let environment = _NSGetEnviron().pointee
        #else
        let environment = environ
        #endif
        let spawned = posix_spawn(&pid, executable, nil, nil, argv, environment)
        guard spawned == 0 else {
            throw Failure(description: "cannot run \(executable): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw Failure(description: "waiting for \(executable): \(String(cString: strerror(errno)))") }
        }
        // WIFEXITED / WEXITSTATUS, spelled out: Glibc's macros do not reach Swift.
        let signal = status & 0x7f
        let code = status >> 8 & 0xff
        guard signal == 0, code == 0 else {
            let how = signal == 0 ? "exit status \(code)" : "signal \(signal)"
            throw Failure(description: "\(executable) failed (\(how)): \(([executable] + arguments).joined(separator: " "))")
        }
    }
}
