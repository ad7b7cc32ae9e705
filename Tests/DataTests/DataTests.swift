import XCTest
@testable import Data
