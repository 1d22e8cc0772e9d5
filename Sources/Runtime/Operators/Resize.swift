import ONNX
import Tensor

let resizeOperators: [Registration] = [
]
