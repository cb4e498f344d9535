import BPFInstructions
import BPFObject
import BPFVerifier

/// Turns a verified program of an object into what the VM runs: map references become the
/// maps' handles and global-data references the addresses of their values, and loads of the
/// context's packet-pointer fields become 64-bit loads of the VM's pointers
/// (`PacketContextLayout`). The verifier saw the program before; nothing here changes what
/// it proved, only where the same values come from.
enum ProgramRewriter {
    static func rewrite(_ spec: ProgramSpec, verified: VerifiedProgram, layout: PacketContextLayout?,
                        maps: MapTable, valueAddresses: [Int: UInt64]) throws(RuntimeError) -> Program {
        var slots = verified.program.slots
        for relocation in spec.relocations {
            let index = relocation.instruction
            let address: UInt64
            switch relocation.target {
            case .map(let map):
                guard map < maps.maps.count else { throw unsupported(spec, "refers to map \(map), which the object does not have") }
                address = maps.handle(of: map)
            case .mapValue(let map, let offset), .kconfig(_, let map, let offset):
                guard let base = valueAddresses[map] else {
                    throw unsupported(spec, "takes the address of a value of map \(map), which has no single value")
                }
                address = base + UInt64(offset)
            case .subprogramCall, .functionAddress:
                continue
            case .kernelVariable(let name):
                throw unsupported(spec, "reads the kernel variable \(name), which only the Linux kernel has")
            case .kernelFunction(let name):
                throw unsupported(spec, "calls the kernel function \(name), which only the Linux kernel has")
            }
            guard index + 1 < slots.count, slots[index].opcode == 0x18 else {
                throw unsupported(spec, "has a map reference at instruction \(index) that is not a 64-bit load")
            }
            slots[index].src = 0
            slots[index].imm = Int32(bitPattern: UInt32(truncatingIfNeeded: address))
            slots[index + 1].imm = Int32(bitPattern: UInt32(truncatingIfNeeded: address >> 32))
        }
        if let layout {
            for index in verified.contextAccesses where slots[index].opcode == 0x61 {   // ldxw
                guard let offset = layout.pointerOffset(forField: Int(slots[index].offset)) else { continue }
                slots[index].opcode = 0x79                                           // ldxdw
                slots[index].offset = Int16(offset)
            }
        }
        do { return try Program(slots: slots) } catch {
            throw RuntimeError(.invalidObject, "program \(spec.name): the rewritten code does not decode: \(error)")
        }
    }

    private static func unsupported(_ spec: ProgramSpec, _ what: String) -> RuntimeError {
        RuntimeError(.unsupported, "program \(spec.name) \(what)")
    }
}
