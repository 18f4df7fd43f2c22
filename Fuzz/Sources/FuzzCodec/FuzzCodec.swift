import CairnCore

/// Feeds arbitrary bytes to every canonical decoder (genesis, coin shares, consensus messages). Crashes (traps, sanitizer reports) are bugs;
/// so is a value that decodes but does not re-encode to the same bytes (the bijection property).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCodec(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let selector = bytes.first else { return 0 }
    let payload = Array(bytes.dropFirst())
    switch selector % 4 {
    case 0:
        if let value = try? Genesis(canonicalBytes: payload) { check(value.canonicalBytes == payload) }
    case 1:
        if let value = try? CoinShare(canonicalBytes: payload) { check(value.canonicalBytes == payload) }
    case 3:
        // Everything a peer can send.
        if let value = try? ConsensusMessage(canonicalBytes: payload) { check(value.canonicalBytes == payload) }
    default:
        // do/catch, not `try?`: `try?` would flatten the decoded `String?` and lose its tag.
        var reader = CanonicalReader(payload)
        do {
            let numbers = try reader.read([UInt64].self)
            let text: String? = try reader.read(String?.self)
            try reader.finish()
            var writer = CanonicalWriter()
            writer.write(numbers)
            writer.write(text)
            check(writer.bytes == payload)
        } catch {}
    }
    return 0
}

private func check(_ condition: Bool) {
    if !condition { fatalError("canonical encoding is not a bijection for this input") }
}
