#if canImport(Glibc)
import Glibc

/// Runs a program with its output discarded and waits for it: posix_spawn and waitpid,
/// which cost microseconds, where Foundation's `Process` adds tens of milliseconds to
/// every run (it watches the child from a run loop) — too much for a peer's timing.
func spawn(_ executable: String, _ arguments: [String]) -> Bool {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let argv = ([executable] + arguments).map { strdup($0) }
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    guard posix_spawn(&pid, executable, &actions, nil, argv + [nil], environ) == 0 else { return false }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    return status == 0
}

/// The best wall time of `rounds` runs of a program, in ns; nil if a run fails.
func spawnTime(_ executable: String, _ arguments: [String], rounds: Int) -> Double? {
    var best = Double.infinity
    for _ in 0..<rounds {
        let start = ContinuousClock.now
        guard spawn(executable, arguments) else { return nil }
        best = min(best, nanoseconds(ContinuousClock.now - start))
    }
    return best
}
#endif
