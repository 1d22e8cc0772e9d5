import ONNX
import Tensor

let logicalOperators: [Registration] = [
]
