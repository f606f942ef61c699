import Foundation
import ALVHSigning

/// Counts an envelope's signatures against a policy and says whether it may be committed.
///
/// The rules, in order:
/// 1. The payloadType must be the proposal type; nothing else is looked at otherwise.
/// 2. Each signature is checked against the policy's keys (the keyid is only a hint for the
///    order of trying); the verifying key decides who signed.
/// 3. Only if some policy key verified the bytes is the payload parsed — the verified bytes.
/// 4. Distinct keys are counted once; revoked signers and (unless allowed) the proposer are not
///    counted; unknown keys and invalid signatures are reported.
/// 5. Every matching rule must be met (the most demanding one therefore is); no matching rule
///    means no approval. A valid rejection from a veto role blocks.
///
/// ```swift
/// let report = ThresholdEvaluator(policy: policy).evaluate(envelope, at: Date(), ledger: context)
/// if report.commitReady { … }
/// ```
public struct ThresholdEvaluator: Sendable {
    public let policy: Policy

    /// Check an envelope's signatures on parallel threads (for one latency-bound evaluation, as
    /// a commit's; leave it off where evaluations already run in parallel, as `ledger verify`'s).
    public var concurrentSignatureChecks: Bool

    public init(policy: Policy, concurrentSignatureChecks: Bool = false) {
        self.policy = policy
        self.concurrentSignatureChecks = concurrentSignatureChecks
    }

    /// Which policy signer, if any, made `signature` over `message`. The keyid hint only
    /// changes the order in which keys are tried.
    public func verifyingSigner(of signature: Envelope.Signature, over message: [UInt8]) -> Policy.Signer? {
        let hinted = signature.keyid.flatMap(KeyID.init(hex:)).flatMap { policy.signer(for: $0) }
        if let hinted, hinted.key.isValidSignature(signature.sig, for: message) { return hinted }
        for signer in policy.signers where signer.keyID != hinted?.keyID {
            if signer.key.isValidSignature(signature.sig, for: message) { return signer }
        }
        return nil
    }

    /// ``verifyingSigner(of:over:)`` for each signature, on up to as many threads as cores.
    private func concurrentVerifiers(_ signatures: [Envelope.Signature], over message: [UInt8]) -> [Policy.Signer?] {
        let results = UnsafeMutableBufferPointer<Policy.Signer?>.allocate(capacity: signatures.count)
        results.initialize(repeating: nil)
        defer { results.deinitialize(); results.deallocate() }
        nonisolated(unsafe) let slots = results  // each iteration writes its own slot
        DispatchQueue.concurrentPerform(iterations: signatures.count) { index in
            slots[index] = verifyingSigner(of: signatures[index], over: message)
        }
        return Array(results)
    }

    /// Evaluates `envelope` at the fixed time `now`, optionally against the ledger's state and with
    /// the signed rejections collected for it.
    public func evaluate(_ envelope: Envelope, at now: Date, ledger: LedgerContext? = nil,
                         rejections: [Envelope] = [], policyHashInForce: String? = nil) -> ApprovalReport {
        evaluateDocument(envelope, at: now, ledger: ledger, rejections: rejections, policyHashInForce: policyHashInForce).report
    }

    /// As ``evaluate(_:at:ledger:rejections:policyHashInForce:)``, also returning the parsed document
    /// (nil when no policy key verified the envelope or the payload is malformed).
    ///
    /// `policyHashInForce` is the hash the proposal must bind (default: this policy's); a policy
    /// change is counted under the new policy too, while binding the old one.
    public func evaluateDocument(_ envelope: Envelope, at now: Date, ledger: LedgerContext? = nil,
                                 rejections: [Envelope] = [], policyHashInForce: String? = nil) -> (report: ApprovalReport, document: ProposalDocument?) {
        let message = envelope.pae  // what every signature covers; its hash is the envelope id
        var report = ApprovalReport(
            proposalID: SHA256.hexDigest(message), payloadType: envelope.payloadType, policyName: policy.name,
            policyVersion: policy.version, policyHash: policy.hash, changeKind: nil, changeSize: nil,
            proposer: nil, proposerSigned: false, rules: [], threshold: 0, counted: 0, roleCounts: [],
            signatures: [], rejections: [], problems: [], evaluatedAt: RFC3339.format(now), commitReady: false)

        guard envelope.payloadType == PayloadTypes.proposal else {
            report.problems.append("wrong payloadType '\(envelope.payloadType)'; expected '\(PayloadTypes.proposal)'")
            return (report, nil)
        }

        // 2. Who signed: decided by the keys, over the exact PAE bytes.
        let verifiers = concurrentSignatureChecks && envelope.signatures.count > 1
            ? concurrentVerifiers(envelope.signatures, over: message)
            : envelope.signatures.map { verifyingSigner(of: $0, over: message) }
        guard verifiers.contains(where: { $0 != nil }) else {
            report.signatures = envelope.signatures.enumerated().map { index, sig in
                unverifiedLine(index: index, sig)
            }
            report.problems.append("no signature verifies under any key of policy '\(policy.name)'; the payload was not parsed")
            return (report, nil)
        }

        // 3. Parse the verified bytes.
        let document: ProposalDocument
        do {
            document = try ProposalDocument.decode(envelope.payload)
        } catch {
            report.signatures = envelope.signatures.enumerated().map { unverifiedLine(index: $0, $1) }
            report.problems.append("payload is not a valid proposal: \(error)")
            return (report, nil)
        }
        let proposer = document.proposerKeyID
        report.changeKind = document.kind.rawValue
        report.changeSize = document.size
        report.proposer = policy.signer(for: proposer)?.id ?? proposer.hex

        // 4. Classify and count.
        var countedKeys = Set<KeyID>()
        var seenKeys = Set<KeyID>()
        for (index, sig) in envelope.signatures.enumerated() {
            guard let signer = verifiers[index] else {
                report.signatures.append(unverifiedLine(index: index, sig))
                continue
            }
            var line = ApprovalReport.SignatureLine(index: index, keyidHint: sig.keyid, signer: signer.id,
                                                    keyID: signer.keyID.hex, roles: signer.roles.sorted(), status: .counted)
            if let hint = sig.keyid, hint != signer.keyID.hex, hint.lowercased() != signer.keyID.hex {
                line.detail = "keyid names \(hint.prefix(16))…, but the signature is by \(signer.id)"
            }
            if signer.keyID == proposer { report.proposerSigned = true }
            if seenKeys.contains(signer.keyID) {
                line.status = .duplicate
            } else if signer.revoked {
                line.status = .revoked
            } else if signer.keyID == proposer && !policy.proposerMayApprove {
                line.status = .proposer
            } else {
                countedKeys.insert(signer.keyID)
            }
            seenKeys.insert(signer.keyID)
            report.signatures.append(line)
        }
        report.counted = countedKeys.count

        // 5. Rules.
        let rules = policy.matchingRules(kind: document.kind, size: document.size)
        report.rules = rules.map(\.name)
        if rules.isEmpty {
            report.problems.append("no rule of policy '\(policy.name)' matches a \(document.kind.rawValue) of this size; it cannot be approved")
        }
        report.threshold = rules.map(\.threshold).max() ?? 0
        var roleNeeds: [String: Int] = [:]
        for rule in rules {
            for (role, minimum) in rule.roleMinimums { roleNeeds[role] = max(roleNeeds[role] ?? 0, minimum) }
        }
        let countedSigners = policy.signers.filter { countedKeys.contains($0.keyID) }
        report.roleCounts = roleNeeds.keys.sorted().map { role in
            ApprovalReport.RoleCount(role: role, needed: roleNeeds[role]!,
                                     have: countedSigners.filter { $0.roles.contains(role) }.count)
        }
        if !rules.isEmpty && report.counted < report.threshold {
            report.problems.append("threshold unmet: \(report.counted) of \(report.threshold) signatures counted")
        }
        for role in report.roleCounts where role.have < role.needed {
            report.problems.append("role minimum unmet: \(role.have) of \(role.needed) '\(role.role)'")
        }
        if policy.requireProposerSignature && !report.proposerSigned {
            report.problems.append("the proposer's signature (\(report.proposer ?? proposer.hex)) is missing; the policy requires it")
        }

        // Times, binding, freshness.
        report.problems += document.problems(at: now, policy: policy, ledger: ledger,
                                             policyHashInForce: policyHashInForce ?? policy.hash)

        // Rejections and vetoes.
        for rejection in rejections {
            let line = rejectionLine(rejection, proposalID: envelope.id)
            if line.veto {
                report.problems.append("vetoed by \(line.signer ?? "?") (\(line.roles.joined(separator: ", "))): \(line.reason ?? "")")
            }
            report.rejections.append(line)
        }

        report.commitReady = report.problems.isEmpty
        return (report, document)
    }

    private func unverifiedLine(index: Int, _ sig: Envelope.Signature) -> ApprovalReport.SignatureLine {
        let hinted = sig.keyid.flatMap(KeyID.init(hex:)).flatMap { policy.signer(for: $0) }
        if let hinted {
            return .init(index: index, keyidHint: sig.keyid, signer: nil, keyID: nil, roles: [], status: .invalid,
                         detail: "does not verify under \(hinted.id)'s key, which its keyid names")
        }
        return .init(index: index, keyidHint: sig.keyid, signer: nil, keyID: nil, roles: [], status: .unknownKey,
                     detail: "verifies under no key of the policy")
    }

    /// Checks one rejection envelope: type, signature by a policy key, binding to this proposal.
    public func rejectionLine(_ rejection: Envelope, proposalID: String) -> ApprovalReport.RejectionLine {
        var line = ApprovalReport.RejectionLine(signer: nil, keyID: nil, roles: [], reason: nil, veto: false, ignored: nil)
        guard rejection.payloadType == PayloadTypes.rejection else {
            line.ignored = "wrong payloadType '\(rejection.payloadType)'"
            return line
        }
        let message = rejection.pae
        guard let signer = rejection.signatures.lazy.compactMap({ self.verifyingSigner(of: $0, over: message) }).first else {
            line.ignored = "not signed by any key of the policy"
            return line
        }
        line.signer = signer.id
        line.keyID = signer.keyID.hex
        line.roles = signer.roles.sorted()
        let document: RejectionDocument
        do {
            document = try RejectionDocument.decode(rejection.payload)
        } catch {
            line.ignored = "payload is not a rejection: \(error)"
            return line
        }
        line.reason = document.reason
        guard document.proposal == proposalID else {
            line.ignored = "rejects another proposal (\(document.proposal.prefix(16))…)"
            return line
        }
        guard !signer.revoked else {
            line.ignored = "signer is revoked"
            return line
        }
        line.veto = !signer.roles.isDisjoint(with: policy.vetoRoles)
        return line
    }
}
