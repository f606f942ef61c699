import Foundation
import ALVHSigning
import ALVHApproval
import ALVHEngine

/// Turns the engine's output into the signed document's schema, and back.
///
/// ```swift
/// let doc = ProposalBuilder.document(for: proposal, binding: binding, proposer: key.keyID,
///                                    market: snapshot, snapshotBytes: bytes, created: now, lifetime: 4 * 3600)
/// ```
public enum ProposalBuilder {
    /// The proposal document for an engine proposal, bound to a ledger slot.
    public static func document(for proposal: EngineProposal, binding: LedgerBinding, proposer: KeyID, market: MarketSnapshot,
                                snapshotBytes: [UInt8], created: Date, lifetime: TimeInterval) -> ProposalDocument {
        ProposalDocument(
            ledger: binding, created: created, expires: created.addingTimeInterval(lifetime), proposer: proposer,
            change: .init(kind: changeKind(proposal.change.kind), layer: layerBody(proposal.change)),
            rationale: proposal.rationale.map { .init(name: $0.name, value: $0.value, threshold: $0.threshold, note: $0.note) },
            riskBefore: risk(proposal.riskBefore), riskAfter: risk(proposal.riskAfter), costDollars: proposal.costDollars,
            market: marketReference(market, bytes: snapshotBytes))
    }

    /// The document in a DSSE envelope signed by its proposer: what `propose` queues or writes.
    public static func signedEnvelope(for proposal: EngineProposal, binding: LedgerBinding, proposer: PrivateKey, market: MarketSnapshot,
                                      snapshotBytes: [UInt8], created: Date, lifetime: TimeInterval) throws -> Envelope {
        let doc = document(for: proposal, binding: binding, proposer: proposer.keyID, market: market, snapshotBytes: snapshotBytes,
                           created: created, lifetime: lifetime)
        var envelope = Envelope(payload: try doc.encoded(), payloadType: PayloadTypes.proposal)
        try envelope.addSignature(using: proposer)
        return envelope
    }

    public static func changeKind(_ kind: LayerChange.Kind) -> ChangeKind {
        switch kind {
        case .addLayer: return .addLayer
        case .rollLayer: return .rollLayer
        case .resizeLayer: return .resizeLayer
        case .closeLayer: return .closeLayer
        }
    }

    public static func layerBody(_ change: LayerChange) -> ProposalDocument.LayerChangeBody {
        .init(layer: change.layer, legs: change.trades.map {
            .init(instrument: $0.instrument, right: $0.right.rawValue, expiry: $0.expiry, strike: $0.strike, quantity: $0.quantity, limitPrice: $0.price)
        })
    }

    /// The risk section of the document: Greeks per layer and total, stress P&L per scenario.
    public static func risk(_ report: RiskReport) -> ProposalDocument.Risk {
        func greeks(_ g: DollarGreeks) -> ProposalDocument.Greeks { .init(delta: g.delta, gamma: g.gamma, vega: g.vega, theta: g.theta, rho: g.rho) }
        return .init(layers: Dictionary(uniqueKeysWithValues: report.layers.map { ($0.name, greeks($0.greeks)) }),
                     total: greeks(report.total), stressPnL: report.stressPnL)
    }

    public static func marketReference(_ market: MarketSnapshot, bytes: [UInt8]) -> ProposalDocument.MarketReference {
        .init(snapshotHash: SHA256.hexDigest(bytes), asOf: market.asOf, spx: market.spx.spot, vix: market.vix.spot,
              vixFront: market.vix.futures.first?.price)
    }

    /// The engine's change for a layer proposal (what the ledger applies to the book).
    public static func layerChange(_ document: ProposalDocument) throws -> LayerChange {
        try BookChange.layerChange(document)
    }
}

/// Market snapshots kept in the workspace by hash, so every signer can recompute from the same bytes.
public enum SnapshotStore {
    /// `WORKSPACE/snapshots/HASH.json`.
    public static func path(workspace: String, hash: String) -> String {
        (workspace.isEmpty || workspace == "." ? "" : workspace + "/") + "snapshots/\(hash).json"
    }

    /// Stores `bytes` under their hash (idempotent, atomic); returns the hash.
    @discardableResult
    public static func store(_ bytes: [UInt8], workspace: String) throws -> String {
        let hash = SHA256.hexDigest(bytes)
        let target = path(workspace: workspace, hash: hash)
        try SecureFile.makeDirectory((target as NSString).deletingLastPathComponent, mode: 0o755)
        if !SecureFile.exists(target) { try SecureFile.writeAtomically(bytes, to: target, mode: 0o644) }
        return hash
    }

    /// The bytes of a snapshot file (at most ``MarketSnapshot/maxBytes``; regular files only).
    public static func read(path: String) throws -> [UInt8] {
        do { return try SecureFile.read(path, limit: MarketSnapshot.maxBytes) }
        catch let error as SigningError { throw LedgerError(.fileError, error.reason, path: error.path ?? path) }
    }

    /// Loads the snapshot with `hash`, checking the bytes hash to it.
    public static func load(hash: String, workspace: String) throws -> (snapshot: MarketSnapshot, bytes: [UInt8]) {
        let file = path(workspace: workspace, hash: hash)
        let bytes = try SecureFile.read(file, limit: MarketSnapshot.maxBytes)
        guard SHA256.hexDigest(bytes) == hash else {
            throw LedgerError(.invalidInput, "snapshot file does not hash to its name", path: file)
        }
        return (try MarketSnapshot.decode(Data(bytes), path: file), bytes)
    }
}

extension Ledger {
    /// Builds the proposal document for `proposal` bound to the verified head and policy, signs it
    /// as `proposer`, and queues it with the market snapshot it cites (stored in the ledger).
    ///
    /// ```swift
    /// let queued = try await ledger.queue(proposals[0], market: snapshot, snapshotBytes: bytes, proposer: key,
    ///                               lifetime: 4 * 3600, at: Date())
    /// ```
    @discardableResult
    public func queue(_ proposal: EngineProposal, market: MarketSnapshot, snapshotBytes: [UInt8], proposer: PrivateKey,
                      lifetime: TimeInterval, at now: Date) async throws -> EnqueueResult {
        let verified = try await self.verified()
        let binding = LedgerBinding(ledgerID: verified.ledgerID, base: verified.hash, sequence: verified.sequence + 1,
                                    policyHash: verified.policy.hash)
        let envelope = try ProposalBuilder.signedEnvelope(for: proposal, binding: binding, proposer: proposer, market: market,
                                                          snapshotBytes: snapshotBytes, created: now, lifetime: lifetime)
        return try await enqueue(envelope, snapshot: snapshotBytes, at: now)
    }
}

extension Ledger {
    /// A trader's own change, as `alvh propose` would build it: `trades` priced at the cited
    /// snapshot's limit prices (model mid ± half-spread, on the VIX tick grid), evaluated by the engine on the verified book, bound to the
    /// verified head and policy, signed by `proposer` — what tools, tests and the benchmarks queue.
    public func manualProposal(kind: LayerChange.Kind, layer: String, trades: [Trade], market: MarketSnapshot, snapshotBytes: [UInt8],
                               proposer: PrivateKey, created: Date, lifetime: TimeInterval, note: String = "manual") async throws -> Envelope {
        let verified = try await self.verified()
        let priced = try trades.map { trade -> Trade in
            var priced = trade
            priced.price = try Engine.vixLimitPrice(market: market, right: trade.right, expiry: trade.expiry, strike: trade.strike, buying: trade.quantity > 0)
            return priced
        }
        let change = LayerChange(kind: kind, layer: layer, layerKind: HedgeLayer.Kind(rawValue: layer), trades: priced)
        let proposal = try Engine.manual(book: verified.book, change: change, market: market, note: note)
        let binding = LedgerBinding(ledgerID: verified.ledgerID, base: verified.hash, sequence: verified.sequence + 1, policyHash: verified.policy.hash)
        return try ProposalBuilder.signedEnvelope(for: proposal, binding: binding, proposer: proposer, market: market,
                                                  snapshotBytes: snapshotBytes, created: created, lifetime: lifetime)
    }

    /// The model mid of a VIX option on `market` (Black-76 on its future), to the cent, at least 0.01.
    public static func modelMid(market: MarketSnapshot, right: OptionRight, expiry: String, strike: Double) throws -> Double {
        max(0.01, (try Engine.vixMid(market: market, right: right, expiry: expiry, strike: strike) * 100).rounded() / 100)
    }
}
