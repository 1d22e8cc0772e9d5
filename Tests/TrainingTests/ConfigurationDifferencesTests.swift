import Testing
import Training

/// A resumed run keeps its stored settings; the ones the command line changed are listed, each with both values.
@Test func configurationDifferencesNameEachIgnoredSetting() {
    let stored = TrainingConfiguration(imageSize: 64, discriminator: .patch, seed: 1)
    var given = stored
    #expect(stored.differences(from: given).isEmpty)
    given.generatorLearningRate = 1e-3
    given.discriminator.imageSize = 128
    let differences = stored.differences(from: given)
    #expect(differences.map(\.setting) == ["discriminator.imageSize", "generatorLearningRate"])
    #expect(differences[0].description == "discriminator.imageSize (stored 64, given 128)")
    #expect(differences[1].stored.hasPrefix("0.0001") && differences[1].given.hasPrefix("0.001"))
}
