import BPFInstructions

/// Applies CO-RE relocations as libbpf does when it loads an object: for each relocation,
/// the target types whose name matches the local type's (`___flavor` suffixes ignored) are
/// candidates; each is matched against the relocation's access; the matching ones must
/// all agree; the instruction gets the value the target gives — or, when nothing
/// matches, is poisoned (`call 0xbad2310`) so that the program fails only if it runs it.
///
/// Candidates are cached per local type and pruned to those that matched, shared by
/// every relocation resolved through the same relocator, as libbpf shares them across an
/// object's programs. Use one relocator per object and target.
public struct CORERelocator: Sendable {
    public let localBTF: BTF
    public let targetBTF: BTF
    private var candidateCache: [BTFTypeID: [BTFTypeID]] = [:]

    /// `localBTF` is the object's `.BTF`; `targetBTF` the kernel's (`/sys/kernel/btf/vmlinux`),
    /// or split BTF whose own types are searched only when its base has no candidate (as
    /// libbpf searches module BTF only when vmlinux has none).
    public init(localBTF: BTF, targetBTF: BTF) {
        self.localBTF = localBTF
        self.targetBTF = targetBTF
    }

    /// The program's instructions with every CO-RE relocation applied, and each decision.
    public mutating func relocate(_ program: ProgramSpec) throws(CORERelocationError) -> CORERelocationResult {
        var instructions = program.instructions
        var decisions: [CORERelocationDecision] = []
        decisions.reserveCapacity(program.coreRelocations.count)
        for (index, relocation) in program.coreRelocations.enumerated() {
            do throws(CORERelocationError) {
                guard relocation.instructionOffset % UInt32(RawInstruction.byteCount) == 0,
                      relocation.instructionIndex < instructions.count else {
                    throw CORERelocationError(.instructionOutOfRange(offset: relocation.instructionOffset),
                                              relocationIndex: index, instructionIndex: relocation.instructionIndex)
                }
                var decision = try resolve(relocation, index: index)
                decision.patch = try Self.patch(&instructions, with: decision)
                decisions.append(decision)
            } catch {
                var error = error
                error.program = program.name
                throw error
            }
        }
        return CORERelocationResult(instructions: instructions, decisions: decisions)
    }

    /// Decides one relocation without patching anything (`bpf_core_calc_relo_insn`).
    /// `index` only labels errors and explanations.
    public mutating func resolve(_ relocation: BTFExt.CORERelocation, index: Int = 0) throws(CORERelocationError) -> CORERelocationDecision {
        do {
            return try decide(relocation, index: index)
        } catch {
            throw CORERelocationError(error.reason, relocationIndex: index, instructionIndex: relocation.instructionIndex)
        }
    }

    private mutating func decide(_ relocation: BTFExt.CORERelocation, index: Int) throws(COREFailure) -> CORERelocationDecision {
        let localID = relocation.typeID
        guard localBTF.type(localID) != nil else { throw COREFailure(.unknownLocalType(localID)) }
        var candidates: [BTFTypeID] = []
        if relocation.kind != .typeIDLocal {
            if let cached = candidateCache[localID] {
                candidates = cached
            } else {
                candidates = try findCandidates(for: localID)
                candidateCache[localID] = candidates
            }
        }
        let localSpec = try CORESpec(parsing: relocation, in: localBTF)
        var decision = CORERelocationDecision(relocation: relocation, index: index, localSpec: localSpec)

        // The program's own type id needs no target.
        if relocation.kind == .typeIDLocal {
            decision.validatesOriginal = false
            decision.originalValue = UInt64(localSpec.rootTypeID)
            decision.newValue = UInt64(localSpec.rootTypeID)
            return decision
        }

        let rules = CORETypeRules(local: localBTF, target: targetBTF)
        var chosen: (values: COREValues, spec: CORESpec)?
        var kept: [BTFTypeID] = []
        for candidate in candidates {
            let (matched, spec) = try rules.match(localSpec, candidate: candidate)
            decision.candidates.append(CORERelocationDecision.Candidate(typeID: candidate, matched: matched, spec: spec))
            guard matched else { continue }
            let values = try COREValues(kind: relocation.kind, local: localSpec, localBTF: localBTF, target: spec, targetBTF: targetBTF)
            if let chosen {
                // Flavors and dedup leftovers may match more than once; they must agree.
                if spec.bitOffset != chosen.spec.bitOffset {
                    throw COREFailure(.fieldOffsetAmbiguity(first: chosen.spec.bitOffset, other: spec.bitOffset))
                }
                if values.isPoisoned != chosen.values.isPoisoned || values.new != chosen.values.new {
                    throw COREFailure(.decisionAmbiguity(first: Self.outcome(chosen.values), other: Self.outcome(values)))
                }
            } else {
                chosen = (values, spec)
            }
            kept.append(candidate)
        }
        // Later relocations of this type only try the candidates that matched.
        if !kept.isEmpty { candidateCache[localID] = kept }

        let values: COREValues
        if let chosen {
            values = chosen.values
        } else {
            values = try COREValues(kind: relocation.kind, local: localSpec, localBTF: localBTF, target: nil, targetBTF: targetBTF)
        }
        decision.targetSpec = chosen?.spec
        decision.originalValue = values.original
        decision.newValue = values.new
        decision.isPoisoned = values.isPoisoned
        decision.validatesOriginal = values.validatesOriginal
        decision.failsSizeAdjustment = values.failsSizeAdjustment
        decision.originalSize = values.originalSize
        decision.newSize = values.newSize
        decision.originalFieldTypeID = values.originalTypeID
        decision.newFieldTypeID = values.newTypeID
        return decision
    }

    private static func outcome(_ values: COREValues) -> String {
        values.isPoisoned ? "failure" : "success \(values.new)"
    }

    /// Target types with the local type's essential name and a compatible kind
    /// (`bpf_core_find_cands`), base BTF first: split BTF's own types only when the base
    /// has none.
    private func findCandidates(for localID: BTFTypeID) throws(COREFailure) -> [BTFTypeID] {
        guard let localKind = localBTF.kind(of: localID), let name = localBTF.name(of: localID), !name.isEmpty else {
            throw COREFailure(.anonymousType)
        }
        var localName = name
        let wanted = localName.withUTF8 { Array($0.prefix(CORETypeRules.essentialLength($0))) }
        var found: [BTFTypeID] = []
        for storage in targetBTF.storage.chain {
            for (index, record) in storage.records.enumerated() where record.nameOffset != 0 {
                guard CORETypeRules.kindsCompatible(record.kind, localKind) else { continue }
                let matches = targetBTF.strings.withUTF8(at: record.nameOffset) { bytes in
                    CORETypeRules.essentialLength(bytes) == wanted.count && bytes.prefix(wanted.count).elementsEqual(wanted)
                } ?? false
                if matches { found.append(BTFTypeID(truncatingIfNeeded: storage.firstID + index)) }
            }
            if !found.isEmpty { break }
        }
        return found
    }

    // MARK: Patching

    /// `call 0xbad2310` ("bad relo"): the verifier reports `invalid func unknown#195896080`
    /// if the instruction is reachable.
    public static let poisonImmediate: Int32 = 0xbad2310
    static let poisonInstruction = RawInstruction(opcode: 0x85, imm: poisonImmediate)

    /// Writes a decision into the instruction it relocates (`bpf_core_patch_insn`): an
    /// ALU immediate, a load or store offset (and access size, where the field's size
    /// changed and that is safe), or a 64-bit immediate; checks first that the
    /// instruction holds the value the local BTF gives.
    public static func patch(_ instructions: inout [RawInstruction],
                             with decision: CORERelocationDecision) throws(CORERelocationError) -> CORERelocationPatch {
        let index = decision.relocation.instructionIndex
        func fail(_ reason: CORERelocationError.Reason) -> CORERelocationError {
            CORERelocationError(reason, relocationIndex: decision.index, instructionIndex: index)
        }
        guard instructions.indices.contains(index) else {
            throw fail(.instructionOutOfRange(offset: decision.relocation.instructionOffset))
        }
        let instruction = instructions[index]
        let isWideLoad = instruction.opcode == 0x18
        func poison() -> CORERelocationPatch {
            // Both slots of a 64-bit load, so the verifier does not stumble on opcode 0 first.
            if isWideLoad && index + 1 < instructions.count { instructions[index + 1] = poisonInstruction }
            instructions[index] = poisonInstruction
            return .poisoned
        }
        if decision.isPoisoned { return poison() }
        let original = decision.originalValue, new = decision.newValue

        switch instruction.opcode & 0x07 {
        case 0x04, 0x07:  // ALU, ALU64
            guard instruction.opcode & 0x08 == 0 else { throw fail(.unsupportedInstruction(opcode: instruction.opcode)) }
            if decision.validatesOriginal && UInt64(bitPattern: Int64(instruction.imm)) != original {
                throw fail(.unexpectedValue(found: Int64(instruction.imm), expected: original))
            }
            let patched = Int32(truncatingIfNeeded: new)
            instructions[index].imm = patched
            return .immediate(from: instruction.imm, to: patched)
        case 0x01, 0x02, 0x03:  // LDX, ST, STX
            if decision.validatesOriginal && UInt64(bitPattern: Int64(instruction.offset)) != original {
                throw fail(.unexpectedValue(found: Int64(instruction.offset), expected: original))
            }
            guard new <= UInt64(Int16.max) else { throw fail(.offsetTooLarge(new)) }
            if decision.failsSizeAdjustment { return poison() }
            let patched = Int16(truncatingIfNeeded: new)
            instructions[index].offset = patched
            guard decision.newSize != decision.originalSize else { return .offset(from: instruction.offset, to: patched, sizeChange: nil) }
            let accessSize = Self.accessSize(instruction.opcode)
            guard accessSize == decision.originalSize else {
                throw fail(.unexpectedMemorySize(found: accessSize, expected: decision.originalSize))
            }
            guard let sizeBits = Self.sizeBits(decision.newSize) else { throw fail(.invalidMemorySize(decision.newSize)) }
            instructions[index].opcode = instruction.opcode & 0xe0 | sizeBits | instruction.opcode & 0x07
            return .offset(from: instruction.offset, to: patched,
                           sizeChange: CORERelocationPatch.SizeChange(from: decision.originalSize, to: decision.newSize))
        case 0x00:  // LD: only `lddw rX, imm64` with nothing else set
            guard isWideLoad, index + 1 < instructions.count, instruction.src == 0, instruction.offset == 0 else {
                throw fail(.unsupportedInstruction(opcode: instruction.opcode))
            }
            let high = instructions[index + 1]
            guard high.opcode == 0, high.dst == 0, high.src == 0, high.offset == 0 else {
                throw fail(.unsupportedInstruction(opcode: instruction.opcode))
            }
            let value = UInt64(UInt32(bitPattern: instruction.imm)) | UInt64(UInt32(bitPattern: high.imm)) << 32
            if decision.validatesOriginal && value != original {
                throw fail(.unexpectedValue(found: Int64(bitPattern: value), expected: original))
            }
            instructions[index].imm = Int32(truncatingIfNeeded: new)
            instructions[index + 1].imm = Int32(truncatingIfNeeded: new >> 32)
            return .wideImmediate(from: value, to: new)
        default:
            throw fail(.unsupportedInstruction(opcode: instruction.opcode))
        }
    }

    /// Bytes a load or store moves, from its size bits.
    private static func accessSize(_ opcode: UInt8) -> Int {
        switch opcode & 0x18 {
        case 0x18: 8
        case 0x00: 4
        case 0x08: 2
        default: 1
        }
    }

    private static func sizeBits(_ bytes: Int) -> UInt8? {
        switch bytes {
        case 8: 0x18
        case 4: 0x00
        case 2: 0x08
        case 1: 0x10
        default: nil
        }
    }
}

extension ProgramSpec {
    /// The program's instructions with its CO-RE relocations applied against
    /// `targetBTF` (usually the running kernel's), and the decision for each. `localBTF`
    /// is the object's (`ObjectFile.btf`).
    public func relocatingCORE(localBTF: BTF, targetBTF: BTF) throws(CORERelocationError) -> CORERelocationResult {
        var relocator = CORERelocator(localBTF: localBTF, targetBTF: targetBTF)
        return try relocator.relocate(self)
    }

    /// This program as a loader hands it to the kernel: its CO-RE relocations applied against
    /// `targetBTF` (none left), or unchanged when it has none.
    public func relocatedForCORE(localBTF: BTF?, targetBTF: BTF) throws -> ProgramSpec {
        guard !coreRelocations.isEmpty, let localBTF else { return self }
        var relocated = self
        relocated.instructions = try relocatingCORE(localBTF: localBTF, targetBTF: targetBTF).instructions
        relocated.program = try Program(slots: relocated.instructions)
        relocated.coreRelocations = []
        return relocated
    }
}
