import BPFInstructions
@testable import BPFVerifier
import Testing

/// The number domain against brute force: for sets of concrete numbers, what the domain says
/// about a result (or a branch) must include every concrete outcome.
@Suite struct ScalarDomainTests {
    static let samples: [UInt64] = [0, 1, 2, 3, 7, 8, 100, 255, 256, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff,
                                     0x1_0000_0000, 0x7fff_ffff_ffff_ffff, 0x8000_0000_0000_0000, .max, .max - 1]

    /// The smallest abstraction of a set of numbers the domain builds (a join of constants).
    static func abstraction(_ values: [UInt64]) -> Scalar {
        var s = Scalar.constant(values[0])
        for v in values.dropFirst() {
            let c = Scalar.constant(v)
            var bits = s.bits
            bits.mask |= bits.value ^ v
            bits.value &= ~bits.mask
            s = Scalar(bits: bits, umin: min(s.umin, c.umin), umax: max(s.umax, c.umax), smin: min(s.smin, c.smin),
                       smax: max(s.smax, c.smax), u32min: min(s.u32min, c.u32min), u32max: max(s.u32max, c.u32max),
                       s32min: min(s.s32min, c.s32min), s32max: max(s.s32max, c.s32max))
        }
        return s.synchronized() ?? .unknown
    }

    static func admits(_ s: Scalar, _ v: UInt64) -> Bool { s.contains(.constant(v)) }

    @Test func arithmeticOverApproximates() {
        var random = SeededGenerator(seed: 7)
        for _ in 0..<3000 {
            let xs = (0..<Int.random(in: 1...3, using: &random)).map { _ in Self.samples.randomElement(using: &random) ?? 0 &+ UInt64.random(in: 0...3, using: &random) }
            let ys = (0..<Int.random(in: 1...3, using: &random)).map { _ in Self.samples.randomElement(using: &random) ?? 0 &+ UInt64.random(in: 0...3, using: &random) }
            let a = Self.abstraction(xs), b = Self.abstraction(ys)
            for x in xs { #expect(Self.admits(a, x)) }
            for op in ArithmeticOperation.allCases {
                for width in [Width.bits64, .bits32] {
                    let r = Scalar.apply(op, width, a, b)
                    for x in xs {
                        for y in ys {
                            let concrete = Scalar.evaluate(op, width, x, y)
                            #expect(Self.admits(r, concrete), "\(op) \(width) \(x) \(y) = \(concrete) not in \(r)")
                        }
                    }
                }
            }
        }
    }

    @Test func byteSwapsKeepEveryPossibleOutcome() {
        var random = SeededGenerator(seed: 13)
        for _ in 0..<2000 {
            let xs = (0..<Int.random(in: 1...3, using: &random)).map { _ in
                (Self.samples.randomElement(using: &random) ?? 0) &* UInt64.random(in: 1...0x1_0001, using: &random)
            }
            let a = Self.abstraction(xs)
            for bits in [16, 32, 64] {
                let swapped = Scalar.from(bits: a.bits.byteSwapped(bits: bits))
                for x in xs {
                    let concrete: UInt64 = switch bits {
                    case 16: UInt64(UInt16(truncatingIfNeeded: x).byteSwapped)
                    case 32: UInt64(UInt32(truncatingIfNeeded: x).byteSwapped)
                    default: x.byteSwapped
                    }
                    #expect(Self.admits(swapped, concrete), "bswap\(bits) \(x)")
                }
                if let x = xs.first, xs.count == 1 { #expect(swapped.isConstant, "bswap\(bits) of the constant \(x)") }
            }
        }
    }

    @Test func branchRefinementKeepsEveryPossibleOutcome() {
        var random = SeededGenerator(seed: 11)
        for _ in 0..<3000 {
            let xs = (0..<Int.random(in: 1...3, using: &random)).map { _ in Self.samples.randomElement(using: &random) ?? 0 &+ UInt64.random(in: 0...2, using: &random) }
            let ys = (0..<Int.random(in: 1...2, using: &random)).map { _ in Self.samples.randomElement(using: &random) ?? 0 &+ UInt64.random(in: 0...2, using: &random) }
            let a = Self.abstraction(xs), b = Self.abstraction(ys)
            for condition in JumpCondition.allCases {
                for width in [Width.bits64, .bits32] {
                    for holds in [true, false] {
                        let refined = ScalarComparison.refine(condition, width, a, b, holds: holds)
                        for x in xs {
                            for y in ys where Self.compare(condition, width, x, y) == holds {
                                guard let (ra, rb) = refined else {
                                    Issue.record("\(condition) \(width) \(x) \(y) holds=\(holds) called impossible")
                                    continue
                                }
                                #expect(Self.admits(ra, x) && Self.admits(rb, y), "\(condition) \(width) \(x) \(y) \(holds)")
                            }
                        }
                    }
                }
            }
        }
    }

    static func compare(_ condition: JumpCondition, _ width: Width, _ x: UInt64, _ y: UInt64) -> Bool {
        let (ux, uy) = width == .bits64 ? (x, y) : (x & 0xffff_ffff, y & 0xffff_ffff)
        let (sx, sy) = width == .bits64 ? (Int64(bitPattern: x), Int64(bitPattern: y))
            : (Int64(Int32(truncatingIfNeeded: x)), Int64(Int32(truncatingIfNeeded: y)))
        return switch condition {
        case .eq: ux == uy
        case .ne: ux != uy
        case .gt: ux > uy
        case .ge: ux >= uy
        case .lt: ux < uy
        case .le: ux <= uy
        case .set: ux & uy != 0
        case .sgt: sx > sy
        case .sge: sx >= sy
        case .slt: sx < sy
        case .sle: sx <= sy
        }
    }
}
