import Testing
@testable import ALVHEngine
