import Foundation
import ONNX
import Tensor

// String operators: no image model uses them; they pass the node suite's cases.
let stringOperators: [Registration] = [
    Registration("StringNormalizer", since: 10) { ctx in try StringNormalizerOperator(ctx) },
    Registration("RegexFullMatch", since: 20) { ctx in try RegexFullMatchOperator(ctx) },
    Registration("StringConcat", since: 20) { _ in
        ClosureOperator { inputs in
            let x = try inputs.required(0, "X"), y = try inputs.required(1, "Y")
            guard x.dtype == .string, y.dtype == .string else {
                throw KernelError("StringConcat takes string inputs; got \(x.dtype) and \(y.dtype)")
            }
            return [try withKernelErrors { try concatenateStrings(x, y) }]
        }
    },
]

/// StringNormalizer (opset 10): strips accents (NFKD, combining marks dropped), removes stop words, changes
/// case, then drops empty strings. Follows the ONNX reference: stop words are removed word by word within
/// each string (split on " "); with `is_case_sensitive` = 0 they are compared after the case change.
/// Input [C] or [1, C]; an all-empty result is [""] (or [[""]]). `locale` is accepted and ignored (the case
/// mapping is Unicode's default).
struct StringNormalizerOperator: Operator {
    enum CaseChange { case lower, upper, none }
    let caseChange: CaseChange
    let caseSensitive: Bool
    let rawStops: Set<String>
    let stops: Set<String>

    init(_ ctx: OperatorContext) throws {
        switch try ctx.node.string("case_change_action", default: "NONE") {
        case "LOWER": caseChange = .lower
        case "UPPER": caseChange = .upper
        case "NONE": caseChange = .none
        case let other:
            throw ctx.node.invalid("case_change_action", "must be LOWER, UPPER or NONE; got \"\(other)\"")
        }
        caseSensitive = try ctx.node.int("is_case_sensitive", default: 0) != 0
        let words = try ctx.node.strings("stopwords") ?? []
        rawStops = Set(words)
        switch caseChange {
        case .lower: stops = Set(words.map { $0.lowercased() })
        case .upper: stops = Set(words.map { $0.uppercased() })
        case .none: stops = Set(words)
        }
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "X")
        guard x.dtype == .string else { throw elementTypeError("StringNormalizer", x.dtype) }
        guard x.rank == 1 || (x.rank == 2 && x.shape[0] == 1) else {
            throw KernelError("X must have shape [C] or [1, C], got \(shapeString(x.shape))")
        }
        var out = x.strings.map { s -> String in
            var t = Self.stripAccents(s)
            if caseSensitive && !rawStops.isEmpty { t = Self.removeWords(t, rawStops) }
            switch caseChange {
            case .lower: t = t.lowercased()
            case .upper: t = t.uppercased()
            case .none: break
            }
            if !caseSensitive && !stops.isEmpty { t = Self.removeWords(t, stops) }
            return t
        }
        out = out.filter { !$0.isEmpty }
        if out.isEmpty { out = [""] }
        return [Tensor(shape: x.rank == 2 ? [1, out.count] : [out.count], strings: out)]
    }

    static func stripAccents(_ s: String) -> String {
        if s.unicodeScalars.allSatisfy(\.isASCII) { return s }
        let decomposed = s.decomposedStringWithCompatibilityMapping.unicodeScalars
        return String(String.UnicodeScalarView(decomposed.filter { $0.properties.canonicalCombiningClass.rawValue == 0 }))
    }

    static func removeWords(_ s: String, _ words: Set<String>) -> String {
        s.split(separator: " ", omittingEmptySubsequences: false).filter { !words.contains(String($0)) }
            .joined(separator: " ")
    }
}

/// RegexFullMatch: whether each string matches `pattern` entirely. ONNX specifies RE2 syntax; Swift's regex
/// engine accepts the RE2 constructs models use (classes, \\w \\W \\b, anchors, groups, alternation, counts).
/// NOTE: the pattern is compiled again on each run (`Regex` is not Sendable); it is checked once at load.
struct RegexFullMatchOperator: Operator {
    let pattern: String

    init(_ ctx: OperatorContext) throws {
        guard let p = try ctx.node.string("pattern") else { throw ctx.node.missing("pattern") }
        do { _ = try Regex(p) } catch {
            throw ctx.node.invalid("pattern", "is not a regular expression this runtime can compile: \(error)")
        }
        pattern = p
    }

    func run(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "X")
        guard x.dtype == .string else { throw elementTypeError("RegexFullMatch", x.dtype) }
        // RE2 semantics: ASCII \\w \\d \\s, and \\b between \\w and \\W (Swift's default is Unicode word breaks,
        // which see no boundary inside "google.com").
        let regex = try Regex(pattern).wordBoundaryKind(.simple).asciiOnlyCharacterClasses()
        return [Tensor(shape: x.shape, scalars: x.strings.map { (try? regex.wholeMatch(in: $0)) != nil })]
    }
}

/// Element-wise `x + y` on string tensors with numpy broadcasting.
func concatenateStrings(_ x: Tensor, _ y: Tensor) throws -> Tensor {
    let plan = try BroadcastPlan(x.shape, y.shape)
    let sx = x.strings, sy = y.strings
    let dx = plan.innerStep(0), dy = plan.innerStep(1)
    var out = [String](repeating: "", count: plan.count)
    plan.forEachRun { o, ix, iy, _, n in
        for i in 0..<n { out[o + i] = sx[ix + i * dx] + sy[iy + i * dy] }
    }
    return Tensor(shape: plan.shape, strings: out)
}
