import XCTest
@testable import Surfaces
