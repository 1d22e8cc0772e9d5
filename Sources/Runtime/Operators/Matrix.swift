import ONNX
import Tensor

let matrixOperators: [Registration] = [
]
