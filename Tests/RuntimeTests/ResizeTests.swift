import Testing
import ONNX
import Tensor
@testable import Runtime

private func resize(_ x: Tensor, opset: Int = 19, scales: [Float]? = nil, sizes: [Int]? = nil, roi: [Float]? = nil,
                    _ attributes: [String: Attribute]) throws -> Tensor {
    let s = scales.map { Tensor(shape: [$0.count], floats: $0) }
    let r = roi.map { Tensor(shape: [$0.count], floats: $0) }
    return try runShapeFamilyOp("Resize", opset: opset, [x, r, s, sizes.map(int64s)], attributes)[0]
}

private func close(_ a: [Float], _ b: [Double], tolerance: Double = 1e-5) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs(Double($0) - $1) <= tolerance }
}

@Test func nearestDoublesPixels() throws {
    let x = Tensor(shape: [1, 1, 2, 2], floats: [1, 2, 3, 4])
    let y = try resize(x, scales: [1, 1, 2, 2], ["mode": .string("nearest")])
    #expect(y.shape == [1, 1, 4, 4])
    #expect(y.scalars(as: Float.self) == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
    // Upsample 7 (scales attribute) and 9 (scales input), integer factors.
    let up7 = try runShapeFamilyOp("Upsample", opset: 7, [x], ["scales": .floats([1, 1, 2, 3])])[0]
    #expect(up7.shape == [1, 1, 4, 6] && up7.scalars(as: Float.self)[0..<6] == [1, 1, 1, 2, 2, 2])
    let up9 = try runShapeFamilyOp("Upsample", opset: 9, [x, Tensor(shape: [4], floats: [1, 1, 2, 2])])[0]
    #expect(up9.scalars(as: Float.self) == y.scalars(as: Float.self))
    // Nearest works on any type.
    let bytes = Tensor(shape: [1, 2], scalars: [UInt8(7), 9])
    #expect(try resize(bytes, scales: [1, 2], [:]).scalars(as: UInt8.self) == [7, 7, 9, 9])
}

@Test func nearestRoundingModes() throws {
    // 4 -> 3 with half_pixel: source coordinates 1/6, 1.5, 17/6.
    let x = Tensor(shape: [4], floats: [1, 2, 3, 4])
    func pick(_ mode: String) throws -> [Float] {
        try resize(x, sizes: [3], ["nearest_mode": .string(mode)]).scalars(as: Float.self)
    }
    #expect(try pick("round_prefer_floor") == [1, 2, 4])
    #expect(try pick("round_prefer_ceil") == [1, 3, 4])
    #expect(try pick("floor") == [1, 2, 3])
    #expect(try pick("ceil") == [2, 3, 4])
}

@Test func linearCoordinateModes() throws {
    let x = Tensor(shape: [1, 2], floats: [1, 2])
    let half = try resize(x, scales: [1, 2], ["mode": .string("linear")])
    #expect(half.scalars(as: Float.self) == [1, 1.25, 1.75, 2])
    let corners = try resize(x, sizes: [1, 3], ["mode": .string("linear"),
                                                 "coordinate_transformation_mode": .string("align_corners")])
    #expect(corners.scalars(as: Float.self) == [1, 1.5, 2])
    let asym = try resize(x, scales: [1, 2], ["mode": .string("linear"),
                                              "coordinate_transformation_mode": .string("asymmetric")])
    #expect(asym.scalars(as: Float.self) == [1, 1.5, 2, 2])
    // Bilinear on a 2x2 image: the centre of the 4x4 output averages all four corners.
    let img = Tensor(shape: [1, 1, 2, 2], floats: [0, 4, 8, 12])
    let up = try resize(img, scales: [1, 1, 2, 2], ["mode": .string("linear")])
    // Output (1, 1) reads source (0.25, 0.25): (4 * 3 + 8 * 3 + 12 * 1) / 16 = 3.
    #expect(up.scalars(as: Float.self)[5] == 3)
}

@Test func cubicMatchesTheOnnxReference() throws {
    let x = Tensor(shape: [1, 4], floats: [1, 2, 4, 8])
    // Values from onnx.reference (op_resize._interpolate_nd), A = -0.75.
    let y = try resize(x, scales: [1, 2], ["mode": .string("cubic")])
    #expect(close(y.scalars(as: Float.self), [0.89453125, 1.15625, 1.5625, 2.41796875, 3.16015625, 5.1171875, 7.1640625, 8.421875]))
    let z = try resize(x, scales: [1, 2], ["mode": .string("cubic"), "exclude_outside": .int(1),
                                           "coordinate_transformation_mode": .string("align_corners")])
    #expect(close(z.scalars(as: Float.self), [1.0, 1.2374670184696561, 1.7122302158273384, 2.4620991253644293,
                                              3.078717201166181, 4.684892086330935, 6.622691292875988, 8.0]))
}

@Test func antialiasWidensTheKernel() throws {
    let x = Tensor(shape: [1, 4], floats: [0, 1, 2, 3])
    let y = try resize(x, scales: [1, 0.5], ["mode": .string("linear"), "antialias": .int(1)])
    #expect(close(y.scalars(as: Float.self), [0.625, 2.375]))
}

@Test func cropAndResizeExtrapolates() throws {
    let x = Tensor(shape: [4], floats: [0, 1, 2, 3])
    // roi [0.5, 1.5] of 3 pixels: source coordinates 1.5, 3, 4.5 (outside).
    let y = try resize(x, sizes: [3], roi: [0.5, 1.5], ["mode": .string("linear"), "extrapolation_value": .float(10),
                                                          "coordinate_transformation_mode": .string("tf_crop_and_resize")])
    #expect(y.scalars(as: Float.self) == [1.5, 3, 10])
}

@Test func axesAndAspectRatioPolicy() throws {
    let x = Tensor(zeros: [1, 1, 2, 4])
    #expect(try resize(x, sizes: [4, 4], ["axes": .ints([2, 3]), "keep_aspect_ratio_policy": .string("not_larger")]).shape == [1, 1, 2, 4])
    #expect(try resize(x, sizes: [4, 4], ["axes": .ints([-2, -1]), "keep_aspect_ratio_policy": .string("not_smaller")]).shape == [1, 1, 4, 8])
    #expect(try resize(x, scales: [3], ["axes": .ints([3])]).shape == [1, 1, 2, 12])
    // Empty input: shape only.
    #expect(try resize(Tensor(zeros: [0, 2]), scales: [1, 2], [:]).shape == [0, 4])
    // Scales with the wrong count are the user's error, not a trap.
    #expect(throws: KernelError.self) { try resize(x, scales: [2, 2], [:]) }
    #expect(throws: ONNXError.self) { try resize(x, scales: [1, 1, 2, 2], ["mode": .string("area")]) }
    // half_pixel_symmetric arrived in opset 19.
    #expect(throws: ONNXError.self) {
        try resize(x, opset: 18, scales: [1, 1, 2, 2], ["coordinate_transformation_mode": .string("half_pixel_symmetric")])
    }
}

@Test func integerLinearResizeRoundsHalfToEven() throws {
    let x = Tensor(shape: [1, 2], scalars: [UInt8(0), 5])
    // half_pixel 2x: 0, 1.25, 3.75, 5 -> 0, 1, 4, 5
    #expect(try resize(x, scales: [1, 2], ["mode": .string("linear")]).ints() == [0, 1, 4, 5])
}

@Test func badSizesAreErrorsNotTraps() throws {
    let x = Tensor(zeros: [1, 4])
    #expect(throws: KernelError.self) { try resize(x, sizes: [1, -2], [:]) }
    #expect(throws: KernelError.self) { try runShapeFamilyOp("Expand", [x, int64s([-1, 4])]) }
}

@Test func upsampleKeepsItsSemanticsPastOpset9() throws {
    let x = Tensor(shape: [1, 2], floats: [1, 2])
    // Asymmetric linear: 1, 1.5, 2, 2 (Resize-11's half_pixel default would give 1, 1.25, 1.75, 2).
    let y = try runShapeFamilyOp("Upsample", opset: 13, [x, Tensor(shape: [2], floats: [1, 2])], ["mode": .string("linear")])[0]
    #expect(y.scalars(as: Float.self) == [1, 1.5, 2, 2])
}

@Test func gridSampleIdentityGridReproducesTheInput() throws {
    let x = Tensor(shape: [1, 1, 2, 3], floats: [1, 2, 3, 4, 5, 6])
    // align_corners: pixel centres at -1, 0, 1 (width) and -1, 1 (height); (x, y) pairs.
    var g: [Float] = []
    for y in [-1, 1] as [Float] { for xc in [-1, 0, 1] as [Float] { g += [xc, y] } }
    let grid = Tensor(shape: [1, 2, 3, 2], floats: g)
    for mode in ["linear", "nearest", "cubic"] {
        let y = try runShapeFamilyOp("GridSample", opset: 20, [x, grid], ["align_corners": .int(1), "mode": .string(mode)])[0]
        #expect(y.scalars(as: Float.self).enumerated().allSatisfy { abs($1 - Float($0 + 1)) < 1e-5 }, "\(mode)")
    }
    // Outside the input: zeros padding gives 0, border the edge pixel.
    let far = Tensor(shape: [1, 1, 1, 2], floats: [3, 0])
    #expect(try runShapeFamilyOp("GridSample", opset: 16, [x, far], ["mode": .string("bilinear")])[0].scalars(as: Float.self) == [0])
    #expect(try runShapeFamilyOp("GridSample", opset: 16, [x, far], ["padding_mode": .string("border"), "align_corners": .int(1)])[0]
        .scalars(as: Float.self) == [4.5])
    #expect(throws: ONNXError.self) { try runShapeFamilyOp("GridSample", opset: 20, [x, grid], ["mode": .string("bilinear")]) }
}

@Test func affineGridIdentityGivesPixelCentres() throws {
    let theta = Tensor(shape: [1, 2, 3], floats: [1, 0, 0, 0, 1, 0])
    let grid = try runShapeFamilyOp("AffineGrid", opset: 20, [theta, int64s([1, 1, 1, 2])])[0]
    #expect(grid.shape == [1, 1, 2, 2] && grid.scalars(as: Float.self) == [-0.5, 0, 0.5, 0])
    let corners = try runShapeFamilyOp("AffineGrid", opset: 20, [theta, int64s([1, 1, 1, 2])], ["align_corners": .int(1)])[0]
    #expect(corners.scalars(as: Float.self) == [-1, -1, 1, -1])
}

@Test func resizeWorkingMemoryIsCheckedNotJustTheOutput() throws {
    // Linear passes go axis by axis: 2x200000 -> 200000x2 is a 3 MB output, but the pass over axis 2 first
    // makes a 200000x200000 intermediate (160 GB). Refused by the budget instead of aborting.
    let x = Tensor(zeros: [1, 1, 2, 200_000])
    #expect { _ = try resize(x, sizes: [1, 1, 200_000, 2], ["mode": .string("linear")]) } throws: { error in
        "\(error)".contains("intermediate after resizing axis 2")
    }
    // Nearest is one gather (no intermediate): the same sizes work.
    #expect(try resize(x, sizes: [1, 1, 200_000, 2], ["mode": .string("nearest")]).shape == [1, 1, 200_000, 2])
    // An empty output with a huge other axis needs no taps (fuzz crasher: sizes [1, 2^57 + 1, 0, 3]).
    let small = Tensor(shape: [1, 1, 2, 2], floats: [1, 2, 3, 4])
    #expect(try resize(small, sizes: [1, 1 << 57 + 1, 0, 3], ["mode": .string("linear")]).count == 0)
}

@Test func legacyTfHalfPixelForNNRunsAfterOpset11WithAWarning() throws {
    // tf2onnx writes tf_half_pixel_for_nn at opset 16; it runs as Resize-11 defines it (source (x + 0.5) / scale,
    // no -0.5), and the plan says so.
    let x = Tensor(shape: [1, 1, 1, 4], floats: [1, 2, 3, 4])
    let attributes: [String: Attribute] = ["mode": .string("nearest"), "coordinate_transformation_mode": .string("tf_half_pixel_for_nn")]
    let legacy = try resize(x, opset: 11, sizes: [1, 1, 1, 3], attributes)
    let now = try resize(x, opset: 16, sizes: [1, 1, 1, 3], attributes)
    #expect(now.scalars(as: Float.self) == legacy.scalars(as: Float.self))
    // 4 -> 3: sources 0.67, 2, 3.33 -> floor-preferring rounding of those: 1, 2, 3 -> values 2, 3, 4.
    #expect(legacy.scalars(as: Float.self) == [2, 3, 4])
    let node = Node(name: "up", opType: "Resize", inputs: ["x", "", "", "sizes"], outputs: ["y"], attributes: attributes)
    let graph = Graph(nodes: [node], initializers: ["sizes": int64s([1, 1, 1, 3])],
                      inputs: [ValueInfo(name: "x", dtype: .float32, shape: nil)], outputs: [ValueInfo(name: "y", dtype: .float32, shape: nil)])
    let plan = try Plan(model: Model(opsets: ["": 16], graph: graph))
    #expect(plan.warnings.count == 1 && plan.warnings[0].contains("up") && plan.warnings[0].contains("tf_half_pixel_for_nn"))
    #expect(try Plan(model: Model(opsets: ["": 11], graph: graph)).warnings.isEmpty)
}

@Test func aScaleThatEmptiesANonEmptyAxisIsAnError() throws {
    let x = Tensor(shape: [1, 1, 2, 2], floats: [1, 2, 3, 4])
    #expect(throws: KernelError.self) { try resize(x, scales: [1, 1, 0.4, 1], [:]) }
    // An axis that is empty already stays empty.
    let empty = Tensor(shape: [1, 1, 0, 2], floats: [])
    #expect(try resize(empty, scales: [1, 1, 0.4, 2], [:]).shape == [1, 1, 0, 4])
}
