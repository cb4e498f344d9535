#if os(Linux)
import BPFLinux

/// profile: CPU sampling with user and kernel stacks, at a frequency, on every CPU (a perf
/// event on the CPU clock carrying bpf/profile.bpf.c). The samples are counted in the
/// kernel by process and stack pair; `samples()` reads them, `StackSymbols` names the frames.
public final class Profiler {
    public static let tool = "profile"

    /// A process and stack pair and how many samples hit it.
    public struct Sample: Sendable, Hashable {
        public var pid: Int32
        public var command: String
        /// Return addresses, innermost first; empty when the sample had none (a kernel
        /// thread has no user stack) or when it was not asked for.
        public var userStack: [UInt64]
        public var kernelStack: [UInt64]
        public var count: UInt64
    }

    private let attached: AttachedObject
    private let sampleCounts: Map
    private let stacks: Map
    private let lost: BPFSkeletonGlobal<UInt64>

    /// Starts sampling `frequency` times a second on each CPU (bcc's default is 49);
    /// `pid` keeps one process's samples.
    public init(frequency: UInt64 = 49, pid: Int32? = nil, userStacks: Bool = true, kernelStacks: Bool = true) throws(ToolError) {
        var constants = ProfileSkeleton.Constants()
        constants.target_pid = pid
        constants.skip_user = userStacks ? 0 : 1
        constants.skip_kernel = kernelStacks ? 0 : 1
        let skeleton = try loadSkeleton(tool: Self.tool) { try ProfileSkeleton(constants: constants) }
        sampleCounts = skeleton.maps.samples
        stacks = skeleton.maps.stacks
        lost = skeleton.globals.lost_samples
        attached = try AttachedObject(tool: Self.tool, object: skeleton.collection) { () throws(BPFError) in
            [try Link.perfEvent(.software(.cpuClock), sampling: .frequency(frequency), program: skeleton.programs.profile_sample)]
        }
    }

    /// The samples so far, the most frequent first.
    public func samples() throws(ToolError) -> [Sample] {
        var raw: [(key: [UInt8], count: [UInt8], user: [UInt64], kernel: [UInt64])] = []
        do {
            for entry in try sampleCounts.entries() {
                // struct sample_key: pid, user stack id, kernel stack id, comm[16].
                guard entry.key.count >= 28, entry.value.count == 8 else {
                    throw ToolError(tool: Self.tool, message: "the kernel returned a \(entry.key.count)-byte sample key and \(entry.value.count)-byte count; expected 28 and 8")
                }
                let user = try stack(load(Int32.self, from: Array(entry.key[4..<8])))
                let kernel = try stack(load(Int32.self, from: Array(entry.key[8..<12])))
                raw.append((entry.key, entry.value, user, kernel))
            }
        } catch let error as BPFError {
            throw ToolError(tool: Self.tool, error)
        } catch let error as ToolError {
            throw error
        } catch {
            throw ToolError(tool: Self.tool, message: "\(error)")
        }
        return Self.samples(raw)
    }

    /// The checked entries as samples, sorted. Out of line and not throwing, as in
    /// SyscallCounter.rows.
    @inline(never)
    private static func samples(_ raw: [(key: [UInt8], count: [UInt8], user: [UInt64], kernel: [UInt64])]) -> [Sample] {
        raw.map { entry in
            Sample(pid: load(Int32.self, from: Array(entry.key[0..<4])),
                   command: String(decoding: entry.key[12..<28].prefix { $0 != 0 }, as: UTF8.self),
                   userStack: entry.user, kernelStack: entry.kernel, count: load(UInt64.self, from: entry.count))
        }.sorted { $0.count > $1.count }
    }

    /// Samples the kernel could not count (its map was full).
    public func lostSamples() throws(ToolError) -> UInt64 {
        do { return try lost.get() } catch { throw ToolError(tool: Self.tool, error) }
    }

    /// The addresses of stack `id`, innermost first; none for a negative id (no stack).
    private func stack(_ id: Int32) throws -> [UInt64] {
        guard id >= 0, let value = try stacks.lookup(key: bytes(of: UInt32(id))) else { return [] }
        var addresses: [UInt64] = []
        for offset in stride(from: 0, to: value.count - 7, by: 8) {
            let address = load(UInt64.self, from: Array(value[offset..<offset + 8]))
            if address == 0 { break }
            addresses.append(address)
        }
        return addresses
    }

    /// Stops sampling and releases the object.
    public func close() { attached.close() }
}
#endif
