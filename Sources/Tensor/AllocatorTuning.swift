// Large tensors and glibc malloc.
//
// glibc serves blocks above M_MMAP_THRESHOLD (128 KiB at first, adapting up to 32 MiB) with mmap and
// returns them to the kernel on free, so every fresh 1x32x512x512 activation (32 MiB) is faulted in page
// by page again. (`returnFreedMemory` gives free pages back between long steps, for bounded runs.) Measured here (release, 2 loaded cores): instanceNormForward on 1x32x512x512 took 96 ms
// of which ~85 ms were page faults on its new output; with freed memory kept for reuse it took 14 ms.

#if canImport(Glibc)
import Glibc

@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32

@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32

public enum AllocatorTuning {
    /// Keeps freed large blocks in the process for reuse instead of unmapping them (call once at startup,
    /// before the first large allocation). Costs resident memory equal to the peak working set.
    @discardableResult
    public static func keepFreedMemoryForReuse() -> Bool {
        // M_MMAP_MAX = 0: no block is served by mmap (M_MMAP_THRESHOLD is capped at 32 MiB, below one
        // 512x512x32 activation); M_TRIM_THRESHOLD: never give the heap's top back to the kernel.
        let mmapMax: Int32 = -4, trimThreshold: Int32 = -1
        return glibcMallopt(mmapMax, 0) != 0 && glibcMallopt(trimThreshold, Int32.max) != 0
    }

    /// Gives the whole free pages of every malloc arena back to the kernel (malloc_trim). For long runs of
    /// many similar steps (the bands of a strip): with mmap off, each worker thread's arena keeps the
    /// peak of what it ever held, and the arenas' peaks add up. Measured here on a 1000x110000 strip in 27
    /// bands: 1.0 to 5.3 GB peak RSS from run to run without it, 0.90 and 0.95 GB with it between bands.
    public static func returnFreedMemory() {
        _ = glibcMallocTrim(0)
    }
}
#else
public enum AllocatorTuning {
    @discardableResult
    public static func keepFreedMemoryForReuse() -> Bool { false }
    public static func returnFreedMemory() {}
}
#endif
