/// DSSE v1 Pre-Authentication Encoding: the bytes a signature covers.
///
/// `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, where LEN is the
/// decimal byte count. Binding the type into the signed bytes stops a signature over one kind
/// of document from being replayed as another.
///
/// ```swift
/// let bytes = PAE.encode(payloadType: "http://example.com/HelloWorld", payload: Array("hello world".utf8))
/// // "DSSEv1 29 http://example.com/HelloWorld 11 hello world"
/// ```
public enum PAE {
    public static func encode(payloadType: String, payload: [UInt8]) -> [UInt8] {
        let type = Array(payloadType.utf8)
        var out = [UInt8]()
        out.reserveCapacity(payload.count + type.count + 32)
        out += Array("DSSEv1 \(type.count) ".utf8)
        out += type
        out += Array(" \(payload.count) ".utf8)
        out += payload
        return out
    }
}
