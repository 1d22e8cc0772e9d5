import Testing
@testable import Colorize

@Test func labOfReferenceColours() {
    let white = rgbToLab(1, 1, 1)
    #expect(abs(white.l - 100) < 1e-4 && abs(white.a) < 1e-4 && abs(white.b) < 1e-4)
    let black = rgbToLab(0, 0, 0)
    #expect(abs(black.l) < 1e-9)
    // sRGB red, D65: (53.24, 80.09, 67.20) (Lindbloom's calculator).
    let red = rgbToLab(1, 0, 0)
    #expect(abs(red.l - 53.24) < 0.01 && abs(red.a - 80.09) < 0.01 && abs(red.b - 67.20) < 0.01)
    // Greys have no chroma and L* of grey matches the colour path.
    for v in stride(from: 0.0, through: 1.0, by: 0.1) {
        let grey = rgbToLab(v, v, v)
        #expect(abs(grey.a) < 1e-4 && abs(grey.b) < 1e-4)
        #expect(abs(grey.l - lightnessOfGrey(v)) < 1e-4)
    }
}

@Test func rgbLabRoundTrip() {
    var worst = 0.0
    for r in stride(from: 0.0, through: 1.0, by: 0.125) {
        for g in stride(from: 0.0, through: 1.0, by: 0.125) {
            for b in stride(from: 0.0, through: 1.0, by: 0.125) {
                let lab = rgbToLab(r, g, b)
                let back = labToRGB(lab.l, lab.a, lab.b)
                worst = max(worst, abs(back.r - r), abs(back.g - g), abs(back.b - b))
            }
        }
    }
    #expect(worst < 1e-5)
}

@Test func srgbTransferCurveIsInvertible() {
    for i in 0 ... 255 {
        let v = Double(i) / 255
        #expect(abs(linearToSRGB(srgbToLinear(v)) - v) < 1e-12)
    }
}

@Test func lumaIsRec601() {
    let image = Image(width: 1, height: 1, channels: 3, pixels: [1, 0, 0])
    #expect(abs(image.luminance().pixels[0] - 0.299) < 1e-7)
    #expect(abs(luma(1, 1, 1) - 1) < 1e-6)
}

@Test func imageLabRoundTrip() {
    let page = synthesizePage(width: 32, height: 24, seed: 5).color
    let back = Image(lab: page.lab())
    #expect(maxDifference(page, back) < 1e-4)
}
