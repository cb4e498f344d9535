import Synchronization

/// Tests that create kernel bpf objects in this process run one at a time, whichever test
/// target they are in: the leak checks count /proc/self/fd before and after a test, which
/// only means something while no other test is opening bpf descriptors.
public enum KernelTestLock {
    private static let lock = Mutex<Void>(())

    public static func run<T>(_ body: () throws -> T) throws -> T {
        try lock.withLock { _ in try body() }
    }
}
