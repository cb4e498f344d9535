/// A flame graph drawn from folded stacks ("a;b;c 12"): one self-contained SVG, each frame a
/// box as wide as its share of the samples, callers below their callees, with the frame's
/// name, samples and share in its tooltip.
public struct FlameGraph {
    /// One frame in the merged call tree.
    final class Node {
        let name: String
        var count: UInt64 = 0
        var children: [String: Node] = [:]
        var order: [String] = []

        init(name: String) { self.name = name }

        func child(_ name: String) -> Node {
            if let node = children[name] { return node }
            let node = Node(name: name)
            children[name] = node
            order.append(name)
            return node
        }
    }

    let root = Node(name: "all")
    public var title = "Flame Graph"
    public var width = 1200

    public init(title: String = "Flame Graph") { self.title = title }

    /// Adds one folded stack: frames outermost first, separated by ';'.
    public mutating func add(folded stack: String, count: UInt64) {
        guard count > 0 else { return }
        root.count += count
        var node = root
        for frame in stack.split(separator: ";") {
            node = node.child(String(frame))
            node.count += count
        }
    }

    /// The graph as SVG text.
    public func svg() -> String {
        let frameHeight = 16, top = 40
        let depth = Self.depth(root)
        let height = top + (depth + 1) * frameHeight + 10
        var boxes: [String] = []
        let scale = root.count == 0 ? 0 : Double(width - 20) / Double(root.count)
        func draw(_ node: Node, x: Double, level: Int) {
            let boxWidth = Double(node.count) * scale
            guard boxWidth >= 0.1 else { return }
            let y = height - 10 - (level + 1) * frameHeight
            let share = root.count == 0 ? 0 : Double(node.count) * 100 / Double(root.count)
            let label = "\(node.name) (\(node.count) samples, \(Self.percent(share))%)"
            // Room for about one character per 7 pixels.
            let fits = Int(boxWidth / 7)
            let text = fits >= 3 ? (node.name.count <= fits ? node.name : String(node.name.prefix(fits - 2)) + "..") : ""
            boxes.append("<g><title>\(Self.escaped(label))</title><rect x=\"\(Self.number(x))\" y=\"\(y)\" width=\"\(Self.number(boxWidth))\" height=\"\(frameHeight - 1)\" fill=\"\(Self.color(node.name))\" rx=\"2\"/>"
                         + (text.isEmpty ? "" : "<text x=\"\(Self.number(x + 3))\" y=\"\(y + 11)\">\(Self.escaped(text))</text>") + "</g>")
            var childX = x
            for name in node.order.sorted() {
                guard let child = node.children[name] else { continue }
                draw(child, x: childX, level: level + 1)
                childX += Double(child.count) * scale
            }
        }
        draw(root, x: 10, level: 0)
        return """
            <?xml version="1.0" standalone="no"?>
            <svg version="1.1" width="\(width)" height="\(height)" xmlns="http://www.w3.org/2000/svg">
            <style>text { font-family: Verdana, sans-serif; font-size: 11px; fill: #000; pointer-events: none; } rect:hover { stroke: #000; }</style>
            <rect x="0" y="0" width="\(width)" height="\(height)" fill="#fdf6e3"/>
            <text x="\(width / 2)" y="24" text-anchor="middle" style="font-size: 17px">\(Self.escaped(title))</text>
            \(boxes.joined(separator: "\n"))
            </svg>

            """
    }

    static func depth(_ node: Node) -> Int {
        node.children.values.map { 1 + depth($0) }.max() ?? 0
    }

    /// Warm colours from the name, so that a frame keeps its colour between graphs;
    /// kernel frames (`_[k]`) in orange-brown, others red to yellow.
    static func color(_ name: String) -> String {
        var hash: UInt32 = 2_166_136_261
        for byte in name.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let red = 205 + Int(hash % 50), green = Int(hash / 50 % 180), blue = Int(hash / 9000 % 55)
        return name.hasSuffix("_[k]") ? "rgb(\(red - 40),\(green / 2 + 60),\(blue))" : "rgb(\(red),\(green),\(blue))"
    }

    static func escaped(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            default: result.append(character)
            }
        }
        return result
    }

    static func number(_ value: Double) -> String { fixed(value, digits: 1) }

    static func percent(_ value: Double) -> String { fixed(value, digits: 2) }
}
