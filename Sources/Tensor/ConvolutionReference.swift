// Public API (the oracle; slow, obvious, kept forever):
//   conv2dForwardReference(x:weight:bias:geometry:)                       -> Tensor
//   conv2dBackwardDataReference(dY:weight:geometry:inputShape:)           -> Tensor
//   conv2dBackwardWeightReference(dY:x:geometry:weightShape:)             -> Tensor
//   convTranspose2dForwardReference(x:weight:bias:geometry:outputPadding:) -> Tensor
//   convTranspose2dBackwardDataReference(dY:weight:geometry:inputShape:)  -> Tensor
//   convTranspose2dBackwardWeightReference(dY:x:geometry:weightShape:)    -> Tensor
//
// Every function works for 1, 2 or 3 spatial dimensions and accumulates in Double. Each is the definition
// written as loops over (image, group, channel pair, tap), where a tap is one (output position, kernel offset,
// input position) triple of the convolution, input = output * stride + offset * dilation - padBegin.

/// Calls `body(o, k, i)` for every tap of a convolution from `inputSpatial` to `outputSpatial`: flat output
/// position `o`, flat kernel offset `k`, flat input position `i` (taps reading padding are skipped).
func forEachConvolutionTap(_ geometry: ConvolutionGeometry, inputSpatial: [Int], outputSpatial: [Int],
                           _ body: (Int, Int, Int) -> Void) {
    let g = LiftedGeometry(geometry)
    let input = LiftedGeometry.lift(inputSpatial), output = LiftedGeometry.lift(outputSpatial)
    for od in 0..<output[0] { for oh in 0..<output[1] { for ow in 0..<output[2] {
        let o = (od * output[1] + oh) * output[2] + ow
        for kd in 0..<g.kernel[0] { for kh in 0..<g.kernel[1] { for kw in 0..<g.kernel[2] {
            let k = (kd * g.kernel[1] + kh) * g.kernel[2] + kw
            let id = od * g.strides[0] + kd * g.dilations[0] - g.padsBegin[0]
            let ih = oh * g.strides[1] + kh * g.dilations[1] - g.padsBegin[1]
            let iw = ow * g.strides[2] + kw * g.dilations[2] - g.padsBegin[2]
            guard (0..<input[0]).contains(id), (0..<input[1]).contains(ih), (0..<input[2]).contains(iw) else {
                continue
            }
            body(o, k, (id * input[1] + ih) * input[2] + iw)
        } } }
    } } }
}

/// The sizes of one convolution seen from its input side: x (N, C, inputSpatial) -> y (N, OC, outputSpatial)
/// with weights (OC, C/group, kernel).
private struct ReferenceSizes {
    let n, c, oc, group, inputSize, outputSize, kernelSize: Int
    var cg: Int { c / group }
    var ocg: Int { oc / group }
}

/// y = conv(x, w) + b by definition; shapes (N, C, in...), (OC, C/group, k...) -> (N, OC, out...).
private func referenceConvolution(x: [Float], w: [Float], bias: [Float]?, geometry: ConvolutionGeometry,
                                  sizes s: ReferenceSizes, inputSpatial: [Int], outputSpatial: [Int]) -> [Float] {
    var y = [Double](repeating: 0, count: s.n * s.oc * s.outputSize)
    for n in 0..<s.n { for g in 0..<s.group { for ocl in 0..<s.ocg { for cl in 0..<s.cg {
        let oc = g * s.ocg + ocl, c = g * s.cg + cl
        let yBase = (n * s.oc + oc) * s.outputSize, xBase = (n * s.c + c) * s.inputSize
        let wBase = (oc * s.cg + cl) * s.kernelSize
        forEachConvolutionTap(geometry, inputSpatial: inputSpatial, outputSpatial: outputSpatial) { o, k, i in
            y[yBase + o] += Double(x[xBase + i]) * Double(w[wBase + k])
        }
    } } } }
    if let bias {
        for n in 0..<s.n { for oc in 0..<s.oc { for o in 0..<s.outputSize {
            y[(n * s.oc + oc) * s.outputSize + o] += Double(bias[oc])
        } } }
    }
    return y.map { Float($0) }
}

/// dX of y = conv(x, w): dX[i] = sum over taps (o, k, i) of dY[o] * w[k]; shapes as `referenceConvolution`.
private func referenceConvolutionAdjoint(dY: [Float], w: [Float], geometry: ConvolutionGeometry,
                                         sizes s: ReferenceSizes, inputSpatial: [Int],
                                         outputSpatial: [Int]) -> [Float] {
    var dX = [Double](repeating: 0, count: s.n * s.c * s.inputSize)
    for n in 0..<s.n { for g in 0..<s.group { for ocl in 0..<s.ocg { for cl in 0..<s.cg {
        let oc = g * s.ocg + ocl, c = g * s.cg + cl
        let yBase = (n * s.oc + oc) * s.outputSize, xBase = (n * s.c + c) * s.inputSize
        let wBase = (oc * s.cg + cl) * s.kernelSize
        forEachConvolutionTap(geometry, inputSpatial: inputSpatial, outputSpatial: outputSpatial) { o, k, i in
            dX[xBase + i] += Double(dY[yBase + o]) * Double(w[wBase + k])
        }
    } } } }
    return dX.map { Float($0) }
}

/// dW of y = conv(x, w): dW[k] = sum over images and taps (o, k, i) of dY[o] * x[i].
private func referenceConvolutionWeightGradient(dY: [Float], x: [Float], geometry: ConvolutionGeometry,
                                                sizes s: ReferenceSizes, inputSpatial: [Int],
                                                outputSpatial: [Int]) -> [Float] {
    var dW = [Double](repeating: 0, count: s.oc * s.cg * s.kernelSize)
    for n in 0..<s.n { for g in 0..<s.group { for ocl in 0..<s.ocg { for cl in 0..<s.cg {
        let oc = g * s.ocg + ocl, c = g * s.cg + cl
        let yBase = (n * s.oc + oc) * s.outputSize, xBase = (n * s.c + c) * s.inputSize
        let wBase = (oc * s.cg + cl) * s.kernelSize
        forEachConvolutionTap(geometry, inputSpatial: inputSpatial, outputSpatial: outputSpatial) { o, k, i in
            dW[wBase + k] += Double(dY[yBase + o]) * Double(x[xBase + i])
        }
    } } } }
    return dW.map { Float($0) }
}

private func product(_ a: ArraySlice<Int>) -> Int { a.reduce(1, *) }

// MARK: Convolution

/// Convolution by definition. x (N, C, in...), weight (OC, C/group, k...), bias (OC) -> (N, OC, out...).
public func conv2dForwardReference(x: Tensor, weight: Tensor, bias: Tensor?,
                                   geometry: ConvolutionGeometry) -> Tensor {
    let inputSpatial = Array(x.shape[2...])
    let outputSpatial = geometry.outputSpatialShape(inputSpatialShape: inputSpatial)
    let s = ReferenceSizes(n: x.shape[0], c: x.shape[1], oc: weight.shape[0], group: geometry.group,
                           inputSize: product(x.shape[2...]), outputSize: outputSpatial.reduce(1, *),
                           kernelSize: product(weight.shape[2...]))
    let y = referenceConvolution(x: x.scalars(), w: weight.scalars(), bias: bias?.scalars(), geometry: geometry,
                                 sizes: s, inputSpatial: inputSpatial, outputSpatial: outputSpatial)
    return Tensor(shape: [s.n, s.oc] + outputSpatial, floats: y)
}

/// dX of a convolution by definition. dY (N, OC, out...), weight (OC, C/group, k...) -> (N, C, in...).
public func conv2dBackwardDataReference(dY: Tensor, weight: Tensor, geometry: ConvolutionGeometry,
                                        inputShape: [Int]) -> Tensor {
    let s = ReferenceSizes(n: inputShape[0], c: inputShape[1], oc: weight.shape[0], group: geometry.group,
                           inputSize: product(inputShape[2...]), outputSize: product(dY.shape[2...]),
                           kernelSize: product(weight.shape[2...]))
    let dX = referenceConvolutionAdjoint(dY: dY.scalars(), w: weight.scalars(), geometry: geometry, sizes: s,
                                         inputSpatial: Array(inputShape[2...]), outputSpatial: Array(dY.shape[2...]))
    return Tensor(shape: inputShape, floats: dX)
}

/// dW of a convolution by definition. dY (N, OC, out...), x (N, C, in...) -> weightShape (OC, C/group, k...).
public func conv2dBackwardWeightReference(dY: Tensor, x: Tensor, geometry: ConvolutionGeometry,
                                          weightShape: [Int]) -> Tensor {
    let s = ReferenceSizes(n: x.shape[0], c: x.shape[1], oc: weightShape[0], group: geometry.group,
                           inputSize: product(x.shape[2...]), outputSize: product(dY.shape[2...]),
                           kernelSize: product(weightShape[2...]))
    let dW = referenceConvolutionWeightGradient(dY: dY.scalars(), x: x.scalars(), geometry: geometry, sizes: s,
                                                inputSpatial: Array(x.shape[2...]),
                                                outputSpatial: Array(dY.shape[2...]))
    return Tensor(shape: weightShape, floats: dW)
}

// MARK: Transposed convolution
//
// A transposed convolution from x (N, C, in...) with weights (C, OC/group, k...) is the adjoint of the
// convolution from (N, OC, out...) to (N, C, in...) whose OIHW weights are the same numbers read as
// (C, OC/group, k...). So its forward pass is that convolution's backward-data pass, and so on.

/// Transposed convolution by definition. x (N, C, in...), weight (C, OC/group, k...), bias (OC)
/// -> (N, OC, out...) with out = s * (in - 1) + outputPadding + dk - pb - pe.
public func convTranspose2dForwardReference(x: Tensor, weight: Tensor, bias: Tensor?,
                                            geometry: ConvolutionGeometry, outputPadding: [Int]? = nil) -> Tensor {
    let inputSpatial = Array(x.shape[2...])
    let outputSpatial = geometry.transposedOutputSpatialShape(inputSpatialShape: inputSpatial,
                                                              outputPadding: outputPadding)
    let oc = weight.shape[1] * geometry.group
    // The mirrored convolution: its input is our output, its output is our input.
    let s = ReferenceSizes(n: x.shape[0], c: oc, oc: x.shape[1], group: geometry.group,
                           inputSize: outputSpatial.reduce(1, *), outputSize: product(x.shape[2...]),
                           kernelSize: product(weight.shape[2...]))
    var y = referenceConvolutionAdjoint(dY: x.scalars(), w: weight.scalars(), geometry: geometry, sizes: s,
                                        inputSpatial: outputSpatial, outputSpatial: inputSpatial)
    if let bias {
        let b = bias.scalars(as: Float.self)
        for i in y.indices { y[i] += b[(i / s.inputSize) % oc] }
    }
    return Tensor(shape: [s.n, oc] + outputSpatial, floats: y)
}

/// dX of a transposed convolution by definition. dY (N, OC, out...), weight (C, OC/group, k...)
/// -> inputShape (N, C, in...).
public func convTranspose2dBackwardDataReference(dY: Tensor, weight: Tensor, geometry: ConvolutionGeometry,
                                                 inputShape: [Int]) -> Tensor {
    let s = ReferenceSizes(n: dY.shape[0], c: dY.shape[1], oc: inputShape[1], group: geometry.group,
                           inputSize: product(dY.shape[2...]), outputSize: product(inputShape[2...]),
                           kernelSize: product(weight.shape[2...]))
    let dX = referenceConvolution(x: dY.scalars(), w: weight.scalars(), bias: nil, geometry: geometry, sizes: s,
                                  inputSpatial: Array(dY.shape[2...]), outputSpatial: Array(inputShape[2...]))
    return Tensor(shape: inputShape, floats: dX)
}

/// dW of a transposed convolution by definition. dY (N, OC, out...), x (N, C, in...)
/// -> weightShape (C, OC/group, k...).
public func convTranspose2dBackwardWeightReference(dY: Tensor, x: Tensor, geometry: ConvolutionGeometry,
                                                   weightShape: [Int]) -> Tensor {
    let s = ReferenceSizes(n: dY.shape[0], c: dY.shape[1], oc: x.shape[1], group: geometry.group,
                           inputSize: product(dY.shape[2...]), outputSize: product(x.shape[2...]),
                           kernelSize: product(weightShape[2...]))
    let dW = referenceConvolutionWeightGradient(dY: x.scalars(), x: dY.scalars(), geometry: geometry, sizes: s,
                                                inputSpatial: Array(dY.shape[2...]),
                                                outputSpatial: Array(x.shape[2...]))
    return Tensor(shape: weightShape, floats: dW)
}
