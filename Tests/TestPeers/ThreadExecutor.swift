import Dispatch
import Foundation
import Synchronization

/// A task executor with one thread of its own, for async test code that must not wait for
/// the cooperative pool: kernel tests hold `KernelTestLock`, which other kernel tests wait
/// for on cooperative threads, so async work inside it could find no thread to run on.
public final class ThreadExecutor: TaskExecutor, @unchecked Sendable {
    public static let shared = ThreadExecutor()
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    private init() {
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "swiftbpf-test-executor"
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

extension ThreadExecutor {
    public struct NoResult: Error {}

    /// Runs async `body` to completion on the executor's thread and waits for it.
    public static func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let result = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task(executorPreference: shared) {
            let outcome: Result<T, any Error>
            do { outcome = .success(try await body()) } catch { outcome = .failure(error) }
            result.withLock { $0 = outcome }
            done.signal()
        }
        done.wait()
        guard let outcome = result.withLock({ $0 }) else { throw NoResult() }
        return try outcome.get()
    }
}
