import ArgumentParser

/// The print forms of a classic program, as tcpdump names them: -d (a listing), -dd (a C
/// array), -ddd (decimal numbers); --dd and --ddd spell the last two as one word.
struct ClassicDumpOptions: ParsableArguments {
    @Flag(name: .customShort("d"), help: "Print as tcpdump -d (the default); -dd a C array, -ddd decimal numbers, as tcpdump.") var count: Int
    @Flag(name: .customLong("dd"), help: "Print as tcpdump -dd: a C array.") var cArray = false
    @Flag(name: .customLong("ddd"), help: "Print as tcpdump -ddd: decimal numbers.") var decimal = false

    func validate() throws {
        if count > 3 { throw ValidationError("-d may be given at most three times (-ddd)") }
    }

    /// 1 for the listing, 2 for the C array, 3 for decimal numbers.
    var level: Int { decimal ? 3 : cArray ? 2 : max(count, 1) }
}
