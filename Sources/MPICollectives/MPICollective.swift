import CMPI
import Foundation
import Training

/// `Collective` over MPI's world communicator (Open MPI; one process per rank, started by `mpirun`).
///
/// Errors come back as codes (`MPI_ERRORS_RETURN`) and are thrown with MPI's own message; the caller reports
/// the error and calls `abort`, which ends every rank (`MPI_Abort`) so none waits for ever in a collective.
/// A process that dies without a word (killed) is noticed by `mpirun`, which ends the others.
public final class MPICollective: Collective {
    public let rank: Int
    public let size: Int

    /// Initialises MPI once for the process (finalised at exit).
    public init() throws {
        var initialised: Int32 = 0
        MPI_Initialized(&initialised)
        if initialised == 0 {
            try Self.check(MPI_Init(nil, nil), "MPI_Init")
            atexit { var finalised: Int32 = 0; MPI_Finalized(&finalised); if finalised == 0 { MPI_Finalize() } }
        }
        let world = mangacolor_mpi_comm_world()
        try Self.check(MPI_Comm_set_errhandler(world, mangacolor_mpi_errors_return()), "MPI_Comm_set_errhandler")
        var r: Int32 = 0, s: Int32 = 0
        try Self.check(MPI_Comm_rank(world, &r), "MPI_Comm_rank")
        try Self.check(MPI_Comm_size(world, &s), "MPI_Comm_size")
        rank = Int(r)
        size = Int(s)
    }

    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        // MPI counts are Int32: large buffers go in pieces.
        let piece = 1 << 28
        var at = 0
        while at < buffer.count {
            let n = min(piece, buffer.count - at)
            try Self.check(MPI_Allreduce(mangacolor_in_place(), buffer.baseAddress! + at, Int32(n), mangacolor_mpi_float(),
                                         mangacolor_mpi_sum(), mangacolor_mpi_comm_world()), "MPI_Allreduce (sum of \(n) floats)")
            at += n
        }
    }

    public func allReduceMinMax(_ values: [Double]) throws -> (min: [Double], max: [Double]) {
        var low = values, high = values
        let n = Int32(values.count)
        try Self.check(MPI_Allreduce(mangacolor_in_place(), &low, n, mangacolor_mpi_double(), mangacolor_mpi_min(),
                                     mangacolor_mpi_comm_world()), "MPI_Allreduce (min)")
        try Self.check(MPI_Allreduce(mangacolor_in_place(), &high, n, mangacolor_mpi_double(), mangacolor_mpi_max(),
                                     mangacolor_mpi_comm_world()), "MPI_Allreduce (max)")
        return (low, high)
    }

    public func broadcast(_ bytes: inout [UInt8]) throws {
        var count = Int64(bytes.count)
        try Self.check(MPI_Bcast(&count, 1, mangacolor_mpi_long_long(), 0, mangacolor_mpi_comm_world()), "MPI_Bcast (length)")
        guard count >= 0, count < 1 << 40 else { throw CollectiveError("rank 0 announced a broadcast of \(count) bytes") }
        if rank != 0 { bytes = [UInt8](repeating: 0, count: Int(count)) }
        let piece = 1 << 30
        var at = 0
        try bytes.withUnsafeMutableBytes { raw in
            while at < Int(count) {
                let n = min(piece, Int(count) - at)
                try Self.check(MPI_Bcast(raw.baseAddress! + at, Int32(n), mangacolor_mpi_byte(), 0, mangacolor_mpi_comm_world()),
                               "MPI_Bcast (\(n) bytes)")
                at += n
            }
        }
    }

    public func barrier() throws { try Self.check(MPI_Barrier(mangacolor_mpi_comm_world()), "MPI_Barrier") }

    public func abort(code: Int32) -> Never {
        MPI_Abort(mangacolor_mpi_comm_world(), code)
        exit(code)
    }

    private static func check(_ code: Int32, _ call: String) throws {
        guard code != mangacolor_mpi_success() else { return }
        var text = [CChar](repeating: 0, count: Int(mangacolor_mpi_max_error_string()) + 1)
        var length: Int32 = 0
        MPI_Error_string(code, &text, &length)
        let message = String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        throw CollectiveError("\(call) failed: \(message) (MPI error \(code))")
    }
}
