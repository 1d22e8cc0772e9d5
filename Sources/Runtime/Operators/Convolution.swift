import ONNX
import Tensor

let convolutionOperators: [Registration] = [
]
