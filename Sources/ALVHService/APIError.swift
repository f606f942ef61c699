import Foundation
import Hummingbird
import ALVHSigning
import ALVHApproval
import ALVHLedger

/// An error as the API answers it: the CLI's JSON shape `{"error": {code, reason, path}}` and an HTTP
/// status chosen from the code (a typed value, never the wording of the reason).
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: String
    public var reason: String
    public var path: String?
    public var status: HTTPResponse.Status

    public init(_ code: String, _ reason: String, path: String? = nil, status: HTTPResponse.Status) {
        self.code = code
        self.reason = reason
        self.path = path
        self.status = status
    }

    public var description: String { (path.map { "\($0): " } ?? "") + reason + " [\(code)]" }

    /// The body of an error response (the same shape as `alvh … --json` prints).
    public struct Body: Codable, Sendable, Equatable {
        public struct Detail: Codable, Sendable, Equatable {
            public var code: String
            public var reason: String
            public var path: String?
        }
        public var error: Detail
    }

    public var body: Body { Body(error: .init(code: code, reason: reason, path: path)) }

    // MARK: - The service's own codes

    public static func tooLarge(_ limit: Int) -> APIError {
        APIError("too-large", "the request body is over the service's limit of \(limit) bytes", status: .contentTooLarge)
    }
    public static func badRequest(_ reason: String, path: String? = nil) -> APIError {
        APIError("invalid-input", reason, path: path, status: .badRequest)
    }
    public static let requestTimeout = APIError("request-timeout", "the request body did not arrive in time", status: .requestTimeout)
    public static func rateLimited(_ retryAfter: Int) -> APIError {
        APIError("rate-limited", "too many requests from this client; retry in \(retryAfter) s", status: .tooManyRequests)
    }
    public static let commitDisabled = APIError("commit-disabled",
        "this service was started without --committer-key: it commits nothing (an operator or coordinator commits)", status: .forbidden)

    // MARK: - From the modules' errors

    /// The HTTP status of a module error code.
    public static func status(forCode code: String) -> HTTPResponse.Status {
        switch code {
        case LedgerError.Code.notFound.rawValue, LedgerError.Code.noLedger.rawValue:
            return .notFound
        case LedgerError.Code.invalidInput.rawValue,
             ApprovalError.Code.malformedEnvelope.rawValue, ApprovalError.Code.malformedPayload.rawValue,
             ApprovalError.Code.wrongPayloadType.rawValue, ApprovalError.Code.invalidPolicy.rawValue,
             ApprovalError.Code.payloadMismatch.rawValue,
             SigningError.Code.signatureMalformed.rawValue, SigningError.Code.signatureInvalid.rawValue,
             SigningError.Code.invalidKeyEncoding.rawValue, SigningError.Code.unsupportedKeyType.rawValue:
            return .badRequest
        case ApprovalError.Code.tooLarge.rawValue, SigningError.Code.fileTooLarge.rawValue:
            return .contentTooLarge
        case LedgerError.Code.staleProposal.rawValue, LedgerError.Code.duplicate.rawValue,
             LedgerError.Code.notApproved.rawValue, LedgerError.Code.policyRollback.rawValue,
             ApprovalError.Code.notApproved.rawValue, ApprovalError.Code.signingRefused.rawValue,
             LedgerError.Code.refused.rawValue:
            return .conflict
        case LedgerError.Code.database.rawValue:
            return .serviceUnavailable
        default:
            return .internalServerError
        }
    }

    /// Any error a handler threw, as the API answers it.
    public init(_ error: any Error) {
        switch error {
        case let error as APIError:
            self = error
        case let error as LedgerError:
            self.init(error.code.rawValue, error.reason, path: error.path, status: APIError.status(forCode: error.code.rawValue))
        case let error as ApprovalError:
            self.init(error.code.rawValue, error.reason, path: error.path, status: APIError.status(forCode: error.code.rawValue))
        case let error as SigningError:
            self.init(error.code.rawValue, error.reason, path: error.path, status: APIError.status(forCode: error.code.rawValue))
        default:
            self.init("internal", "the service failed: \(type(of: error))", status: .internalServerError)
        }
    }
}
