import Foundation
import Tensor

// Training pages are colour targets: a page that cannot be read, or that has no colour, must not stop
// `train --data` nor teach the model grey. They are screened once before training, as `colorize` reports a
// bad page and goes on.
//
// API: PageScreening, screenTrainingPages(_:minimumVividShare:) -> PageScreening

/// The outcome of screening: the pages to train on, and each left-out page with its reason.
public struct PageScreening: Sendable {
    public var usable: [String] = []
    public var skipped: [(page: String, reason: String)] = []
}

/// Decodes every page (in parallel, in order) and keeps those with colour: three channels and more than
/// `minimumVividShare` of the pixels at CIELAB chroma above 20 (`chromaStatistics`). The default, 1%, is a
/// fifth of what `colorize` calls a colour page: a mostly grey page with a few coloured panels still teaches
/// colour; a scan with only paper tint has none (see `chromaStatistics`, LinePreservation.swift).
public func screenTrainingPages(_ paths: [String], minimumVividShare: Double = 0.01) -> PageScreening {
    let verdicts = UnsafeMutableBufferPointer<String?>.allocate(capacity: paths.count)
    verdicts.initialize(repeating: nil)
    defer { verdicts.deallocate() }
    let slots = SendablePointer(verdicts.baseAddress ?? UnsafeMutablePointer<String?>.allocate(capacity: 1))
    concurrentFor(paths.count) { i in
        do {
            let page = try readImage(path: paths[i])
            if page.channels != 3 {
                slots[i] = "it is a grey image; training pages are colour targets"
            } else {
                let share = chromaStatistics(page).vividShare
                if share <= minimumVividShare {
                    slots[i] = String(format: "it has no colour (%.1f%% vivid pixels); a grey page teaches the model grey", share * 100)
                }
            }
        } catch {
            slots[i] = "\(error)"
        }
    }
    var screening = PageScreening()
    for (i, path) in paths.enumerated() {
        if let reason = verdicts[i] { screening.skipped.append((path, reason)) } else { screening.usable.append(path) }
    }
    return screening
}
