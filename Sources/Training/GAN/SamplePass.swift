import Tensor

/// One image of a training batch as `GANTrainer.step` computes it: its tensors, the generator's tape (kept
/// from the D step's forward pass to the G step's backward), and the step's scalars for this image
/// (G loss, adversarial, L1, feature matching, cross-entropy, D loss, D accuracy on real and on fake).
final class SamplePass {
    let target: Tensor
    let shard: BatchShard
    let x: Variable
    let tape = Tape()
    var fake: Variable
    var logits: Variable?
    var realPair: Variable
    var scalars = [Float](repeating: 0, count: 8)

    init(input: Tensor, target: Tensor, shard: BatchShard) {
        self.target = target
        self.shard = shard
        x = Variable(input)
        fake = x
        realPair = x
    }
}

/// Parameter gradients summed image by image, left to right ((g0 + g1) + g2 ...): the order an all-reduce over
/// processes holding one image each adds them in.
struct GradientSum {
    private var sums: [Tensor?]

    init(_ parameters: [Variable]) { sums = Array(repeating: nil, count: parameters.count) }

    /// Moves the parameters' gradients into the sums (the parameters are left without one).
    mutating func take(_ parameters: [Variable]) {
        for (k, p) in parameters.enumerated() {
            guard let g = p.grad else { continue }
            if let sum = sums[k] {
                let sp = sum.floats, gp = g.floats
                for i in 0..<sp.count { sp[i] += gp[i] }
            } else {
                sums[k] = g
            }
            p.grad = nil
        }
    }

    /// Gives each parameter its sum times 1 / n (the batch's mean).
    func give(_ parameters: [Variable], dividedBy n: Int) {
        let scale = 1 / Float(n)
        for (k, p) in parameters.enumerated() {
            guard let sum = sums[k] else { continue }
            let sp = sum.floats
            for i in 0..<sp.count { sp[i] *= scale }
            p.grad = sum
        }
    }
}

/// Image `i` of an [N, ...] tensor as a [1, ...] tensor (a copy).
func sampleRows(_ t: Tensor, _ i: Int) -> Tensor {
    var shape = t.shape
    let row = t.count / shape[0]
    shape[0] = 1
    let out = Tensor(uninitialized: shape)
    out.floats.baseAddress!.update(from: t.floats.baseAddress! + i * row, count: row)
    return out
}
