#if os(Linux)
import CBPFLinux
import Glibc
import Synchronization

/// Waits for descriptors to become readable on behalf of async code, so that event streams
/// never block the cooperative thread pool: one dedicated thread sits in epoll_wait and
/// resumes the waiting task's continuation. Each wait is a one-shot registration, removed
/// when it fires or its task is cancelled, so a reader that stops iterating leaves nothing
/// behind.
final class EventPoller: Sendable {
    /// The process-wide poller, started on first use.
    static let shared = EventPoller()

    enum Outcome: Sendable {
        case ready
        case cancelled
        case failed(Int32)
    }

    private enum Waiter {
        case waiting(fd: Int32, CheckedContinuation<Outcome, Never>)
        /// Cancelled before it could register.
        case cancelled
    }

    private struct State {
        var nextToken: UInt64 = 1
        var waiters: [UInt64: Waiter] = [:]
        var started = false
    }

    /// The epoll instance, or the errno of its creation.
    private let epoll: Int32
    private let creationError: Int32
    private let state = Mutex(State())

    private init() {
        let fd = epoll_create1(Int32(EPOLL_CLOEXEC))
        epoll = fd
        creationError = fd < 0 ? errno : 0
    }

    /// Suspends until `fd` is readable; false when the task was cancelled first.
    func waitReadable(_ fd: Int32) async throws(BPFError) -> Bool {
        guard epoll >= 0 else { throw BPFError(operation: "epoll_create1", errno: creationError) }
        let startError = startIfNeeded()
        guard startError == 0 else { throw BPFError(operation: "pthread_create", errno: startError, subject: "event poller thread") }
        let token = newToken()
        let outcome = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
                register(token, fd: fd, continuation)
            }
        } onCancel: {
            finish(token, with: .cancelled)
        }
        switch outcome {
        case .ready: return true
        case .cancelled: return false
        case .failed(let code): throw BPFError(operation: "epoll", errno: code, subject: "waiting for fd \(fd)")
        }
    }

    // The lock's closures live in functions of their own, outside the typed-throws
    // caller: Swift 6.3's optimizer can let such a closure clobber the caller's error.
    @inline(never)
    private func newToken() -> UInt64 {
        state.withLock { state in
            defer { state.nextToken += 1 }
            return state.nextToken
        }
    }

    @inline(never)
    private func register(_ token: UInt64, fd: Int32, _ continuation: CheckedContinuation<Outcome, Never>) {
        // Registration and removal both happen under the lock, so an event can never find a
        // token whose descriptor was already removed and re-added for another wait.
        let immediate: Outcome? = state.withLock { state in
            if case .cancelled? = state.waiters[token] {
                state.waiters[token] = nil
                return .cancelled
            }
            var event = epoll_event()
            event.events = EPOLLIN.rawValue | EPOLLONESHOT.rawValue
            event.data.u64 = token
            guard epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0 else { return .failed(errno) }
            state.waiters[token] = .waiting(fd: fd, continuation)
            return nil
        }
        if let immediate { continuation.resume(returning: immediate) }
    }

    /// Resumes the waiter for `token`, if it is still waiting; a cancellation that comes
    /// before registration leaves a marker for `register` to find.
    @inline(never)
    private func finish(_ token: UInt64, with outcome: Outcome) {
        let continuation: CheckedContinuation<Outcome, Never>? = state.withLock { state in
            switch state.waiters[token] {
            case .waiting(let fd, let continuation)?:
                state.waiters[token] = nil
                var unused = epoll_event()
                _ = epoll_ctl(epoll, EPOLL_CTL_DEL, fd, &unused)
                return continuation
            case .cancelled?:
                return nil
            case nil:
                if case .cancelled = outcome { state.waiters[token] = .cancelled }
                return nil
            }
        }
        continuation?.resume(returning: outcome)
    }

    /// The thread is ending: every waiter gets the error, and the next wait starts a thread.
    @inline(never)
    private func failAll(_ code: Int32) {
        let waiting: [CheckedContinuation<Outcome, Never>] = state.withLock { state in
            var continuations: [CheckedContinuation<Outcome, Never>] = []
            for (token, waiter) in state.waiters {
                guard case .waiting(let fd, let continuation) = waiter else { continue }
                var unused = epoll_event()
                _ = epoll_ctl(epoll, EPOLL_CTL_DEL, fd, &unused)
                state.waiters[token] = nil
                continuations.append(continuation)
            }
            state.started = false
            return continuations
        }
        for continuation in waiting { continuation.resume(returning: .failed(code)) }
    }

    /// Starts the thread once; returns 0 or pthread_create's error.
    @inline(never)
    private func startIfNeeded() -> Int32 {
        let start = state.withLock { state in
            defer { state.started = true }
            return !state.started
        }
        guard start else { return 0 }
        var thread = pthread_t()
        let context = Unmanaged.passRetained(self).toOpaque()
        let result = pthread_create(&thread, nil, { context in
            guard let context else { return nil }
            Unmanaged<EventPoller>.fromOpaque(context).takeRetainedValue().run()
            return nil
        }, context)
        guard result == 0 else {
            Unmanaged<EventPoller>.fromOpaque(context).release()
            state.withLock { $0.started = false }
            return result
        }
        pthread_detach(thread)
        return 0
    }

    private func run() {
        withUnsafeTemporaryAllocation(of: epoll_event.self, capacity: 64) { events in
            while true {
                let count = epoll_wait(epoll, events.baseAddress, Int32(events.count), -1)
                if count < 0 {
                    if errno == EINTR { continue }
                    failAll(errno)
                    return
                }
                for index in 0..<Int(count) {
                    finish(events[index].data.u64, with: .ready)
                }
            }
        }
    }
}
#endif
