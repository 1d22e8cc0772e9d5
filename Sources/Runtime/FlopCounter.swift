import ONNX
import Tensor

/// Counts the floating-point work of a run: 2 FLOP per multiply-add of Conv, ConvTranspose, Gemm and
/// MatMul (element-wise work is ignored, as in the usual GFLOP figures for image networks; the rewrites'
/// FusedConv counts as its Conv).
public enum FlopCounter {
    public static func flops(of node: Node, inputs: [Tensor?], outputs: [Tensor]) -> Double {
        switch node.opType {
        case "Conv", "FusedConv":
            // out [N, OC, *spatial]; weight [OC, C/group, *kernel]
            guard let w = inputs.optional(1), let y = outputs.first else { return 0 }
            let perOutput = w.shape.dropFirst().reduce(1, *)
            return 2 * Double(y.count) * Double(perOutput)
        case "ConvTranspose":
            // x [N, C, *spatial]; weight [C, OC/group, *kernel]: each input element scatters into OC/group * kernel outputs.
            guard let x = inputs.optional(0), let w = inputs.optional(1) else { return 0 }
            return 2 * Double(x.count) * Double(w.shape.dropFirst().reduce(1, *))
        case "Gemm", "MatMul":
            guard let a = inputs.optional(0), let y = outputs.first, a.rank >= 1 else { return 0 }
            var transA = false
            if node.opType == "Gemm", case .int(let t)? = node.attributes["transA"] { transA = t != 0 }
            let k = a.rank == 1 ? a.shape[0] : (transA ? a.shape[a.rank - 2] : a.shape[a.rank - 1])
            return 2 * Double(y.count) * Double(k)
        default:
            return 0
        }
    }

}
