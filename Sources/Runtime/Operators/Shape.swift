import ONNX
import Tensor

let shapeOperators: [Registration] = [
]
