import XCTest
@testable import Lab
