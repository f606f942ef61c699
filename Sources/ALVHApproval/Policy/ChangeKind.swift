/// The kinds of change a proposal can carry; policy rules match on them.
public enum ChangeKind: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case addLayer = "add-layer"
    case rollLayer = "roll-layer"
    case resizeLayer = "resize-layer"
    case closeLayer = "close-layer"
    case policyChange = "policy-change"

    public var description: String { rawValue }
}
