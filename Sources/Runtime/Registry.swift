/// The operator registry: one table, one line per (op, opset range), assembled here from the table at the top
/// of each operator-family file (`Operators/*.swift`, `Operators/Extended/*.swift`). An op has several ranges
/// only where it is built differently (Clip's attributes became inputs, Cast's legacy types, ReduceSum's axes
/// input); where only details change between opsets (Resize, Pad, Split, Squeeze...) one `since:` line builds
/// it and its initialiser reads `ctx.opset`.
public enum OperatorRegistry {
    public static let all: [Registration] =
        elementwiseOperators + activationOperators + binaryOperators + logicalOperators
        + convolutionOperators + poolingOperators + normalizationOperators
        + shapeOperators + indexingOperators + concatOperators + scatterOperators + selectionOperators
        + uniqueOperators + gridSampleOperators + tensorCreationOperators + paddingOperators + resizeOperators
        + matrixOperators + recurrentOperators + quantizedRecurrentOperators + controlFlowOperators + quantizationOperators
        + reductionOperators + lossOperators + castOperators + fusedOperators
        // Operators/Extended: ops no image model uses (see its README).
        + attentionOperators + linearAttentionOperators + rotaryEmbeddingOperators + linearAlgebraOperators
        + quantizedMatMulOperators + stringOperators

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
