/// Why classic program text could not be read, and where: 1-based line and column (in
/// Unicode scalars, so a tab counts as one).
public struct ClassicSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    /// One sentence saying what is wrong, without the location.
    public var message: String

    public init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String { "line \(line):\(column): \(message)" }
}
