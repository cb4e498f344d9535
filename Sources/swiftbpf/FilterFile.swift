/// A filter expression kept in a file, as tcpdump -F reads it: the whole file is the
/// expression, and `#` starts a comment that runs to the end of its line.
enum FilterFile {
    static func read(_ path: String) throws -> String {
        let bytes: [UInt8]
        do {
            bytes = try readFile(path)
        } catch {
            throw CommandError("capture: the filter file \(error)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw CommandError("capture: the filter file \(path) is not UTF-8 text")
        }
        return withoutComments(text)
    }

    /// Comments and line breaks become spaces rather than vanishing, so positions in
    /// error messages still point into the file's text.
    static func withoutComments(_ text: String) -> String {
        var inComment = false
        return String(text.map { character -> Character in
            if character == "#" { inComment = true }
            if character.isNewline {
                inComment = false
                return " "
            }
            return inComment ? " " : character
        })
    }
}
