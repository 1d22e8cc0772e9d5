import Testing
import Tensor
@testable import Colorize

/// Sharma, Wu & Dalal (2005), Table 1: L1 a1 b1, L2 a2 b2, published ΔE00 (4 decimals).
private let sharmaPairs: [(Double, Double, Double, Double, Double, Double, Double)] = [
    (50.0000, 2.6772, -79.7751, 50.0000, 0.0000, -82.7485, 2.0425),
    (50.0000, 3.1571, -77.2803, 50.0000, 0.0000, -82.7485, 2.8615),
    (50.0000, 2.8361, -74.0200, 50.0000, 0.0000, -82.7485, 3.4412),
    (50.0000, -1.3802, -84.2814, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -1.1848, -84.8006, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, -0.9009, -85.5211, 50.0000, 0.0000, -82.7485, 1.0000),
    (50.0000, 0.0000, 0.0000, 50.0000, -1.0000, 2.0000, 2.3669),
    (50.0000, -1.0000, 2.0000, 50.0000, 0.0000, 0.0000, 2.3669),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0009, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0010, 7.1792),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0011, 7.2195),
    (50.0000, 2.4900, -0.0010, 50.0000, -2.4900, 0.0012, 7.2195),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0009, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0010, -2.4900, 4.8045),
    (50.0000, -0.0010, 2.4900, 50.0000, 0.0011, -2.4900, 4.7461),
    (50.0000, 2.5000, 0.0000, 50.0000, 0.0000, -2.5000, 4.3065),
    (50.0000, 2.5000, 0.0000, 73.0000, 25.0000, -18.0000, 27.1492),
    (50.0000, 2.5000, 0.0000, 61.0000, -5.0000, 29.0000, 22.8977),
    (50.0000, 2.5000, 0.0000, 56.0000, -27.0000, -3.0000, 31.9030),
    (50.0000, 2.5000, 0.0000, 58.0000, 24.0000, 15.0000, 19.4535),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.1736, 0.5854, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2972, 0.0000, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 1.8634, 0.5757, 1.0000),
    (50.0000, 2.5000, 0.0000, 50.0000, 3.2592, 0.3350, 1.0000),
    (60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644),
    (63.0109, -31.0961, -5.8663, 62.8187, -29.7946, -4.0864, 1.2630),
    (61.2901, 3.7196, -5.3901, 61.4292, 2.2480, -4.9620, 1.8731),
    (35.0831, -44.1164, 3.7933, 35.0232, -40.0716, 1.5901, 1.8645),
    (22.7233, 20.0904, -46.6940, 23.0331, 14.9730, -42.5619, 2.0373),
    (36.4612, 47.8580, 18.3852, 36.2715, 50.5065, 21.2231, 1.4146),
    (90.8027, -2.0831, 1.4410, 91.1528, -1.6435, 0.0447, 1.4441),
    (90.9257, -0.5406, -0.9208, 88.6381, -0.8985, -0.7239, 1.5381),
    (6.7747, -0.2908, -2.4247, 5.8714, -0.0985, -2.2286, 0.6377),
    (2.0776, 0.0795, -1.1350, 0.9033, -0.0636, -0.5514, 0.9082),
]

@Test func ciede2000MatchesSharmaTable() {
    for (i, p) in sharmaPairs.enumerated() {
        let forward = ciede2000((p.0, p.1, p.2), (p.3, p.4, p.5))
        let backward = ciede2000((p.3, p.4, p.5), (p.0, p.1, p.2))
        #expect(abs(forward - p.6) < 0.5e-4, "pair \(i + 1): got \(forward), published \(p.6)")
        #expect(abs(forward - backward) < 1e-12, "pair \(i + 1) is not symmetric")
    }
    #expect(ciede2000((50, 2.5, 0), (50, 2.5, 0)) == 0)
}

private func solid(_ rgb: [Float], width: Int = 16, height: Int = 12) -> Image {
    Image(width: width, height: height, channels: rgb.count,
          pixels: rgb.flatMap { [Float](repeating: $0, count: width * height) })
}

@Test func identicalImagesAreIdeal() throws {
    let page = synthesizePage(width: 64, height: 48, seed: 3).color
    #expect(try psnr(page, page) == .infinity)
    #expect(try ssim(page, page) == 1)
    #expect(try meanCIEDE2000(page, page) == 0)
}

@Test func psnrOfAKnownError() throws {
    // MSE 0.01 -> 20 dB.
    let a = solid([0.2, 0.5, 0.7]), b = solid([0.3, 0.4, 0.8])
    #expect(abs(try psnr(a, b) - 20) < 1e-5)
}

@Test func ssimOfConstantImagesFollowsTheLuminanceTerm() throws {
    // Zero variance everywhere: SSIM = (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1).
    let a = solid([0.4]), b = solid([0.6])
    let c1 = 0.0001, x = Double(Float(0.4)), y = Double(Float(0.6))
    #expect(abs(try ssim(a, b) - (2 * x * y + c1) / (x * x + y * y + c1)) < 1e-6)
}

@Test func ssimFallsWithNoise() throws {
    let page = synthesizePage(width: 64, height: 64, seed: 9).color
    var rng = SplitMix64(seed: 1)
    var light = page, heavy = page
    for i in 0 ..< page.pixels.count {
        let n = Float(rng.nextDouble() - 0.5)
        light.pixels[i] = min(max(page.pixels[i] + 0.05 * n, 0), 1)
        heavy.pixels[i] = min(max(page.pixels[i] + 0.5 * n, 0), 1)
    }
    let s1 = try ssim(page, light), s2 = try ssim(page, heavy)
    #expect(s1 < 1 && s2 < s1 && s2 > -1)
}

@Test func meanCIEDE2000OfSolidColours() throws {
    let a = solid([0.8, 0.2, 0.1]), b = solid([0.7, 0.3, 0.2])
    let expected = ciede2000(rgbToLab(Double(Float(0.8)), Double(Float(0.2)), Double(Float(0.1))),
                             rgbToLab(Double(Float(0.7)), Double(Float(0.3)), Double(Float(0.2))))
    #expect(abs(try meanCIEDE2000(a, b) - expected) < 1e-3)
}

@Test func colourfulnessOfKnownImages() throws {
    #expect(colourfulness(solid([0.5])) == 0)
    #expect(colourfulness(solid([0.3, 0.3, 0.3])) == 0)
    // Pure red: rg = 255, yb = 127.5, no spread: 0.3 * sqrt(255^2 + 127.5^2).
    #expect(abs(colourfulness(solid([1, 0, 0])) - 0.3 * (255.0 * 255 + 127.5 * 127.5).squareRoot()) < 1e-6)
    // Half red, half green: mean rg = 0, spread 255 in rg, yb = 127.5 constant.
    var split = solid([1, 0, 0], width: 2, height: 1)
    split[1, 0, 0] = 0
    split[1, 0, 1] = 1
    #expect(abs(colourfulness(split) - (255 + 0.3 * 127.5)) < 1e-6)
}

@Test func comparingDifferentSizesIsAnError() {
    #expect(throws: ImageError.self) { try psnr(solid([0.5], width: 4), solid([0.5], width: 5)) }
}
