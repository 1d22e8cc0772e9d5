import Foundation
import ArgumentParser
import Colorize
import Training
#if MANGACOLOR_MPI
import MPICollectives
#endif

/// The processes of this command: under `mpirun` (Open MPI, MPICH and PMIx launchers set these variables)
/// MPI's world, else this process alone — a plain run never touches MPI.
func processCollective() throws -> any Collective {
    let environment = ProcessInfo.processInfo.environment
    let launched = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"].lazy.compactMap { environment[$0].flatMap { Int($0) } }.first
    guard let processes = launched, processes > 1 else { return SingleProcess() }
    #if MANGACOLOR_MPI
    return try MPICollective()
    #else
    throw CLIError("this mangacolor was built without MPI but runs as one of \(processes) processes under mpirun: "
        + "install Open MPI (apt install libopenmpi-dev openmpi-bin) and rebuild (README: Train across processes and machines)")
    #endif
}

extension Collective {
    /// Runs `body`; when it fails in one of several processes, reports the error with this process's rank and
    /// ends the whole job, so no other process is left waiting in a collective call. An interruption (Ctrl-C,
    /// agreed by all processes) ends every process by itself: rank 0 reports it, the others exit quietly.
    func failingTogether(_ body: () throws -> Void) throws {
        guard size > 1 else { return try body() }
        do { try body() } catch let interrupted as TrainingInterrupted {
            if isRoot { throw interrupted }
            exit(1)
        } catch let code as ExitCode {
            // Reached by every process together (the outcome was agreed), so no one is left waiting.
            exit(code.rawValue)
        } catch {
            writeStderr("Error (process \(rank) of \(size)): \(error)\n")
            abort(code: 1)
        }
    }

    /// Writes to stderr from rank 0 only (one copy of each message for the whole job).
    func say(_ text: String) { if isRoot { writeStderr(text) } }
}
