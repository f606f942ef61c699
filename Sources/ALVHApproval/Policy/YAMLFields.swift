import Foundation
import Yams
import ALVHYAML

/// A YAML mapping read field by field, with errors naming `file: a.b[2].c`.
///
/// Refuses duplicate keys, non-string keys, aliases/anchors (no billion laughs) and,
/// through ``rejectUnknown(_:)``, misspelled fields.
struct YAMLFields {
    let path: String
    private let entries: [String: Node]
    private let order: [String]

    init(_ node: Node, path: String) throws {
        self.path = path
        guard case .mapping(let mapping) = node else {
            throw ApprovalError(.invalidPolicy, "must be a mapping (key: value lines)", path: path)
        }
        var entries: [String: Node] = [:]
        var order: [String] = []
        for (key, value) in mapping {
            guard case .scalar = key, let name = key.string else {
                throw ApprovalError(.invalidPolicy, "keys must be plain strings", path: path)
            }
            try YAMLFields.refuseAliases(value, path: "\(path).\(name)")
            guard entries[name] == nil else {
                throw ApprovalError(.invalidPolicy, "key '\(YAMLGuard.excerpt(name))' appears twice", path: path)
            }
            entries[name] = value
            order.append(name)
        }
        self.entries = entries
        self.order = order
    }

    /// Refuses, before anything is composed, a policy text over ``Policy/maxPolicyBytes``, not valid
    /// YAML, or using YAML anchors (`&a`) or aliases (`*a`) anywhere — checked on libyaml's own event
    /// stream by ``YAMLGuard`` (quotes, comments and block scalars cannot hide one), as limits files
    /// and strategies are. Yams shares aliased nodes, but hashing and comparing mapping keys walks
    /// them again and again: a few hundred bytes could otherwise run for minutes.
    static func refuseAnchorsAndAliases(in text: String, path: String) throws {
        do {
            try YAMLGuard.check(text, maxBytes: Policy.maxPolicyBytes, what: "policy")
        } catch let refusal as YAMLGuard.Refusal {
            throw ApprovalError(.invalidPolicy, refusal.reason, path: path)
        }
    }

    static func refuseAliases(_ node: Node, path: String) throws {
        if case .alias = node {
            throw ApprovalError(.invalidPolicy, "YAML aliases are not allowed; write the value out", path: path)
        }
        if node.anchor != nil {
            throw ApprovalError(.invalidPolicy, "YAML anchors are not allowed; write the value out", path: path)
        }
    }

    func field(_ key: String) -> String { "\(path).\(key)" }

    func has(_ key: String) -> Bool { entries[key] != nil }

    func node(_ key: String) -> Node? {
        guard let node = entries[key] else { return nil }
        if case .scalar = node, node.null != nil { return nil }
        return node
    }

    func rejectUnknown(_ allowed: Set<String>) throws {
        for key in order where !allowed.contains(key) {
            throw ApprovalError(.invalidPolicy,
                "unknown field '\(YAMLGuard.excerpt(key))'; allowed here: \(allowed.sorted().joined(separator: ", "))", path: path)
        }
    }

    func string(_ key: String) throws -> String? {
        guard let node = node(key) else { return nil }
        guard case .scalar(let scalar) = node else {
            throw ApprovalError(.invalidPolicy, "must be a string", path: field(key))
        }
        return scalar.string
    }

    func requiredString(_ key: String) throws -> String {
        guard let value = try string(key), !value.isEmpty else {
            throw ApprovalError(.invalidPolicy, "is required (a non-empty string)", path: field(key))
        }
        return value
    }

    func int(_ key: String) throws -> Int? {
        guard let node = node(key) else { return nil }
        guard case .scalar = node, let value = node.int else {
            throw ApprovalError(.invalidPolicy, "must be a whole number", path: field(key))
        }
        return value
    }

    func double(_ key: String) throws -> Double? {
        guard let node = node(key) else { return nil }
        guard case .scalar = node, let value = node.float ?? node.int.map(Double.init), value.isFinite else {
            throw ApprovalError(.invalidPolicy, "must be a number", path: field(key))
        }
        return value
    }

    func bool(_ key: String) throws -> Bool? {
        guard let node = node(key) else { return nil }
        guard case .scalar = node, let value = node.bool else {
            throw ApprovalError(.invalidPolicy, "must be true or false", path: field(key))
        }
        return value
    }

    func stringList(_ key: String) throws -> [String]? {
        guard let node = node(key) else { return nil }
        guard case .sequence(let sequence) = node else {
            throw ApprovalError(.invalidPolicy, "must be a list, e.g. [a, b]", path: field(key))
        }
        return try sequence.enumerated().map { index, item in
            guard case .scalar = item, let text = item.string, !text.isEmpty else {
                throw ApprovalError(.invalidPolicy, "must be a non-empty string", path: "\(field(key))[\(index)]")
            }
            return text
        }
    }

    func list(_ key: String) throws -> [Node]? {
        guard let node = node(key) else { return nil }
        guard case .sequence(let sequence) = node else {
            throw ApprovalError(.invalidPolicy, "must be a list", path: field(key))
        }
        return Array(sequence)
    }

    /// A duration like `90s`, `30m`, `24h`, `7d`, in seconds.
    func duration(_ key: String) throws -> Int? {
        guard let text = try string(key) else { return nil }
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        guard let unit = text.last, let scale = units[unit], let value = Int(text.dropLast()), value > 0,
              value <= Int.max / scale / 2 else {
            throw ApprovalError(.invalidPolicy, "must be a positive duration like 90m, 24h or 7d", path: field(key))
        }
        return value * scale
    }
}
