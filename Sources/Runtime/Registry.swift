/// The operator registry: one table, one line per (op, opset range), assembled from the operator-family
/// files (`Operators/*.swift`). Lookup picks the registration whose range holds the model's opset, so
/// behaviour that changed between opsets (Resize, Pad, Split, Squeeze, Clip, Upsample...) follows the model.
public enum OperatorRegistry {
    public static let all: [Registration] =
        elementwiseOperators + activationOperators + binaryOperators + logicalOperators
        + convolutionOperators + poolingOperators + normalizationOperators
        + shapeOperators + tensorCreationOperators + paddingOperators + resizeOperators
        + matrixOperators + recurrentOperators + controlFlowOperators + quantizationOperators
        + reductionOperators + castOperators + fusedOperators

    private static let table: [String: [Registration]] = Dictionary(grouping: all) { key($0.domain, $0.opType) }

    private static func key(_ domain: String, _ opType: String) -> String {
        let d = domain == "ai.onnx" ? "" : domain
        return d + "::" + opType
    }

    /// The registration implementing `opType` at `opset`, or nil.
    public static func lookup(domain: String, opType: String, opset: Int) -> Registration? {
        table[key(domain, opType)]?.first { $0.versions.contains(opset) }
    }

    /// Whether any opset of `opType` is implemented (to tell "unknown op" from "unsupported opset").
    public static func knows(domain: String, opType: String) -> Bool { table[key(domain, opType)] != nil }
}
