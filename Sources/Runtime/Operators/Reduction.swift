import ONNX
import Tensor

let reductionOperators: [Registration] = [
]
