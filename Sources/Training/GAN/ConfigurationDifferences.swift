import Foundation

/// One setting that differs between a run's stored configuration and the one a resumed command asked for.
public struct ConfigurationDifference: Sendable, Equatable, CustomStringConvertible {
    /// The setting's path in the configuration, as `config.json` spells it (`generatorLearningRate`,
    /// `discriminator.imageSize`).
    public let setting: String
    public let stored: String
    public let given: String
    public var description: String { "\(setting) (stored \(stored), given \(given))" }
}

extension TrainingConfiguration {
    /// The settings in which `given` differs from `self`, sorted by name. A resumed run keeps `self` (the
    /// checkpoint's), so these are what the command line asked for and does not get.
    public func differences(from given: TrainingConfiguration) -> [ConfigurationDifference] {
        let stored = Self.flattened(self), asked = Self.flattened(given)
        return Set(stored.keys).union(asked.keys).sorted().compactMap { key in
            let a = stored[key] ?? "none", b = asked[key] ?? "none"
            return a == b ? nil : ConfigurationDifference(setting: key, stored: a, given: b)
        }
    }

    /// Every leaf of the JSON form, by dotted path.
    static func flattened(_ configuration: TrainingConfiguration) -> [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(configuration),
              let object = try? JSONSerialization.jsonObject(with: data) else { return [:] }
        var out: [String: String] = [:]
        func walk(_ value: Any, _ path: String) {
            if let dictionary = value as? [String: Any] {
                for (key, inner) in dictionary { walk(inner, path.isEmpty ? key : path + "." + key) }
            } else if let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]) {
                out[path] = String(decoding: data, as: UTF8.self)
            }
        }
        walk(object, "")
        return out
    }
}
