import Tensor
import Testing
@testable import Colorize

@Test func planarLayoutAndTensorRoundTrip() throws {
    var image = Image(width: 3, height: 2, channels: 3)
    image[2, 1, 1] = 0.75
    #expect(image.pixels[(1 * 2 + 1) * 3 + 2] == 0.75)
    let t = image.tensor()
    #expect(t.shape == [1, 3, 2, 3])
    #expect(t.floats[(1 * 2 + 1) * 3 + 2] == 0.5 && t.floats[0] == -1)
    let back = try Image(tensor: t)
    #expect(maxDifference(back, image) < 1e-7)
    // [C, H, W] is accepted; values outside [-1, 1] and NaN are clamped.
    let raw = Tensor(shape: [1, 1, 3], floats: [-3, .nan, 5])
    #expect(try Image(tensor: raw).pixels == [0, 0, 1])
    #expect(throws: ImageError.self) { try Image(tensor: Tensor(zeros: [2, 3, 4, 4])) }
    #expect(throws: ImageError.self) { try Image(tensor: Tensor(zeros: [4, 4])) }
}

@Test func channelsStackAndSplit() {
    let grey = Image(width: 2, height: 2, channels: 1, pixels: [0.1, 0.2, 0.3, 0.4])
    let rgb = grey.rgb()
    #expect(rgb.channels == 3 && rgb.channel(2) == grey)
    #expect(Image(stacking: [grey, grey, grey]) == rgb)
    #expect(rgb.luminance().pixels.enumerated().allSatisfy { abs($1 - grey.pixels[$0]) < 1e-6 })
}

@Test func cropTakesTheRectangle() {
    var image = Image(width: 4, height: 3, channels: 2)
    for i in 0 ..< image.pixels.count { image.pixels[i] = Float(i) }
    let crop = image.cropped(x: 1, y: 1, width: 2, height: 2)
    #expect(crop.pixels == [5, 6, 9, 10, 17, 18, 21, 22])
}
