import ALVHApproval
import ALVHEngine

/// The book change a layer proposal makes: exactly its signed legs, applied to its layer.
enum BookChange {
    static func layerChange(_ document: ProposalDocument) throws -> LayerChange {
        guard let body = document.change.layer else {
            throw LedgerError(.invalidInput, "a \(document.kind.rawValue) proposal without a layer change")
        }
        let kind: LayerChange.Kind
        switch document.kind {
        case .addLayer: kind = .addLayer
        case .rollLayer: kind = .rollLayer
        case .resizeLayer: kind = .resizeLayer
        case .closeLayer: kind = .closeLayer
        case .policyChange: throw LedgerError(.invalidInput, "a policy change does not change the book")
        }
        let trades = try body.legs.enumerated().map { index, leg -> Trade in
            guard let right = OptionRight(rawValue: leg.right) else {
                throw LedgerError(.invalidInput, "right must be call or put", path: "change.layer.legs[\(index)].right")
            }
            return Trade(instrument: leg.instrument, right: right, expiry: leg.expiry, strike: leg.strike,
                         quantity: leg.quantity, price: leg.limitPrice)
        }
        return LayerChange(kind: kind, layer: body.layer, layerKind: HedgeLayer.Kind(rawValue: body.layer), trades: trades)
    }

    /// `book` with the proposal's change applied.
    static func apply(_ document: ProposalDocument, to book: Book) throws -> Book {
        do {
            return try book.applying(try layerChange(document))
        } catch let error as EngineError {
            throw LedgerError(.invalidInput, "the change cannot be applied to the book: \(error.reason)", path: error.path)
        }
    }
}
