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

    /// Which policy signer made each of the envelope's signatures (nil: none), over its PAE — the
    /// expensive half of an evaluation, which a caller may do ahead (on other threads) and hand to
    /// ``evaluateDocument(_:at:ledger:rejections:assessor:mode:verifiers:)``.
    public func signatureVerifiers(_ envelope: Envelope) -> [Policy.Signer?] {
        let message = envelope.pae
        return envelope.signatures.map { verifyingSigner(of: $0, over: message) }
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

    /// How an evaluation is made.
    public struct Mode: Sendable, Equatable {
        /// The hash the proposal must bind (nil: this policy's). A policy change is counted under
        /// the new policy too, while binding the old one.
        public var policyHashInForce: String?
        /// Counting a policy change under the policy it would adopt: the proposer and its
        /// signature are the current policy's business, not the incoming one's.
        public var incomingPolicy: Bool

        public init(policyHashInForce: String? = nil, incomingPolicy: Bool = false) {
            self.policyHashInForce = policyHashInForce
            self.incomingPolicy = incomingPolicy
        }
    }

    /// Evaluates `envelope` at the fixed time `now`, optionally against the ledger's state and with
    /// the signed rejections collected for it. Layer changes are sized by `assessor` (recomputed
    /// from the signed legs and the cited snapshot); without one they are never commit-ready.
    public func evaluate(_ envelope: Envelope, at now: Date, ledger: LedgerContext? = nil, rejections: [Envelope] = [],
                         assessor: (any ChangeAssessor)? = nil, mode: Mode = Mode(), verifiers: [Policy.Signer?]? = nil,
                         parsed: ProposalDocument? = nil) -> ApprovalReport {
        evaluateDocument(envelope, at: now, ledger: ledger, rejections: rejections, assessor: assessor, mode: mode, verifiers: verifiers, parsed: parsed).report
    }

    /// As ``evaluate(_:at:ledger:rejections:assessor:mode:)``, also returning the parsed document
    /// (nil when no policy key verified the envelope or the payload is malformed).
    public func evaluateDocument(_ envelope: Envelope, at now: Date, ledger: LedgerContext? = nil, rejections: [Envelope] = [],
                                 assessor: (any ChangeAssessor)? = nil, mode: Mode = Mode(),
                                 verifiers precomputed: [Policy.Signer?]? = nil, parsed preparsed: ProposalDocument? = nil) -> (report: ApprovalReport, document: ProposalDocument?) {
        let message = envelope.pae  // what every signature covers; its hash is the envelope id
        var report = ApprovalReport(proposalID: SHA256.hexDigest(message), payloadType: envelope.payloadType, policy: policy,
                                    evaluatedAt: RFC3339.format(now))

        // 1. The type, byte for byte (a Swift String compares canonically equivalent text as equal).
        guard PayloadTypes.isProposal(envelope.payloadType) else {
            report.findings.append(.wrongPayloadType(envelope.payloadType))
            return (report, nil)
        }

        // 2. Who signed: decided by the keys, over the exact PAE bytes.
        let verifiers = precomputed.flatMap { $0.count == envelope.signatures.count ? $0 : nil }
            ?? (concurrentSignatureChecks && envelope.signatures.count > 1
                ? concurrentVerifiers(envelope.signatures, over: message)
                : envelope.signatures.map { verifyingSigner(of: $0, over: message) })
        guard verifiers.contains(where: { $0 != nil }) else {
            report.signatures = envelope.signatures.enumerated().map { index, sig in unverifiedLine(index: index, sig) }
            report.findings.append(.noVerifiedSignature(policy: policy.name))
            return (report, nil)
        }

        // 3. Parse the verified bytes.
        let document: ProposalDocument
        do {
            // A caller that verified the signatures ahead may hand over the payload it parsed then.
            if let preparsed, precomputed != nil { document = preparsed } else { document = try ProposalDocument.decode(envelope.payload) }
        } catch {
            report.signatures = envelope.signatures.enumerated().map { unverifiedLine(index: $0, $1) }
            report.findings.append(.malformedPayload("\(error)"))
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
            // The proposer's signature counts as the proposer's only while it is a current signer.
            if signer.keyID == proposer && !signer.revoked { report.proposerSigned = true }
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

        // 5. The size that picks the rules: recomputed, never the proposer's claim.
        let assessment: ChangeAssessment
        if document.kind == .policyChange {
            assessment = ChangeAssessment(size: ChangeSize(premiumDollars: 0, absDeltaVega: 0, contracts: 0, layer: nil), marketAsOf: nil)
        } else if let assessor {
            assessment = assessor.assess(document, policy: policy)
        } else {
            assessment = .failed("no market snapshot and book to recompute from were given, so no rule can be matched on trusted figures")
        }
        report.assessedSize = assessment.size
        report.findings += assessment.problems

        // 6. Rules: each matching rule must be met on its own, one signature filling one role slot.
        let rules = policy.matchingRules(kind: document.kind, size: assessment.size)
        report.rules = rules.map(\.name)
        if rules.isEmpty { report.findings.append(.noMatchingRule(kind: document.kind.rawValue)) }
        report.threshold = rules.map(\.threshold).max() ?? 0
        let countedSigners = policy.signers.filter { countedKeys.contains($0.keyID) }
        var roleCounts: [String: ApprovalReport.RoleCount] = [:]
        for rule in rules {
            if countedSigners.count < rule.threshold {
                report.findings.append(.thresholdUnmet(rule: rule.name, have: countedSigners.count, need: rule.threshold))
            }
            let filled = RoleMatching.filledSlots(signers: countedSigners.map(\.roles), minimums: rule.roleMinimums)
            for role in rule.roleMinimums.keys.sorted() {
                let need = rule.roleMinimums[role]!, have = filled[role] ?? 0
                if have < need { report.findings.append(.roleMinimumUnmet(rule: rule.name, role: role, have: have, need: need)) }
                if need >= (roleCounts[role]?.needed ?? 0) {
                    roleCounts[role] = ApprovalReport.RoleCount(role: role, needed: need, have: have)
                }
            }
        }
        report.roleCounts = roleCounts.keys.sorted().map { roleCounts[$0]! }

        // 7. The proposer: a current, unrevoked signer allowed to propose, who signed.
        if !mode.incomingPolicy {
            if let refusal = policy.proposerRefusal(proposer) {
                report.findings.append(.proposerNotAllowed(proposer: report.proposer ?? proposer.hex, why: refusal))
            } else if policy.requireProposerSignature && !report.proposerSigned {
                report.findings.append(.proposerSignatureMissing(proposer: report.proposer ?? proposer.hex))
            }
        }

        // 8. Times, binding, freshness (of the cited snapshot's own time).
        report.findings += document.problems(at: now, policy: policy, ledger: ledger,
                                             policyHashInForce: mode.policyHashInForce ?? policy.hash, marketAsOf: assessment.marketAsOf)

        // 9. Rejections and vetoes.
        for rejection in rejections {
            let line = rejectionLine(rejection, proposalID: envelope.id)
            if line.veto {
                report.findings.append(.vetoed(signer: line.signer ?? "?", roles: line.roles, reason: line.reason ?? ""))
            }
            report.rejections.append(line)
        }

        report.commitReady = report.findings.isEmpty
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
        guard PayloadTypes.isRejection(rejection.payloadType) else {
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

/// Signers to role slots: a maximum bipartite matching (each counted signer fills at most one
/// slot, a slot of role r only by a holder of r), so one person holding two roles cannot meet two
/// role minimums alone.
enum RoleMatching {
    /// For each role with a minimum, how many of its slots the best assignment fills.
    static func filledSlots(signers: [Set<String>], minimums: [String: Int]) -> [String: Int] {
        let slots: [String] = minimums.keys.sorted().flatMap { role in Array(repeating: role, count: minimums[role]!) }
        guard !slots.isEmpty else { return [:] }
        var slotOwner = [Int?](repeating: nil, count: slots.count)
        func augment(_ signer: Int, _ visited: inout [Bool]) -> Bool {
            for slot in slots.indices where !visited[slot] && signers[signer].contains(slots[slot]) {
                visited[slot] = true
                if slotOwner[slot] == nil || augment(slotOwner[slot]!, &visited) {
                    slotOwner[slot] = signer
                    return true
                }
            }
            return false
        }
        for signer in signers.indices {
            var visited = [Bool](repeating: false, count: slots.count)
            _ = augment(signer, &visited)
        }
        var filled: [String: Int] = [:]
        for (slot, owner) in slotOwner.enumerated() where owner != nil { filled[slots[slot], default: 0] += 1 }
        return filled
    }
}
