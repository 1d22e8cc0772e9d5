import ONNX
import Tensor

let binaryOperators: [Registration] = [
]
