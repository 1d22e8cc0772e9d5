// The Colorize module: everything between image files and the generator.
//
//   Image.swift            planar Float image in [0, 1]; <-> [1, C, H, W] tensors in [-1, 1]; crop, flip, resize
//   PNG.swift, JPEG.swift  decode/encode (libpng simplified API; libjpeg through the C shim CImageCodecs)
//   ImageFile.swift        readImage(path:) by signature, atomic writePNG/writeJPEG, listImages(in:)
//   ColorSpace.swift       sRGB <-> linear <-> XYZ <-> CIELAB (D65), Rec. 601 luma
//   Metrics.swift          PSNR, SSIM, CIEDE2000, colourfulness
//   (SplitMix64, the seeded generator behind every random choice here, is in Tensor/Random.swift)
//   Synth.swift            procedural manga pages with exact colour ground truth
//   MangaStyle.swift       ink + halftone screentone rendering of a page
//   Augment.swift          training pairs: crops, scale jitter, flips, grey or manga-style inputs
//   PairLoader.swift       ordered, deterministic background loading of pairs
//   Tiling.swift           the generator over pages of any size: reflection padding, overlapped tiles
//   LinePreservation.swift --keep-lines (L* from the page) and the already-in-colour check
//   Flat.swift             --flat: one colour per ink-bounded region
//   Pipeline.swift         one page end to end (colorize, evaluate, synth) for the CLI
//   PageAnalysis.swift     grey vs manga pages; ink vs screentone (ScreentoneDetection.swift, ScreenRuns.swift)
//   Descreen.swift         screentone to continuous tone, edge-aware; Morphology.swift its distance helpers
//   MangaCompositing.swift colour under the ink; MangaEvaluation.swift `evaluate --input manga`
//   Parallel.swift         chunked concurrentPerform helpers
//
// Errors are `ImageError` values whose description is a sentence naming the file or the sizes involved.
