import Logging

/// A log handler that escapes the message and metadata (``TerminalText/escaped(_:)``) before
/// `inner` writes them: signer and coordinator logs quote proposal text, rejection reasons and
/// signer ids, which are untrusted.
struct EscapingLogHandler: LogHandler {
    var inner: StreamLogHandler

    init(_ inner: StreamLogHandler) { self.inner = inner }

    func log(event: LogEvent) {
        var event = event
        event.message = "\(TerminalText.escaped(event.message.description))"
        event.metadata = event.metadata.map(Self.escaped)
        inner.log(event: event)
    }

    static func escaped(_ metadata: Logger.Metadata) -> Logger.Metadata {
        Dictionary(uniqueKeysWithValues: metadata.map { (TerminalText.escaped($0.key), escaped($0.value)) })
    }

    static func escaped(_ value: Logger.MetadataValue) -> Logger.MetadataValue {
        switch value {
        case .string(let text): return .string(TerminalText.escaped(text))
        case .stringConvertible(let item): return .string(TerminalText.escaped(item.description))
        case .array(let items): return .array(items.map(escaped))
        case .dictionary(let items): return .dictionary(escaped(items))
        @unknown default: return .string(TerminalText.escaped("\(value)"))
        }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { inner[metadataKey: key] }
        set { inner[metadataKey: key] = newValue.map(Self.escaped) }
    }

    var metadata: Logger.Metadata {
        get { inner.metadata }
        set { inner.metadata = Self.escaped(newValue) }
    }

    var metadataProvider: Logger.MetadataProvider? {
        get { inner.metadataProvider }
        set { inner.metadataProvider = newValue }
    }

    var logLevel: Logger.Level {
        get { inner.logLevel }
        set { inner.logLevel = newValue }
    }
}
