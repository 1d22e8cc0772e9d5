import Testing
@testable import Colorize

@Test func ColorizeModuleLoads() {
    #expect(Bool(true))
}
