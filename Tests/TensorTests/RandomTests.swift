import Testing
import Tensor

/// The generators' streams are part of every run's reproducibility (model card commands, checkpoints):
/// pinned to values computed independently (a Python transcription of SplitMix64 and xoshiro256**).
@Test func seededStreamsAreThePublishedAlgorithms() {
    var seeding = SplitMix64(seed: 0)
    #expect(seeding.next() == 0xE220_A839_7B1D_CDAF)   // SplitMix64's well-known first output for seed 0
    let g = RandomGenerator(seed: 0)
    #expect(g.state == [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F, 0xF88B_B8A8_724C_81EC])
    var x = g
    #expect(x.next() == 0x99EC_5F36_CB75_F2B4)
    #expect(x.next() == 0xBF6E_1F78_4956_452A)
}
