import XCTest
@testable import Optim
