import Testing
@testable import Runtime

@Test func registryHasNoOverlappingRegistrations() {
    var byOp: [String: [ClosedRange<Int>]] = [:]
    for r in OperatorRegistry.all { byOp[r.domain + "::" + r.opType, default: []].append(r.versions) }
    for (op, ranges) in byOp {
        for i in 0..<ranges.count {
            for j in (i + 1)..<ranges.count {
                #expect(!ranges[i].overlaps(ranges[j]), "\(op) is registered twice for opsets \(ranges[i]) and \(ranges[j])")
            }
        }
    }
}

@Test func imageModelOperatorsAreAllRegistered() {
    let required = """
    Conv ConvTranspose MaxPool AveragePool GlobalAveragePool GlobalMaxPool InstanceNormalization BatchNormalization
    LayerNormalization GroupNormalization Relu LeakyRelu PRelu Elu Selu Sigmoid HardSigmoid HardSwish Tanh Softplus
    Softsign Gelu Mish Clip Erf Concat Add Sub Mul Div Pow Sqrt Exp Log Abs Neg Reciprocal Min Max Sum Mean Floor
    Ceil Round Sign Reshape Flatten Transpose Squeeze Unsqueeze Pad Resize Upsample DepthToSpace SpaceToDepth Slice
    Split Gather Shape Size Cast CastLike Constant ConstantOfShape Identity Dropout Expand Tile Range Gemm MatMul
    Softmax LogSoftmax ReduceMean ReduceSum ReduceMax ReduceMin ReduceL2 ReduceSumSquare Equal Less Greater
    LessOrEqual GreaterOrEqual Not And Or Where
    """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
    for op in required {
        #expect(OperatorRegistry.knows(domain: "", opType: op), "\(op) is not registered")
    }
}
