/// Merging copies of one envelope signed in different places (PSBT's combiner role).
public enum EnvelopeMerge {
    /// One envelope with every distinct signature of `envelopes`, in first-seen order.
    /// Throws ``ApprovalError/Code/payloadMismatch`` unless all carry the same payload bytes and type.
    public static func combine(_ envelopes: [Envelope], names: [String]? = nil) throws -> Envelope {
        guard var result = envelopes.first else {
            throw ApprovalError(.payloadMismatch, "nothing to combine")
        }
        for (index, other) in envelopes.enumerated().dropFirst() {
            let name = names.map { $0[index] } ?? "envelope \(index)"
            guard other.payloadType.utf8.elementsEqual(result.payloadType.utf8) else {
                throw ApprovalError(.payloadMismatch, "payloadType '\(other.payloadType)' differs from '\(result.payloadType)'; these are not copies of one proposal", path: name)
            }
            guard other.payload == result.payload else {
                throw ApprovalError(.payloadMismatch, "payload differs (id \(other.id.prefix(16))… vs \(result.id.prefix(16))…); signatures over different proposals cannot be combined", path: name)
            }
            for signature in other.signatures where !result.signatures.contains(where: { $0.sig == signature.sig }) {
                result.signatures.append(signature)
            }
        }
        guard result.signatures.count <= Envelope.maxSignatures else {
            throw ApprovalError(.tooLarge, "combined envelope would carry \(result.signatures.count) signatures, over the limit of \(Envelope.maxSignatures)")
        }
        return result
    }
}
