import Colorize
import Foundation

// Prints min and median wall time of each Colorize stage on a 992x1401 page (the Pepper&Carrot size):
// a synthetic page, its PNG encode/decode, and every PNG page given on the command line.

func time(_ label: String, runs: Int = 5, _ body: () throws -> Void) rethrows {
    var samples: [Double] = []
    for _ in 0 ..< runs {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    samples.sort()
    print(String(format: "%-34@ min %8.1f ms   median %8.1f ms", label as NSString, samples[0], samples[samples.count / 2]))
}

let width = 992, height = 1401
var page = synthesizePage(width: width, height: height, seed: 1)
time("synthesizePage 992x1401") { page = synthesizePage(width: width, height: height, seed: 1) }
time("mangaStyle 992x1401") { _ = mangaStyle(page.color) }
var png: [UInt8] = []
time("encodePNG colour 992x1401") { png = try! encodePNG(page.color) }
print("  synthetic PNG: \(png.count) bytes")
time("decodePNG colour 992x1401") { _ = try! decodePNG(png, name: "synthetic") }
let greyPNG = try! encodePNG(page.lineArt)
time("decodePNG grey 992x1401") { _ = try! decodePNG(greyPNG, name: "synthetic-grey") }
let jpeg = try! encodeJPEG(page.color)
time("decodeJPEG colour 992x1401") { _ = try! decodeJPEG(jpeg, name: "synthetic") }
for path in CommandLine.arguments.dropFirst() {
    let name = (path as NSString).lastPathComponent
    var image = try! readImage(path: path)
    time("readImage \(name) \(image.width)x\(image.height)") { image = try! readImage(path: path) }
}
let generated = page.color
time("tensor() + Image(tensor:)", runs: 3) { _ = try! Image(tensor: generated.tensor()) }
time("keepLines", runs: 3) { _ = try! keepLines(original: page.lineArt, generated: generated) }
let lines = Image(width: width, height: height, channels: 1, pixels: page.labels.map { $0 < 0 ? 0 : 1 })
time("flatten", runs: 3) { _ = try! flatten(generated: generated, page: lines) }
time("isAlreadyColor", runs: 3) { _ = isAlreadyColor(generated) }
// The manga path's own stages (the generator's time is `mangacolor bench`'s): on the synthetic page and on
// every page given.
var mangaPages = [("synthetic", page.lineArt)]
for path in CommandLine.arguments.dropFirst() { mangaPages.append(((path as NSString).lastPathComponent, try! readImage(path: path))) }
for (name, manga) in mangaPages {
    var analysis = analyzeScreentone(manga)
    var descreened = descreen(manga, analysis: analysis)
    let colour = Image(width: manga.width, height: manga.height, channels: 3, fill: 0.6)
    time("classifyPage \(name)", runs: 3) { _ = classifyPage(manga) }
    time("analyzeScreentone \(name)", runs: 3) { analysis = analyzeScreentone(manga) }
    time("descreen \(name)", runs: 3) { descreened = descreen(manga, analysis: analysis) }
    time("composeManga \(name)", runs: 3) { _ = try! composeManga(descreened: descreened, generated: colour) }
}
time("psnr", runs: 3) { _ = try! psnr(generated, page.lineArt.rgb()) }
time("ssim", runs: 3) { _ = try! ssim(generated, page.lineArt.rgb()) }
time("meanCIEDE2000", runs: 3) { _ = try! meanCIEDE2000(generated, page.lineArt.rgb()) }
var rng = SplitMix64(seed: 1)
time("makeTrainingPair 256 (manga)", runs: 10) {
    _ = makeTrainingPair(from: generated, options: AugmentOptions(size: 256, input: .manga), rng: &rng)
}
