// Public API (stable; the trainer and the runtime call these):
//   convTranspose2dForward(x:weight:bias:geometry:outputPadding:)  x (N, C, H, W), weight (C, OC/group, KH, KW),
//                                                                  bias (OC)? -> y (N, OC, OH, OW)
//   convTranspose2dBackwardData(dY:weight:geometry:inputShape:)    dY (N, OC, OH, OW) -> dX of inputShape
//   convTranspose2dBackwardWeight(dY:x:geometry:weightShape:)      -> dW of weightShape (C, OC/group, KH, KW)
//   (bias gradient: conv2dBackwardBias(dY:) in Convolution.swift)
//
// OH = s * (H - 1) + outputPadding + dk - pb - pe. Output shapes requested explicitly (ONNX `output_shape`)
// become an outputPadding: outputPadding = OH_wanted - (s * (H - 1) + dk - pb - pe), any sign.
// 1-D and 3-D work too, following the geometry's spatial rank. Oracle: ConvolutionReference.swift.
//
// Method: a transposed convolution is the adjoint of the convolution from y's shape to x's shape whose OIHW
// weights are these same numbers read as (C, OC/group, KH, KW) ("the mirrored convolution"). So
//   forward       = mirrored conv's backward-data:  col = W_g^T * x_g (GEMM), then col2im scatter-add into y;
//   backward data = mirrored conv's forward:         dX_g = W_g * im2col(dY_g);
//   backward weight = mirrored conv's weight gradient: dW_g += x_g * im2col(dY_g)^T.
// Only useful products are computed (no zero-stuffed input).

/// The mirrored convolution of a transposed convolution from `inputShape` to `outputShape` (N, C, ...).
private func mirroredPlan(inputShape: [Int], outputShape: [Int], geometry: ConvolutionGeometry) -> ConvolutionPlan {
    ConvolutionPlan(batch: inputShape[0], inputChannels: outputShape[1], outputChannels: inputShape[1],
                    inputSpatial: Array(outputShape[2...]), outputSpatial: Array(inputShape[2...]),
                    geometry: geometry)
}

/// Transposed convolution. x (N, C, H, W), weight (C, OC/group, KH, KW), bias (OC) or nil -> (N, OC, OH, OW)
/// with OH = s * (H - 1) + outputPadding + dk - pb - pe. Also 1-D and 3-D.
public func convTranspose2dForward(x: Tensor, weight: Tensor, bias: Tensor?, geometry: ConvolutionGeometry,
                                   outputPadding: [Int]? = nil) -> Tensor {
    if let problem = geometry.transposedShapeProblem(inputShape: x.shape, weightShape: weight.shape) {
        preconditionFailure("convTranspose2dForward: \(problem)")
    }
    let oc = weight.shape[1] * geometry.group
    precondition(bias == nil || bias!.count == oc, "convTranspose2dForward: bias must have \(oc) entries")
    let outputSpatial = geometry.transposedOutputSpatialShape(inputSpatialShape: Array(x.shape[2...]),
                                                              outputPadding: outputPadding)
    let y = Tensor(zeros: [x.shape[0], oc] + outputSpatial)
    guard y.count > 0 else { return y }
    if x.count > 0 {
        let plan = mirroredPlan(inputShape: x.shape, outputShape: y.shape, geometry: geometry)
        convolutionAdjointCore(dy: x.pointer(as: Float.self), w: weight.pointer(as: Float.self),
                               x: y.pointer(as: Float.self), plan: plan)
    }
    if let bias {
        let size = outputSpatial.reduce(1, *)
        for n in 0..<x.shape[0] {
            addBias(bias.pointer(as: Float.self), to: y.pointer(as: Float.self) + n * oc * size, channels: oc,
                    positions: 0..<size, channelStride: size)
        }
    }
    return y
}

/// Gradient of `convTranspose2dForward` with respect to x. dY (N, OC, OH, OW), weight (C, OC/group, KH, KW)
/// -> dX of `inputShape` (N, C, H, W).
public func convTranspose2dBackwardData(dY: Tensor, weight: Tensor, geometry: ConvolutionGeometry,
                                        inputShape: [Int]) -> Tensor {
    if let problem = geometry.transposedShapeProblem(inputShape: inputShape, weightShape: weight.shape) {
        preconditionFailure("convTranspose2dBackwardData: \(problem)")
    }
    precondition(dY.rank == inputShape.count && dY.shape[0] == inputShape[0]
                 && dY.shape[1] == weight.shape[1] * geometry.group,
                 "convTranspose2dBackwardData: dY is \(dY.shape), weight \(weight.shape), input \(inputShape)")
    let dX = Tensor(uninitialized: inputShape)
    guard dX.count > 0 else { return dX }
    let plan = mirroredPlan(inputShape: inputShape, outputShape: dY.shape, geometry: geometry)
    if dY.count == 0 {
        dX.floats.update(repeating: 0)
        return dX
    }
    convolutionForwardCore(x: dY.pointer(as: Float.self), w: weight.pointer(as: Float.self), bias: nil,
                           y: dX.pointer(as: Float.self), plan: plan)
    return dX
}

/// Gradient of `convTranspose2dForward` with respect to the weight. dY (N, OC, OH, OW), x (N, C, H, W)
/// -> dW of `weightShape` (C, OC/group, KH, KW), summed over the batch.
public func convTranspose2dBackwardWeight(dY: Tensor, x: Tensor, geometry: ConvolutionGeometry,
                                          weightShape: [Int]) -> Tensor {
    if let problem = geometry.transposedShapeProblem(inputShape: x.shape, weightShape: weightShape) {
        preconditionFailure("convTranspose2dBackwardWeight: \(problem)")
    }
    precondition(dY.rank == x.rank && dY.shape[0] == x.shape[0] && dY.shape[1] == weightShape[1] * geometry.group,
                 "convTranspose2dBackwardWeight: dY is \(dY.shape), x \(x.shape), weight \(weightShape)")
    let dW = Tensor(zeros: weightShape)
    guard dW.count > 0, x.count > 0, dY.count > 0 else { return dW }
    let plan = mirroredPlan(inputShape: x.shape, outputShape: dY.shape, geometry: geometry)
    convolutionWeightGradientCore(dy: x.pointer(as: Float.self), x: dY.pointer(as: Float.self),
                                  dw: dW.pointer(as: Float.self), plan: plan)
    return dW
}
