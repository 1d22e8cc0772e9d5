import ArgumentParser
import Tensor

/// `--memory-limit`, shared by the commands that load models: the largest tensor, and the most a model's
/// live tensors may hold together. Without it: MANGACOLOR_MEMORY_LIMIT, else 1/4 and 1/2 of physical memory.
struct MemoryOptions: ParsableArguments {
    @Option(help: "Largest tensor and largest total for one model, like 8G or 512M (default: 1/4 and 1/2 of RAM, or $MANGACOLOR_MEMORY_LIMIT).")
    var memoryLimit: String?

    func validate() throws {
        if let memoryLimit, MemoryBudget.parseBytes(memoryLimit) == nil {
            throw ValidationError("--memory-limit \(memoryLimit) is not a size like 8G, 512M or 1000000")
        }
    }

    /// Makes the limit the process's budget (call first in `run()`).
    func apply() {
        guard let memoryLimit, let bytes = MemoryBudget.parseBytes(memoryLimit) else { return }
        MemoryBudget.setProcessBudget(MemoryBudget(tensorBytes: bytes, planBytes: bytes))
    }
}
