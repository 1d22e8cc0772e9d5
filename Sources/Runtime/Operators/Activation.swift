import ONNX
import Tensor

let activationOperators: [Registration] = [
]
