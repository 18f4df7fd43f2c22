import CairnCore
import CairnCrypto
import Foundation

/// Feeds arbitrary bytes to the genesis ceremony's decoders (join, deal and response files, in
/// their canonical and JSON forms) and every decoded deal or response to a fixed honest 4-validator
/// ceremony's `finish`. Crashes are bugs; so is a canonical value that does not re-encode to its
/// bytes, or an outcome in which a message from nobody's key disqualifies an honest dealer.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCeremony(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let selector = bytes.first else { return 0 }
    let payload = Array(bytes.dropFirst())
    switch selector % 6 {
    case 0:
        if let join = try? CeremonyJoin(canonicalBytes: payload) { check(join.canonicalBytes == payload, "join is not canonical") }
    case 1:
        if let deal = try? CeremonyDeal(canonicalBytes: payload) {
            check(deal.canonicalBytes == payload, "deal is not canonical")
            judge(deals: [deal], responses: [])
        }
    case 2:
        if let response = try? CeremonyResponse(canonicalBytes: payload) {
            check(response.canonicalBytes == payload, "response is not canonical")
            judge(deals: [], responses: [response])
        }
    case 3: _ = try? StrictJSON.decode(CeremonyJoin.self, from: Data(payload), what: "join")
    case 4: if let deal = try? StrictJSON.decode(CeremonyDeal.self, from: Data(payload), what: "deal") { judge(deals: [deal], responses: []) }
    default: if let response = try? StrictJSON.decode(CeremonyResponse.self, from: Data(payload), what: "response") { judge(deals: [], responses: [response]) }
    }
    return 0
}

/// One honest ceremony, made once per process (its randomness does not matter to the property).
private let honest: (dkg: DistributedKeyGeneration, deals: [CeremonyDeal], responses: [CeremonyResponse]) = {
    let keys = (0 ..< 4).map { _ in SigningKey.generate() }
    let secrets = (0 ..< 4).map { _ in CeremonySecret.generate() }
    let joins = (0 ..< 4).map { i -> CeremonyJoin in
        var join = CeremonyJoin(chainID: "fuzz", name: "v\(i)", publicKey: keys[i].publicKey, peerAddress: "h\(i):1",
                                apiAddress: "h\(i):2", ceremonyKey: secrets[i].publicKey)
        join.proveCeremonyKey(secrets[i])
        join.signature = keys[i].sign(join.signedBytes)
        return join
    }
    let dkg = try! DistributedKeyGeneration(session: SHA256.hash(Array("fuzz".utf8)), joins: joins)
    let deals = (0 ..< 4).map { try! dkg.deal(as: $0, secret: secrets[$0], signingKey: keys[$0]) }
    let responses = (0 ..< 4).map { try! dkg.respond(as: $0, deals: deals, secret: secrets[$0], signingKey: keys[$0]).response }
    return (dkg, deals, responses)
}()

private func judge(deals extra: [CeremonyDeal], responses extraResponses: [CeremonyResponse]) {
    // Fuzzed files carry no honest key's signature (unless they replay one byte for byte), so the
    // outcome must stay the honest one, or finish must refuse with an error.
    guard let outcome = try? honest.dkg.finish(deals: honest.deals + extra, responses: honest.responses + extraResponses) else { return }
    check(outcome.qualified == [0, 1, 2, 3], "a fuzzed file disqualified an honest dealer: \(outcome.faults)")
}

private func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
