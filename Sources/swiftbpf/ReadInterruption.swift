import Foundation

/// Ctrl-C, SIGTERM or SIGHUP while capture reads files (-r, -V): as with tcpdump, what was
/// matched so far is printed or saved whole, and the program ends. The signal is handled on
/// another thread, where the reading one may be waiting on a pipe for the next bytes, so the
/// output is finished there, between two packets.
final class ReadInterruption: @unchecked Sendable {
    private let lock = NSLock()
    private var output: PacketOutput?
    private var stopped = false
    private var sources: [any DispatchSourceSignal] = []

    /// Takes the signals from now on.
    func start() {
        sources = [SIGINT, SIGTERM, SIGHUP].map { signalNumber in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [self] in stop() }
            source.resume()
            return source
        }
    }

    /// The output a stop finishes, from when it is made (so that a stop before the first
    /// match still writes a -w file's header or --count's 0).
    func track(_ output: PacketOutput) {
        lock.lock()
        defer { lock.unlock() }
        self.output = output
    }

    /// Runs `body`, which emits a packet, unless a stop came first.
    func emit(_ body: () throws -> Void) rethrows {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        try body()
    }

    /// Finishes `output` at the end of the reading, unless a stop already did.
    func finish(_ output: PacketOutput?) throws {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        stopped = true
        try output?.finish()
    }

    private func stop() {
        // A write blocked on a reader that stopped reading gives up rather than hang.
        StandardStreams.stopping.store(true, ordering: .relaxed)
        lock.lock()
        let wasStopped = stopped
        stopped = true
        do {
            if !wasStopped { try output?.finish() }
        } catch {
            printError("\(error)")
            exit(1)
        }
        exit(0)
    }
}
