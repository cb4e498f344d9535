/// A variable in a global-data section (`.data`, `.rodata`, `.bss` and their `.name`
/// variants): where it lives in its section's array map, and its BTF type.
public struct GlobalVariable: Sendable, Hashable {
    public var name: String
    public var sectionName: String
    /// Index in `ObjectFile.maps` of the section's array map.
    public var mapIndex: Int
    /// Byte offset in the map's value (the section).
    public var offset: Int
    public var size: Int
    /// `static`, or hidden: not visible to user space through a skeleton.
    public var isStatic: Bool
    /// The variable's type in the object's BTF (not the `VAR` itself), when BTF describes it.
    public var btfTypeID: BTFTypeID?

    public init(name: String, sectionName: String, mapIndex: Int, offset: Int, size: Int, isStatic: Bool,
                btfTypeID: BTFTypeID?) {
        self.name = name
        self.sectionName = sectionName
        self.mapIndex = mapIndex
        self.offset = offset
        self.size = size
        self.isStatic = isStatic
        self.btfTypeID = btfTypeID
    }
}
