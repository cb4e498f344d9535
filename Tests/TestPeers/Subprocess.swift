import Dispatch
import Foundation

/// Runs the peer tools the tests compare against (tcpdump, bpftool, llvm-objdump, the
/// toolchain clang, the swiftbpf binary) and captures what they print. Both pipes are read
/// at once, so a tool that writes a lot to either can never stall on a full pipe.
public enum Subprocess {
    public struct Result: Sendable {
        public var status: Int32
        public var output: Data
        public var errors: String
        public var text: String { String(decoding: output, as: UTF8.self) }
    }

    /// A tool that exited non-zero: the command and what it printed on standard error.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    public static func run(_ executable: String, _ arguments: [String], input: Data? = nil,
                           directory: URL? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let output = Pipe(), errors = Pipe(), standardInput = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = standardInput
        try process.run()
        let errorText = Collected()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            errorText.data = errors.fileHandleForReading.readDataToEndOfFile()
            done.signal()
        }
        if let input { standardInput.fileHandleForWriting.write(input) }
        try? standardInput.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        done.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: data, errors: String(decoding: errorText.data, as: UTF8.self))
    }

    /// Standard output of a run that must succeed; otherwise throws with its standard error.
    @discardableResult
    public static func output(_ executable: String, _ arguments: [String], input: Data? = nil) throws -> Data {
        let result = try run(executable, arguments, input: input)
        guard result.status == 0 else {
            throw Failure("\(executable) \(arguments.joined(separator: " ")) exited \(result.status): \(result.errors)")
        }
        return result.output
    }

    private final class Collected: @unchecked Sendable {
        var data = Data()  // written by one thread, read after the semaphore
    }
}
