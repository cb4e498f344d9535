/// Why an expression does not compile, with where: the byte offset in the expression
/// (0-based; a column when the expression is one line) and the length of the text at fault.
public struct FilterError: Error, Sendable, Hashable, CustomStringConvertible {
    public var offset: Int
    public var length: Int
    public var message: String

    public init(offset: Int, length: Int = 1, message: String) {
        self.offset = offset
        self.length = length
        self.message = message
    }

    /// `column 6: ...`, columns counted from 1 as editors do.
    public var description: String { "column \(offset + 1): \(message)" }
}
