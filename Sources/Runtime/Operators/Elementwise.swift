import ONNX
import Tensor

let elementwiseOperators: [Registration] = [
]
