import ONNX
import Tensor

let tensorCreationOperators: [Registration] = [
]
