import BPFInstructions
import BPFObject
import BPFVerifier

/// One program of a `LoadedObject`, ready to run over packets: verified, rewritten, compiled
/// (or decoded for the interpreter), with its own packet frame, context and stack. A run
/// allocates nothing. One instance runs one packet at a time: it may be handed to another
/// thread, not shared by two at once.
public final class LoadedProgram: @unchecked Sendable {
    public let name: String
    public let layout: PacketContextLayout
    /// What the verifier proved, for the program as the object holds it.
    public let verified: VerifiedProgram
    /// The program as it runs: map references and context fields rewritten.
    public var program: Program { engine.program }
    /// Instructions the last run executed.
    public var executedInstructions: UInt64 { engine.executedInstructions }
    /// The interface the packets arrive on: ingress_ifindex for XDP, ifindex for socket
    /// buffers (1, the loopback device, as in the kernel's test run).
    public var interfaceIndex: UInt32 {
        get { frame.interfaceIndex }
        set { frame.interfaceIndex = newValue }
    }

    let object: LoadedObject
    private let engine: any Engine
    private let frame: PacketFrame
    private let helpers: [Helper]
    private let regions: [MemoryRegion]
    private let tailCalls = TailCalls()
    private let spinLocks = SpinLockHolding()
    private let callbackKeys = CallbackKeys()
    /// The programs tail calls reached, by program id, prepared on first use.
    private var tailTargets: [UInt32: any Engine] = [:]
    /// Whether the frame holds a packet (`rerun()` needs one).
    private var hasPacket = false

    init(name: String, layout: PacketContextLayout, verified: VerifiedProgram, rewritten: Program,
         object: LoadedObject) throws(RuntimeError) {
        self.name = name
        self.layout = layout
        self.verified = verified
        self.object = object
        let frame = PacketFrame(layout: layout)
        self.frame = frame
        let helpers = KernelHelpers.helpers(maps: object.table, frame: frame, tailCalls: tailCalls, host: object.host,
                                            keys: callbackKeys, spinLocks: spinLocks)
        let regions = object.table.storage + [MemoryRegion(name: "context", start: frame.contextAddress, count: layout.hostSize)]
            + object.table.callbackRegions + [callbackKeys.region]
        self.helpers = helpers
        self.regions = regions
        engine = try Self.engine(name, verified: verified, rewritten: rewritten, kind: object.engine, helpers: helpers, regions: regions,
                                 mapLookups: object.mapLookups)
    }

    private static func engine(_ name: String, verified: VerifiedProgram, rewritten: Program, kind: EngineKind, helpers: [Helper],
                               regions: [MemoryRegion], mapLookups: MapLookupDescriptor.Table?) throws(RuntimeError) -> any Engine {
        do {
            switch kind {
            case .jit:
                return try JITProgram(rewrittenFrom: verified, program: rewritten, helpers: helpers, options: .init(),
                                      regions: regions, mapLookups: mapLookups)
            case .interpreter: return try Interpreter(program: rewritten, helpers: helpers, regions: regions)
            }
        } catch {
            throw RuntimeError(.unsupported, "program \(name): \(error)")
        }
    }

    /// The engine for the program a tail call jumps to, made the first time, sharing this
    /// program's frame, helpers and context (a program array holds programs of one type).
    private func tailTarget(_ id: UInt32) throws(RuntimeError) -> any Engine {
        if let engine = tailTargets[id] { return engine }
        let index = Int(id) - 1
        guard index >= 0, index < object.file.programs.count else {
            throw RuntimeError(.runFailed, "program \(name) tail-called program id \(id), which the object does not have")
        }
        let spec = object.file.programs[index]
        let (layout, verified, rewritten) = try object.prepare(spec)
        guard layout == self.layout else {
            throw RuntimeError(.runFailed, "program \(name) tail-called \(spec.name), a \(spec.type.kernelName) program of another context")
        }
        let engine = try Self.engine(spec.name, verified: verified, rewritten: rewritten, kind: object.engine, helpers: helpers,
                                     regions: regions, mapLookups: object.mapLookups)
        tailTargets[id] = engine
        return engine
    }

    /// The largest packet a run takes (the kernel's test run allows the same).
    public var maximumPacketSize: Int { frame.maximumPacketSize }

    /// Runs the program over a copy of `packet`; returns its verdict (r0). Afterwards
    /// `packet` and `metadata` hold the packet as the program left it.
    public func run(packet bytes: UnsafeRawBufferPointer) throws(RuntimeError) -> UInt64 {
        guard frame.load(bytes) else {
            throw RuntimeError(.invalidPacket, "a packet of \(bytes.count) bytes cannot be run: \(name) takes \(PacketFrame.ethernetHeader) to \(frame.maximumPacketSize) bytes")
        }
        hasPacket = true
        return try runFrame()
    }

    /// Runs the program again over the frame as the last run left it, without copying a
    /// packet in or refilling the context — what each repeat of the kernel's test run does.
    package func rerun() throws(RuntimeError) -> UInt64 {
        guard hasPacket else { throw RuntimeError(.invalidPacket, "program \(name) has no packet to run again: run(packet:) first") }
        return try runFrame()
    }

    private func runFrame() throws(RuntimeError) -> UInt64 {
        tailCalls.reset()
        defer { spinLocks.releaseLeftover() }
        var verdict: UInt64
        do { verdict = try engine.run(context: frame.context, input: frame.input) } catch {
            throw RuntimeError(.runFailed, "program \(name) stopped: \(error)")
        }
        // A tail call ended the run; the program it jumps to runs on the same context.
        while let id = tailCalls.target {
            tailCalls.target = nil
            let target = try tailTarget(id)
            do { verdict = try target.run(context: frame.context, input: frame.input) } catch {
                throw RuntimeError(.runFailed, "program \(name) stopped in the program it tail-called (id \(id)): \(error)")
            }
        }
        return verdict
    }

    /// Runs the program over `packet`; the verdict and the packet and metadata afterwards.
    public func run(packet: [UInt8]) throws(RuntimeError) -> PacketRun {
        let verdict = try Self.run(self, packet)
        return PacketRun(verdict: verdict, packet: self.packet.map { Array($0) } ?? [], metadata: metadata.map { Array($0) } ?? [])
    }

    @inline(never)
    private static func run(_ program: LoadedProgram, _ packet: [UInt8]) throws(RuntimeError) -> UInt64 {
        var result: Result<UInt64, RuntimeError> = .success(0)
        packet.withUnsafeBytes { bytes in
            do throws(RuntimeError) { result = .success(try program.run(packet: bytes)) } catch { result = .failure(error) }
        }
        return try result.get()
    }

    /// The packet after the last run: data to data_end (for a socket filter, with its
    /// Ethernet header). Valid until the next run.
    public var packet: UnsafeRawBufferPointer? { frame.packet }
    /// The context after the last run in the kernel's layout (`xdp_md`, `__sk_buff`), as
    /// BPF_PROG_TEST_RUN gives it back: the fields the program wrote (mark, priority, cb,
    /// tc_index, ...). The packet-pointer fields are left 0: the VM keeps real pointers elsewhere.
    public var context: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: frame.context, count: layout.kernelSize) }

    /// XDP metadata after the last run (data_meta to data); empty for other types.
    public var metadata: UnsafeRawBufferPointer? { layout == .xdp ? frame.metadata : UnsafeRawBufferPointer(start: nil, count: 0) }
}

/// What one run over a packet gave.
public struct PacketRun: Sendable, Hashable {
    /// r0: XDP_PASS and friends, a TC action, a socket filter's byte count.
    public var verdict: UInt64
    /// The packet as the program left it.
    public var packet: [UInt8]
    /// XDP metadata the program put in front of the packet.
    public var metadata: [UInt8]
}
