import Tensor
import Testing
@testable import Training

@Test(arguments: [(1, 1, 3), (2, 1, 3), (2, 0, 1), (1, 1, 4), (2, 1, 4)])
func conv2dGradients(stride: Int, padding: Int, kernel: Int) {
    let x = randomTensor([2, 3, 7, 6], seed: 1), w = randomTensor([4, 3, kernel, kernel], seed: 2, std: 0.3)
    let b = randomTensor([4], seed: 3)
    checkGradients("Conv s\(stride) p\(padding) k\(kernel)", inputs: [x, w, b]) { tape, v in
        tape.conv2d(v[0], weight: v[1], bias: v[2], geometry: ConvGeometry(stride: stride, padding: padding))
    }
}

@Test(arguments: [(2, 1, 1, 3), (1, 0, 0, 3), (2, 1, 0, 4), (3, 1, 2, 3)])
func convTranspose2dGradients(stride: Int, padding: Int, outputPadding: Int, kernel: Int) {
    let x = randomTensor([2, 3, 4, 5], seed: 4), w = randomTensor([3, 2, kernel, kernel], seed: 5, std: 0.3)
    let b = randomTensor([2], seed: 6)
    checkGradients("ConvTranspose s\(stride) p\(padding) op\(outputPadding)", inputs: [x, w, b]) { tape, v in
        tape.convTranspose2d(v[0], weight: v[1], bias: v[2],
                             geometry: ConvTransposeGeometry(stride: stride, padding: padding, outputPadding: outputPadding))
    }
}

@Test func convTransposeOutputShape() {
    // 3x3 s2 p1 op1 doubles the side exactly (the U-Net's up-sampling).
    let y = Tape(recording: false).convTranspose2d(Variable(randomTensor([1, 2, 5, 3], seed: 1)), weight: Variable(randomTensor([2, 4, 3, 3], seed: 2)),
                                                   bias: nil, geometry: ConvTransposeGeometry(stride: 2, padding: 1, outputPadding: 1))
    #expect(y.shape == [1, 4, 10, 6])
}

@Test func linearGradients() {
    checkGradients("Linear", inputs: [randomTensor([3, 5], seed: 1), randomTensor([4, 5], seed: 2), randomTensor([4], seed: 3)]) { tape, v in
        tape.linear(v[0], weight: v[1], bias: v[2])
    }
}

@Test func maxPoolGradients() {
    // Distinct values at least 0.05 apart so the step 1e-3 never changes the arg-max.
    var values = (0..<(2 * 2 * 6 * 6)).map { Float($0) * 0.05 }
    var rng = RandomGenerator(seed: 3)
    values.shuffle(using: &rng)
    checkGradients("MaxPool 2x2", inputs: [Tensor(shape: [2, 2, 6, 6], floats: values)], epsilon: 1e-3) { tape, v in
        tape.maxPool2d(v[0], kernel: 2, stride: 2)
    }
    checkGradients("MaxPool 3x3 s2", inputs: [Tensor(shape: [2, 2, 6, 6], floats: values)], epsilon: 1e-3) { tape, v in
        tape.maxPool2d(v[0], kernel: 3, stride: 2)
    }
}

@Test func maxPoolTiesRouteToFirstMaximum() {
    // All four equal: the whole gradient goes to the first element of the window (PyTorch's choice),
    // never split or duplicated.
    let tape = Tape()
    let x = Variable(Tensor(shape: [1, 1, 2, 4], floats: [1, 1, 0, 2, 1, 1, 2, 2]), requiresGrad: true)
    let y = tape.maxPool2d(x, kernel: 2, stride: 2)
    #expect(y.value.scalars(as: Float.self) == [1, 2])
    tape.backward(y, seed: Tensor(shape: [1, 1, 1, 2], floats: [3, 5]))
    #expect(x.grad!.scalars(as: Float.self) == [3, 0, 0, 5, 0, 0, 0, 0])
}

@Test func avgPoolGradients() {
    checkGradients("AvgPool", inputs: [randomTensor([2, 3, 6, 5], seed: 1)]) { tape, v in tape.avgPool2d(v[0], kernel: 2, stride: 2) }
}

@Test(arguments: [true, false])
func instanceNormGradients(affine: Bool) {
    let x = randomTensor([2, 3, 4, 5], seed: 1, std: 2)
    let g = randomTensor([3], seed: 2), b = randomTensor([3], seed: 3)
    checkGradients("InstanceNorm affine=\(affine)", inputs: affine ? [x, g, b] : [x]) { tape, v in
        tape.instanceNorm(v[0], gamma: affine ? v[1] : nil, beta: affine ? v[2] : nil)
    }
}

@Test func batchNormGradients() {
    checkGradients("BatchNorm", inputs: [randomTensor([3, 2, 3, 4], seed: 1, std: 2), randomTensor([2], seed: 2), randomTensor([2], seed: 3)]) { tape, v in
        tape.batchNorm(v[0], gamma: v[1], beta: v[2]).0
    }
}

@Test func activationGradients() {
    let x = randomTensor([2, 3, 4], seed: 1, gap: 0.05)
    checkGradients("LeakyReLU", inputs: [x], epsilon: 1e-3) { tape, v in tape.leakyReLU(v[0], negativeSlope: 0.2) }
    checkGradients("ReLU", inputs: [x], epsilon: 1e-3) { tape, v in tape.relu(v[0]) }
    checkGradients("Tanh", inputs: [x]) { tape, v in tape.tanh(v[0]) }
    checkGradients("Sigmoid", inputs: [x]) { tape, v in tape.sigmoid(v[0]) }
}

@Test func shapeOpGradients() {
    checkGradients("Concat", inputs: [randomTensor([2, 1, 3, 3], seed: 1), randomTensor([2, 3, 3, 3], seed: 2)]) { tape, v in
        tape.concatChannels([v[0], v[1]])
    }
    checkGradients("Flatten", inputs: [randomTensor([2, 3, 2, 2], seed: 1)]) { tape, v in tape.flatten(v[0]) }
    let mask = randomTensor([2, 5], seed: 4)
    checkGradients("Dropout mask", inputs: [randomTensor([2, 5], seed: 3)]) { tape, v in tape.multiplyConstant(v[0], mask) }
}

@Test func dropoutAndNoiseAreIdentityAtInference() {
    let x = Variable(randomTensor([1, 2, 3, 3], seed: 1))
    #expect(Dropout(probability: 0.5)(x, ForwardContext()).value.scalars(as: Float.self) == x.value.scalars(as: Float.self))
    #expect(GaussianNoise(standardDeviation: 1)(x, ForwardContext()).value.scalars(as: Float.self) == x.value.scalars(as: Float.self))
    let trained = Dropout(probability: 0.5)(x, ForwardContext(training: true)).value.scalars(as: Float.self)
    #expect(zip(trained, x.value.scalars(as: Float.self)).allSatisfy { $0 == 0 || abs($0 - 2 * $1) < 1e-6 })
}
