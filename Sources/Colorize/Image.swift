import Tensor

// The image type every Colorize function takes and returns, and its bridge to the generator's tensors.
//
// Layout: PLANAR (channel-major), row-major within a plane: pixel (x, y) of channel c is
// `pixels[(c * height + y) * width + x]`. Planar matches NCHW, so an image becomes a [1, C, H, W] tensor
// with one pass. Channels: 1 (grey) or 3 (sRGB-encoded R, G, B). Values are Float in [0, 1]
// (0 black, 1 white); functions that produce images clamp into that range.
//
// Tensors: the generator takes grey in [-1, 1] and produces Tanh output in [-1, 1], so
// `tensor()` maps v -> 2v - 1 and `Image(tensor:)` maps t -> (t + 1) / 2, clamped.
//
// API:
//   Image(width:height:channels:fill:), Image(width:height:channels:pixels:)
//   image[x, y, c]                 read/write one sample (slow path; use `pixels` in loops)
//   image.tensor() -> [1,C,H,W]    Image(tensor:) from [1,C,H,W] or [C,H,W] float32
//   image.cropped(x:y:width:height:), flippedHorizontally(), resized(width:height:) (bilinear),
//   image.channel(c), Image(stacking:)

/// Errors from reading, writing and converting images. Each names the file (or the shape) and what to do.
public enum ImageError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case corrupt(path: String, reason: String)
    case unsupported(path: String, reason: String)
    case tooLarge(path: String, width: Int, height: Int)
    case writeFailed(path: String, reason: String)
    case badTensor(shape: [Int], reason: String)
    case mismatch(String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
        case .corrupt(let path, let reason): "\(path) is not a valid image: \(reason)"
        case .unsupported(let path, let reason): "\(path): \(reason)"
        case .tooLarge(let path, let width, let height):
            "\(path) is \(width)x\(height) pixels (\(Self.megapixels(width, height)) Mpx), more than the "
                + "\(ImageLimits.maxSide) px per side or \(ImageLimits.maxPixels / 1_000_000) Mpx this tool decodes "
                + "whole (non-interlaced PNG strips up to \(ImageLimits.maxBandWidth) px wide are processed in bands "
                + "of rows); scale it down or cut it into parts first"
        case .writeFailed(let path, let reason): "cannot write \(path): \(reason)"
        case .badTensor(let shape, let reason): "tensor of shape \(shape) is not an image: \(reason)"
        case .mismatch(let what): what
        }
    }

    private static func megapixels(_ width: Int, _ height: Int) -> String {
        let (p, overflow) = width.multipliedReportingOverflow(by: height)
        return overflow ? "more than 2^63" : String(format: "%.1f", Double(p) / 1e6)
    }
}

/// A planar float image, values in [0, 1]. See the file header for the layout.
public struct Image: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let channels: Int
    /// Planar samples, `channels * height * width` of them.
    public var pixels: [Float]

    public init(width: Int, height: Int, channels: Int, fill: Float = 0) {
        precondition(width >= 0 && height >= 0 && channels >= 1, "bad image size \(width)x\(height)x\(channels)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = [Float](repeating: fill, count: width * height * channels)
    }

    public init(width: Int, height: Int, channels: Int, pixels: [Float]) {
        precondition(pixels.count == width * height * channels,
                     "\(width)x\(height)x\(channels) image needs \(width * height * channels) samples, got \(pixels.count)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// Pixels per plane.
    public var planeSize: Int { width * height }

    public subscript(x: Int, y: Int, c: Int) -> Float {
        get { pixels[(c * height + y) * width + x] }
        set { pixels[(c * height + y) * width + x] = newValue }
    }

    /// One channel as a 1-channel image.
    public func channel(_ c: Int) -> Image {
        precondition(c < channels)
        return Image(width: width, height: height, channels: 1,
                     pixels: Array(pixels[c * planeSize ..< (c + 1) * planeSize]))
    }

    /// Planes stacked into one image (all the same size).
    public init(stacking planes: [Image]) {
        precondition(!planes.isEmpty)
        let w = planes[0].width, h = planes[0].height
        precondition(planes.allSatisfy { $0.width == w && $0.height == h }, "planes differ in size")
        self.init(width: w, height: h, channels: planes.reduce(0) { $0 + $1.channels },
                  pixels: planes.flatMap(\.pixels))
    }

    /// 3 channels: a grey image repeated, a colour image unchanged.
    public func rgb() -> Image {
        if channels == 3 { return self }
        precondition(channels == 1, "rgb() needs 1 or 3 channels, got \(channels)")
        return Image(width: width, height: height, channels: 3, pixels: pixels + pixels + pixels)
    }

    // MARK: Tensors

    /// [1, C, H, W] float32, values 2v - 1 in [-1, 1].
    public func tensor() -> Tensor {
        let t = Tensor(uninitialized: [1, channels, height, width], dtype: .float32)
        let out = t.floats
        pixels.withUnsafeBufferPointer { src in
            for i in 0 ..< src.count { out[i] = src[i] * 2 - 1 }
        }
        return t
    }

    /// From a [1, C, H, W] or [C, H, W] float32 tensor in [-1, 1] (values outside are clamped, NaN gives 0).
    public init(tensor: Tensor) throws {
        guard tensor.dtype == .float32 else {
            throw ImageError.badTensor(shape: tensor.shape, reason: "element type is \(tensor.dtype), not float32")
        }
        var shape = tensor.shape
        if shape.count == 4 {
            guard shape[0] == 1 else {
                throw ImageError.badTensor(shape: shape, reason: "batch size \(shape[0]); expected 1")
            }
            shape.removeFirst()
        }
        guard shape.count == 3, shape[0] >= 1 else {
            throw ImageError.badTensor(shape: tensor.shape, reason: "expected [1, C, H, W] or [C, H, W]")
        }
        let src = tensor.floats
        var px = [Float](repeating: 0, count: src.count)
        px.withUnsafeMutableBufferPointer { dst in
            // NaN (a diverged model) becomes 0 rather than travelling on into colour conversions.
            for i in 0 ..< src.count { let v = (src[i] + 1) * 0.5; dst[i] = v.isNaN ? 0 : min(max(v, 0), 1) }
        }
        self.init(width: shape[2], height: shape[1], channels: shape[0], pixels: px)
    }

    // MARK: Geometry

    /// The rectangle [x, x+width) x [y, y+height), which must lie inside the image.
    public func cropped(x: Int, y: Int, width w: Int, height h: Int) -> Image {
        precondition(x >= 0 && y >= 0 && w >= 0 && h >= 0 && x + w <= width && y + h <= height,
                     "crop \(w)x\(h)+\(x)+\(y) outside \(width)x\(height)")
        var out = Image(width: w, height: h, channels: channels)
        pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                for c in 0 ..< channels {
                    for row in 0 ..< h {
                        let s = (c * height + y + row) * width + x
                        let d = (c * h + row) * w
                        for i in 0 ..< w { dst[d + i] = src[s + i] }
                    }
                }
            }
        }
        return out
    }

    public func flippedHorizontally() -> Image {
        var out = self
        pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                for row in 0 ..< channels * height {
                    let base = row * width
                    for x in 0 ..< width { dst[base + x] = src[base + width - 1 - x] }
                }
            }
        }
        return out
    }

    /// Bilinear resize with half-pixel centres (as ONNX Resize `half_pixel`, edge-clamped). No antialiasing:
    /// meant for the mild scale jitter of augmentation, not for large reductions.
    public func resized(width w: Int, height h: Int) -> Image {
        precondition(w > 0 && h > 0)
        if w == width && h == height { return self }
        var out = Image(width: w, height: h, channels: channels)
        let sx = Float(width) / Float(w), sy = Float(height) / Float(h)
        // Precompute the horizontal taps once.
        var x0 = [Int](repeating: 0, count: w), x1 = x0, fx = [Float](repeating: 0, count: w)
        for x in 0 ..< w {
            let p = min(max((Float(x) + 0.5) * sx - 0.5, 0), Float(width - 1))
            x0[x] = Int(p)
            x1[x] = min(x0[x] + 1, width - 1)
            fx[x] = p - Float(x0[x])
        }
        pixels.withUnsafeBufferPointer { src in
            out.pixels.withUnsafeMutableBufferPointer { dst in
                for c in 0 ..< channels {
                    for y in 0 ..< h {
                        let p = min(max((Float(y) + 0.5) * sy - 0.5, 0), Float(height - 1))
                        let y0 = Int(p), y1 = min(y0 + 1, height - 1), fy = p - Float(y0)
                        let r0 = (c * height + y0) * width, r1 = (c * height + y1) * width
                        let d = (c * h + y) * w
                        for x in 0 ..< w {
                            let top = src[r0 + x0[x]] + (src[r0 + x1[x]] - src[r0 + x0[x]]) * fx[x]
                            let bottom = src[r1 + x0[x]] + (src[r1 + x1[x]] - src[r1 + x0[x]]) * fx[x]
                            dst[d + x] = top + (bottom - top) * fy
                        }
                    }
                }
            }
        }
        return out
    }
}
