import ONNX

// The rewrite `matmul-add` (Rewrites.swift lists them all): MatMul(A, B) with B a constant [K, N] matrix, read
// only by an Add of a constant [N] bias (either operand order) — a Linear layer as torch.onnx and paddle2onnx
// write it — becomes one `ai.mangacolor.MatMulAdd` (A, B, bias) (Operators/Fused.swift): the bias written into
// the output rows first and the product accumulated onto it by one sgemm, instead of a second pass and an
// intermediate (onnxruntime's MatMul + Add -> Gemm fusion, for A of any rank).

extension GraphRewrites {
    static func fuseMatMulAdds(_ model: inout Model) -> Int {
        return untilUnchanged(&model, addsFusedOperators: true) { graph, uses in
            for (k, matmul) in graph.nodes.enumerated() where matmul.opType == "MatMul" && matmul.domain.isEmpty
                && matmul.inputs.count == 2 && matmul.outputs.count == 1 {
                guard let b = constant(matmul.inputs[1], graph), b.rank == 2,
                      uses.readers[matmul.outputs[0]] == 1, let a = uses.consumer[matmul.outputs[0]] else { continue }
                let add = graph.nodes[a]
                guard add.opType == "Add", add.domain.isEmpty, add.inputs.count == 2, add.outputs.count == 1 else { continue }
                let biasName = add.inputs[0] == matmul.outputs[0] ? add.inputs[1] : add.inputs[0]
                guard let bias = constant(biasName, graph), bias.shape == [b.shape[1]] else { continue }
                graph.nodes[a] = Node(name: "\(matmul.name)+\(add.name)", opType: "MatMulAdd", domain: domain,
                                      inputs: [matmul.inputs[0], matmul.inputs[1], biasName], outputs: add.outputs)
                graph.nodes.remove(at: k)
                return true
            }
            return false
        }
    }
}
