import Foundation
import ALVHSigning

/// Checks shared by every way of signing a proposal (file, pending queue, signer process).
public enum ProposalSigning {
    /// Verifies it is a proposal this key may sign now, and returns the parsed document.
    public static func check(_ envelope: Envelope, signer: PublicKey, at now: Date, path: String) throws -> ProposalDocument {
        guard PayloadTypes.isProposal(envelope.payloadType) else {
            throw ApprovalError(.wrongPayloadType, "payloadType is '\(envelope.payloadType)', not an alvh proposal", path: path)
        }
        guard !envelope.isSigned(by: signer) else {
            throw ApprovalError(.signingRefused, "already signed by this key (\(signer.keyID.fingerprint)); nothing was written", path: path)
        }
        let doc = try ProposalDocument.decode(envelope.payload, path: path)
        guard now < doc.expiresDate else {
            throw ApprovalError(.signingRefused, "the proposal expired at \(doc.expires); it cannot be signed — re-propose", path: path)
        }
        guard now >= doc.notBeforeDate else {
            throw ApprovalError(.signingRefused, "the proposal is not valid before \(doc.notBefore)", path: path)
        }
        return doc
    }
}

