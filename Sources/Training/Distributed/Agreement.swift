import Foundation
import Tensor

extension GANTrainer {
    /// A bit-exact checksum (FNV-1a over the bytes) of the generator's, the discriminator's and the averaged
    /// generator's weights.
    public func weightsChecksum() -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        let all = generator.parameters + discriminator.parameters + (averagedGenerator?.parameters ?? [])
        for p in all {
            let raw = UnsafeRawBufferPointer(p.value.floats)
            for byte in raw { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        }
        return hash
    }

    /// Throws when the processes of the collective do not all hold the same weights at the same step (a
    /// cheap checksum compared across them; identity for one process). Data-parallel training keeps them
    /// identical by construction; this catches a process that drifted (different data, a lost update).
    public func checkProcessesAgree() throws {
        guard collective.size > 1 else { return }
        let hash = weightsChecksum()
        let mine = [Double(hash >> 32), Double(hash & 0xffff_ffff), Double(completedSteps)]
        let (low, high) = try collective.allReduceMinMax(mine)
        guard low == high else {
            throw TrainingError.diverged("the \(collective.size) processes no longer hold the same weights at step \(completedSteps) "
                + "(rank \(collective.rank)'s checksum \(String(hash, radix: 16))): the data or a library differs between "
                + "machines; resume from the last checkpoint")
        }
    }
}
