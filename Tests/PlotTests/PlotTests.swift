import XCTest
@testable import Plot
