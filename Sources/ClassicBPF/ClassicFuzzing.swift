extension ClassicProgram {
    /// The fuzzing entry point: reads `bytes` as `struct sock_filter`s and as text in each
    /// of tcpdump's three forms; every program that validates is run (with the bytes as the
    /// packet, under both semantics), printed, read back and translated for both targets.
    /// Only ever returns; the counts say how far the input got.
    @discardableResult
    public static func fuzz(_ bytes: [UInt8]) -> (programs: Int, errors: Int) {
        var programs: [ClassicProgram] = []
        var errors = 0
        do { programs.append(try ClassicProgram(bytes: bytes)) } catch { errors += 1 }
        let text = String(decoding: bytes, as: UTF8.self)
        for format in ClassicTextFormat.allCases {
            do { programs.append(try ClassicProgram(format.parse(text))) } catch { errors += 1 }
        }
        for program in programs {
            let interpreter = ClassicInterpreter(program: program)
            _ = interpreter.run(packet: bytes)
            _ = interpreter.run(packet: bytes, ancillary: AncillaryData(networkHeaderOffset: 0, linkLayerHeaderOffset: 0))
            for format in ClassicTextFormat.allCases {
                if (try? format.parse(format.format(program))) == nil { errors += 1 }
            }
            for target in [ClassicTranslationTarget.virtualMachine, .socketFilter] {
                for semantics in [ClassicSemantics.libpcap, .linux] {
                    if (try? ClassicTranslator.translate(program, to: target, semantics: semantics)) == nil { errors += 1 }
                }
            }
        }
        return (programs.count, errors)
    }
}
