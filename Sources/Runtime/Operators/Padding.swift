import ONNX
import Tensor

let paddingOperators: [Registration] = [
]
