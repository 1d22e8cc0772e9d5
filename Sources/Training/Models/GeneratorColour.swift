import Foundation
import Tensor

/// What a generator's three output channels hold, and how it learns them (`train --colour`).
///
/// - `rgb`: sRGB, each channel in [-1, 1] (Tanh): the seed's generator, L1 in RGB.
/// - `lab`: CIELAB scaled to [-1, 1] (`LabScale`; Tanh): chroma-first — the page gives the lightness, the
///   generator's job is a*b*, and the losses are in Lab units, where equal distances are equal colour
///   differences.
/// - `abClasses`: L* by regression (Tanh) and a*b* as a distribution over quantised a*b* bins, trained by
///   cross-entropy against soft-encoded targets with class rebalancing, decoded by the annealed mean
///   (softmax at a temperature, then its mean; Zhang, Isola & Efros 2016, "Colorful Image Colorization").
///   The decoding is part of the network (and of its ONNX graph), so the output is `lab`'s.
public enum GeneratorColour: String, Codable, Sendable, CaseIterable {
    case rgb, lab, abClasses = "ab-classes"

    /// Whether the output channels are scaled CIELAB (what a consumer of the model must know).
    public var outputIsLab: Bool { self != .rgb }

    /// The exported generator's metadata key holding the raw value (absent: `rgb`, as before it existed).
    public static let metadataKey = "mangacolor.colour"

    /// The colour of an exported generator, from its metadata.
    public init(exportedMetadata metadata: [String: String]) throws {
        guard let raw = metadata[Self.metadataKey] else { self = .rgb; return }
        guard let colour = GeneratorColour(rawValue: raw) else {
            throw TrainingError.weights("the model's \(Self.metadataKey) is \"\(raw)\"; this version knows \(Self.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = colour
    }
}

/// CIELAB <-> the [-1, 1] channels of a Lab generator: L* / 50 - 1, a* / 110, b* / 110.
public enum LabScale {
    public static let lightness: Float = 50
    public static let chroma: Float = 110
}

/// The a*b* bins of an `abClasses` generator: bin centres (in a*b* units) and the decoding temperature.
public struct ABBins: Codable, Sendable, Equatable {
    /// Centres as (a*, b*) pairs.
    public var centres: [[Float]]
    /// Annealed-mean temperature: 1 is the distribution's mean (greyish), towards 0 its mode (vivid, noisy);
    /// Zhang et al. use 0.38.
    public var temperature: Float

    public init(centres: [[Float]], temperature: Float = 0.38) {
        self.centres = centres
        self.temperature = temperature
    }

    public var count: Int { centres.count }

    /// The decoding as a 1x1 convolution weight [2, Q, 1, 1] onto the scaled a*, b* channels.
    public var decodingWeight: Tensor {
        let q = centres.count
        let w = Tensor(zeros: [2, q, 1, 1])
        for (k, c) in centres.enumerated() {
            w.floats[k] = c[0] / LabScale.chroma
            w.floats[q + k] = c[1] / LabScale.chroma
        }
        return w
    }
}

extension ABBins {
    /// Soft-encoded targets for scaled Lab targets [N, 3, H, W]: each pixel's a*b* spread over its
    /// `neighbours` nearest bins with Gaussian weights of std `sigma` (a*b* units), summing to 1, as Zhang et
    /// al. encode them; and each pixel's nearest bin (for the rebalancing weight).
    public func softTargets(lab: Tensor, sigma: Float, neighbours: Int = 5) -> (targets: Tensor, nearest: [Int]) {
        let s = lab.shape, n = s[0], plane = s[2] * s[3], q = centres.count
        precondition(s.count == 4 && s[1] == 3, "soft targets need [N, 3, H, W] Lab, got \(s)")
        let k = min(neighbours, q)
        let targets = Tensor(zeros: [n, q, s[2], s[3]])
        let lp = lab.floats, tp = targets.floats
        var nearest = [Int](repeating: 0, count: n * plane)
        var distances = [(Float, Int)](repeating: (0, 0), count: q)
        for b in 0..<n {
            for i in 0..<plane {
                let a = lp[(b * 3 + 1) * plane + i] * LabScale.chroma, bb = lp[(b * 3 + 2) * plane + i] * LabScale.chroma
                for (c, centre) in centres.enumerated() {
                    let da = a - centre[0], db = bb - centre[1]
                    distances[c] = (da * da + db * db, c)
                }
                distances.sort { $0.0 < $1.0 }
                nearest[b * plane + i] = distances[0].1
                var sum: Float = 0
                for j in 0..<k { sum += Foundation.exp(-distances[j].0 / (2 * sigma * sigma)) }
                for j in 0..<k {
                    let w = Foundation.exp(-distances[j].0 / (2 * sigma * sigma))
                    tp[(b * q + distances[j].1) * plane + i] = sum > 0 ? w / sum : (j == 0 ? 1 : 0)
                }
            }
        }
        return (targets, nearest)
    }
}
