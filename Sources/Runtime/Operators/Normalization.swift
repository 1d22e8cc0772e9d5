import ONNX
import Tensor

let normalizationOperators: [Registration] = [
]
