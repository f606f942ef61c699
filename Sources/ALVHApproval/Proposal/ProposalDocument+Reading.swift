/// The proposal schema read with ``StrictJSONReader``: one pass over the verified bytes, every
/// field typed, unknown fields refused at every level (nothing is signed that alvh does not
/// show), absent or `null` optional fields read as nil — the same documents `JSONDecoder` reads
/// into ``ProposalDocument``, minus the ones with duplicate keys or unknown fields.
extension ProposalDocument {
    typealias Reader = StrictJSONReader

    static func read(_ r: inout Reader) throws -> ProposalDocument {
        var schema: Int?, ledger: LedgerBinding?, created: String?, notBefore: String?, expires: String?
        var proposer: String?, change: Change?, rationale: [Signal]?, riskBefore: Risk?, riskAfter: Risk?
        var costDollars: Double?, market: MarketReference?
        try r.readObject { r, key in
            switch key {
            case "schema":
                let value = try r.readInt()
                guard value == schemaVersion else {
                    throw Reader.invalid("schema \(value) is not supported (this alvh reads schema \(schemaVersion))")
                }
                schema = value
            case "ledger": ledger = try LedgerBinding.read(&r)
            case "created": created = try r.readString()
            case "notBefore": notBefore = try r.readString()
            case "expires": expires = try r.readString()
            case "proposer": proposer = try r.readString()
            case "change": change = try Change.read(&r)
            case "rationale":
                var signals: [Signal] = []
                try r.readArray { r, _ in signals.append(try Signal.read(&r)) }
                rationale = signals
            case "riskBefore": riskBefore = try r.readOptional(Risk.read)
            case "riskAfter": riskAfter = try r.readOptional(Risk.read)
            case "costDollars": costDollars = try r.readDouble()
            case "market": market = try r.readOptional(MarketReference.read)
            default: throw Reader.unknownField(key, "in a schema-\(schemaVersion) proposal")
            }
        }
        return ProposalDocument(
            schema: try required(schema, "schema"), ledger: try required(ledger, "ledger"), created: try required(created, "created"),
            notBefore: try required(notBefore, "notBefore"), expires: try required(expires, "expires"),
            proposer: try required(proposer, "proposer"), change: try required(change, "change"),
            rationale: try required(rationale, "rationale"), riskBefore: riskBefore, riskAfter: riskAfter,
            costDollars: try required(costDollars, "costDollars"), market: market)
    }

    /// Every stored field as given (``validate(path:)`` checks them).
    init(schema: Int, ledger: LedgerBinding, created: String, notBefore: String, expires: String, proposer: String,
                 change: Change, rationale: [Signal], riskBefore: Risk?, riskAfter: Risk?, costDollars: Double,
                 market: MarketReference?) {
        self.schema = schema
        self.ledger = ledger
        self.created = created
        self.notBefore = notBefore
        self.expires = expires
        self.proposer = proposer
        self.change = change
        self.rationale = rationale
        self.riskBefore = riskBefore
        self.riskAfter = riskAfter
        self.costDollars = costDollars
        self.market = market
    }
}

/// The value of a required field, or a missing-field failure naming it.
func required<T>(_ value: T?, _ key: String) throws -> T {
    guard let value else { throw StrictJSONReader.missingField(key) }
    return value
}

extension LedgerBinding {
    static func read(_ r: inout StrictJSONReader) throws -> LedgerBinding {
        var ledgerID: String?, base: String?, sequence: UInt64?, policyHash: String?
        try r.readObject { r, key in
            switch key {
            case "ledgerID": ledgerID = try r.readString()
            case "base": base = try r.readString()
            case "sequence": sequence = try r.readUInt64()
            case "policyHash": policyHash = try r.readString()
            default: throw StrictJSONReader.unknownField(key)
            }
        }
        return LedgerBinding(ledgerID: try required(ledgerID, "ledgerID"), base: try required(base, "base"),
                             sequence: try required(sequence, "sequence"), policyHash: try required(policyHash, "policyHash"))
    }
}

extension ProposalDocument.Change {
    static func read(_ r: inout StrictJSONReader) throws -> Self {
        var kind: ChangeKind?, layer: ProposalDocument.LayerChangeBody?, policy: ProposalDocument.PolicyChange?
        try r.readObject { r, key in
            switch key {
            case "kind":
                let text = try r.readString()
                guard let value = ChangeKind(rawValue: text) else {
                    throw StrictJSONReader.invalid("unknown change kind '\(text)' (one of \(ChangeKind.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                kind = value
            case "layer": layer = try r.readOptional(ProposalDocument.LayerChangeBody.read)
            case "policy": policy = try r.readOptional(ProposalDocument.PolicyChange.read)
            default: throw StrictJSONReader.unknownField(key)
            }
        }
        return Self(kind: try required(kind, "kind"), layer: layer, policy: policy)
    }
}

extension ProposalDocument.PolicyChange {
    /// The fields as read (``bytes()`` checks the hash).
    init(version: Int, policyBase64: String, policyHash: String) {
        self.version = version
        self.policyBase64 = policyBase64
        self.policyHash = policyHash
    }

    static func read(_ r: inout StrictJSONReader) throws -> Self {
        var version: Int?, policyBase64: String?, policyHash: String?
        try r.readObject { r, key in
            switch key {
            case "version": version = try r.readInt()
            case "policyBase64": policyBase64 = try r.readString()
            case "policyHash": policyHash = try r.readString()
            default: throw StrictJSONReader.unknownField(key)
            }
        }
        return Self(version: try required(version, "version"), policyBase64: try required(policyBase64, "policyBase64"),
                    policyHash: try required(policyHash, "policyHash"))
    }
}

extension ProposalDocument.LayerChangeBody {
    static func read(_ r: inout StrictJSONReader) throws -> Self {
        var layer: String?, legs: [ProposalDocument.Leg]?
        try r.readObject { r, key in
            switch key {
            case "layer": layer = try r.readString()
            case "legs":
                var read: [ProposalDocument.Leg] = []
                try r.readArray { r, _ in read.append(try ProposalDocument.Leg.read(&r)) }
                legs = read
            default: throw StrictJSONReader.unknownField(key)
            }
        }
        return Self(layer: try required(layer, "layer"), legs: try required(legs, "legs"))
    }
}

extension ProposalDocument.Leg {
    static func read(_ r: inout StrictJSONReader) throws -> Self {
        var instrument: String?, right: String?, expiry: String?, strike: Double?, quantity: Int?, limitPrice: Double?
        try r.readObject { r, key in
            switch key {
            case "instrument": instrument = try r.readString()
            case "right": right = try r.readString()
            case "expiry": expiry = try r.readString()
            case "strike": strike = try r.readDouble()
            case "quantity": quantity = try r.readInt()
            case "limitPrice": limitPrice = try r.readDouble()
            default: throw StrictJSONReader.unknownField(key)
            }
        }
        return Self(instrument: try required(instrument, "instrument"), right: try required(right, "right"),
                    expiry: try required(expiry, "expiry"), strike: try required(strike, "strike"),
                    quantity: try required(quantity, "quantity"), limitPrice: try required(limitPrice, "limitPrice"))
    }
}

extension ProposalDocument.Signal {
    static func read(_ r: inout StrictJSONReader) throws -> Self {
        var name: String?, value: Double?, threshold: Double?, note: String?
        try r.readObject { r, key in
            switch key {
            case "name": name = try r.readString()
            case "value": value = try r.readDouble()
            case "threshold": threshold = try r.readOptional { try $0.readDouble() }
            case "note": note = try r.readOptional { try $0.readString() }
            default: throw StrictJSONReader.unknownField(key)
            }
        }
        return Self(name: try required(name, "name"), value: try required(value, "value"), threshold: threshold, note: note)
    }
}

extension ProposalDocument.Greeks {
    static func read(_ r: inout StrictJSONReader) throws -> Self {
        var delta: Double?, gamma: Double?, vega: Double?, theta: Double?, rho: Double?
        try r.readObject { r, key in
            switch key {
            case "delta": delta = try r.readDouble()
            case "gamma": gamma = try r.readDouble()
            case "vega": vega = try r.readDouble()
            case "theta": theta = try r.readDouble()
            case "rho": rho = try r.readDouble()
            default: throw StrictJSONReader.unknownField(key)
            }
        }
        return Self(delta: try required(delta, "delta"), gamma: try required(gamma, "gamma"), vega: try required(vega, "vega"),
                    theta: try required(theta, "theta"), rho: try required(rho, "rho"))
    }
}

extension ProposalDocument.Risk {
    static func read(_ r: inout StrictJSONReader) throws -> Self {
        var layers: [String: ProposalDocument.Greeks]?, total: ProposalDocument.Greeks?, stressPnL: [String: Double]?
        try r.readObject { r, key in
            switch key {
            case "layers": layers = try r.readDictionary(ProposalDocument.Greeks.read)
            case "total": total = try ProposalDocument.Greeks.read(&r)
            case "stressPnL": stressPnL = try r.readDictionary { try $0.readDouble() }
            default: throw StrictJSONReader.unknownField(key)
            }
        }
        return Self(layers: try required(layers, "layers"), total: try required(total, "total"), stressPnL: try required(stressPnL, "stressPnL"))
    }
}

extension ProposalDocument.MarketReference {
    static func read(_ r: inout StrictJSONReader) throws -> Self {
        var snapshotHash: String?, asOf: String?, spx: Double?, vix: Double?, vixFront: Double?
        try r.readObject { r, key in
            switch key {
            case "snapshotHash": snapshotHash = try r.readString()
            case "asOf": asOf = try r.readString()
            case "spx": spx = try r.readDouble()
            case "vix": vix = try r.readDouble()
            case "vixFront": vixFront = try r.readOptional { try $0.readDouble() }
            default: throw StrictJSONReader.unknownField(key)
            }
        }
        return Self(snapshotHash: try required(snapshotHash, "snapshotHash"), asOf: try required(asOf, "asOf"),
                    spx: try required(spx, "spx"), vix: try required(vix, "vix"), vixFront: vixFront)
    }
}
