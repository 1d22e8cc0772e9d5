import ONNX
import Tensor

let castOperators: [Registration] = [
]
