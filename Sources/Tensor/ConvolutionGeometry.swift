// Public API (stable):
//   ConvolutionGeometry(kernelShape:strides:dilations:padsBegin:padsEnd:group:)   any spatial rank 1...3
//   ConvolutionGeometry(kernelSize:stride:padding:dilation:group:)                 square 2-D shorthand
//   geometry.outputSpatialShape(inputSpatialShape:)                                 convolution output size
//   geometry.transposedOutputSpatialShape(inputSpatialShape:outputPadding:)         transposed conv output size
//   geometry.convolutionShapeProblem(inputShape:weightShape:)          -> String?   why shapes don't fit, or nil
//   geometry.transposedShapeProblem(inputShape:weightShape:)           -> String?
//
// Shared by Convolution.swift and ConvTranspose.swift. Layout everywhere: NCHW (N, C, [D,] [H,] W),
// convolution weights OIHW (OC, C/group, [KD,] [KH,] KW), transposed convolution weights
// (C, OC/group, [KD,] [KH,] KW); row-major float32.

/// The spatial shape of a convolution: kernel size, strides, dilations and padding per spatial dimension,
/// and the number of channel groups. Spatial arrays all have the same count (1, 2 or 3).
///
/// A convolution output position `o` reads input positions `o * stride + k * dilation - padBegin` for kernel
/// taps `k` (taps that land outside the input read zeros). A transposed convolution is the adjoint map:
/// input position `i` adds into output positions `i * stride + k * dilation - padBegin`.
public struct ConvolutionGeometry: Sendable, Hashable, CustomStringConvertible {
    public let kernelShape: [Int]
    public let strides: [Int]
    public let dilations: [Int]
    /// Padding before each spatial dimension (ONNX `pads[0..<r]`); may be negative for transposed outputs.
    public let padsBegin: [Int]
    /// Padding after each spatial dimension (ONNX `pads[r..<2r]`).
    public let padsEnd: [Int]
    public let group: Int

    /// Missing strides and dilations default to 1, missing pads to 0.
    public init(kernelShape: [Int], strides: [Int]? = nil, dilations: [Int]? = nil,
                padsBegin: [Int]? = nil, padsEnd: [Int]? = nil, group: Int = 1) {
        let r = kernelShape.count
        precondition((1...3).contains(r), "convolution supports 1 to 3 spatial dimensions, got \(r)")
        self.kernelShape = kernelShape
        self.strides = strides ?? Array(repeating: 1, count: r)
        self.dilations = dilations ?? Array(repeating: 1, count: r)
        self.padsBegin = padsBegin ?? Array(repeating: 0, count: r)
        self.padsEnd = padsEnd ?? Array(repeating: 0, count: r)
        self.group = group
        precondition(self.strides.count == r && self.dilations.count == r && self.padsBegin.count == r
                     && self.padsEnd.count == r, "geometry arrays must all have \(r) entries: \(self)")
        precondition(kernelShape.allSatisfy { $0 >= 1 } && self.strides.allSatisfy { $0 >= 1 }
                     && self.dilations.allSatisfy { $0 >= 1 } && group >= 1,
                     "kernel sizes, strides, dilations and group must be positive: \(self)")
    }

    /// A square 2-D kernel with the same padding on every side (the trainer's usual case).
    public init(kernelSize: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1, group: Int = 1) {
        self.init(kernelShape: [kernelSize, kernelSize], strides: [stride, stride],
                  dilations: [dilation, dilation], padsBegin: [padding, padding],
                  padsEnd: [padding, padding], group: group)
    }

    public var spatialRank: Int { kernelShape.count }

    /// Extent of the dilated kernel along spatial dimension `i`: `(k - 1) * d + 1`.
    @inline(__always)
    public func dilatedKernel(_ i: Int) -> Int { (kernelShape[i] - 1) * dilations[i] + 1 }

    /// Convolution output size per spatial dimension: `floor((in + pb + pe - dk) / s) + 1`
    /// (0 when the padded input is shorter than the dilated kernel).
    public func outputSpatialShape(inputSpatialShape input: [Int]) -> [Int] {
        (0..<spatialRank).map { i in
            let span = input[i] + padsBegin[i] + padsEnd[i] - dilatedKernel(i)
            return span < 0 ? 0 : span / strides[i] + 1
        }
    }

    /// Transposed convolution output size per spatial dimension:
    /// `s * (in - 1) + outputPadding + dk - pb - pe` (never below 0).
    public func transposedOutputSpatialShape(inputSpatialShape input: [Int], outputPadding: [Int]? = nil) -> [Int] {
        (0..<spatialRank).map { i in
            max(0, strides[i] * (input[i] - 1) + (outputPadding?[i] ?? 0) + dilatedKernel(i)
                       - padsBegin[i] - padsEnd[i])
        }
    }

    /// Why a convolution of an input of `inputShape` (N, C, spatial...) with weights of `weightShape`
    /// (OC, C/group, kernel...) cannot run, in words; nil when it can.
    public func convolutionShapeProblem(inputShape x: [Int], weightShape w: [Int]) -> String? {
        if let problem = rankProblem(x, w) { return problem }
        if x[1] != w[1] * group {
            return "input has \(x[1]) channels, weight expects \(w[1] * group) (group \(group))"
        }
        if w[0] % group != 0 {
            return "weight has \(w[0]) output channels, not a multiple of group \(group)"
        }
        return nil
    }

    /// Why a transposed convolution of an input of `inputShape` (N, C, spatial...) with weights of
    /// `weightShape` (C, OC/group, kernel...) cannot run, in words; nil when it can.
    public func transposedShapeProblem(inputShape x: [Int], weightShape w: [Int]) -> String? {
        if let problem = rankProblem(x, w) { return problem }
        if x[1] != w[0] {
            return "input has \(x[1]) channels, weight expects \(w[0]) (group \(group))"
        }
        if w[0] % group != 0 {
            return "weight has \(w[0]) input channels, not a multiple of group \(group)"
        }
        return nil
    }

    private func rankProblem(_ x: [Int], _ w: [Int]) -> String? {
        let r = spatialRank
        if x.count != r + 2 {
            return "input has \(x.count) dimensions, expected \(r + 2) (N, C and \(r) spatial)"
        }
        if w.count != r + 2 {
            return "weight has \(w.count) dimensions, expected \(r + 2)"
        }
        if Array(w[2...]) != kernelShape {
            return "weight's kernel is \(Array(w[2...])), kernel_shape says \(kernelShape)"
        }
        return nil
    }

    public var description: String {
        "kernel \(kernelShape) strides \(strides) dilations \(dilations) pads \(padsBegin)+\(padsEnd) group \(group)"
    }
}

/// The geometry lifted to three spatial dimensions (D, H, W): 1-D and 2-D problems get leading unit
/// dimensions (kernel 1, stride 1, no padding), so one 3-D loop nest serves every rank.
struct LiftedGeometry {
    let kernel: [Int]
    let strides: [Int]
    let dilations: [Int]
    let padsBegin: [Int]
    let group: Int

    init(_ g: ConvolutionGeometry) {
        let lead = 3 - g.spatialRank
        kernel = Array(repeating: 1, count: lead) + g.kernelShape
        strides = Array(repeating: 1, count: lead) + g.strides
        dilations = Array(repeating: 1, count: lead) + g.dilations
        padsBegin = Array(repeating: 0, count: lead) + g.padsBegin
        group = g.group
    }

    /// A spatial shape with leading 1s up to three dimensions.
    static func lift(_ spatial: [Int]) -> [Int] { Array(repeating: 1, count: 3 - spatial.count) + spatial }
}

/// floor(a / b) for b > 0 and any sign of a.
@inline(__always)
func floorDivide(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }

/// ceil(a / b) for b > 0 and any sign of a.
@inline(__always)
func ceilDivide(_ a: Int, _ b: Int) -> Int { a >= 0 ? (a + b - 1) / b : -((-a) / b) }
