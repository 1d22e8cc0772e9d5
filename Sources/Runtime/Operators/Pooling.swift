import ONNX
import Tensor

let poolingOperators: [Registration] = [
]
