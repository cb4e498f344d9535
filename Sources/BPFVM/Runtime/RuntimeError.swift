/// Why an object could not be loaded into the VM, a program prepared, or a run finished:
/// one sentence naming the object, program or map and what went wrong.
public struct RuntimeError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// The object file does not parse or link.
        case invalidObject
        /// BPFVerifier refused the program.
        case rejected
        /// The object uses something the VM does not run (a program type, a kernel function).
        case unsupported
        /// A map could not be made or read.
        case map
        /// No program, map or global of that name.
        case notFound
        /// The packet cannot be run (too short, too long).
        case invalidPacket
        /// The program stopped with a VM error.
        case runFailed
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
