import Foundation

/// JSON decoding for hand-edited files (genesis.json, key files) that refuses unknown keys.
///
/// Codable ignores keys a type does not define, so a misspelt key in genesis.json would silently
/// fall back to a default and describe a different chain than the operator meant. After decoding,
/// the value is encoded again and every key path of the input must appear in that re-encoding.
public enum StrictJSON {
    public struct Error: Swift.Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public static func decode<T: Codable>(_: T.Type, from data: Data, what: String) throws -> T {
        let value: T
        do {
            value = try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw Error(description: "\(what): \(describe(error))")
        }
        let original = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        let reencoded = try JSONSerialization.jsonObject(with: JSONEncoder().encode(value), options: [.fragmentsAllowed])
        if let path = firstUnknownKey(original, known: reencoded, path: "") {
            throw Error(description: "\(what): unknown key '\(path)'; check its spelling against the documented format")
        }
        return value
    }

    private static func firstUnknownKey(_ value: Any, known: Any, path: String) -> String? {
        if let object = value as? [String: Any] {
            let knownObject = known as? [String: Any] ?? [:]
            for key in object.keys.sorted() {
                let childPath = path.isEmpty ? key : "\(path).\(key)"
                guard let knownChild = knownObject[key] else { return childPath }
                if let found = firstUnknownKey(object[key]!, known: knownChild, path: childPath) { return found }
            }
        } else if let array = value as? [Any], let knownArray = known as? [Any] {
            for (index, element) in array.enumerated() where index < knownArray.count {
                if let found = firstUnknownKey(element, known: knownArray[index], path: "\(path)[\(index)]") {
                    return found
                }
            }
        }
        return nil
    }

    /// Turns DecodingError into one line naming the JSON path and the problem.
    public static func describe(_ error: DecodingError) -> String {
        func pathText(_ path: [any CodingKey]) -> String {
            let text = path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.hasPrefix(".") ? String(text.dropFirst()) : (text.isEmpty ? "<top level>" : text)
        }
        switch error {
        case let .keyNotFound(key, context):
            let parent = pathText(context.codingPath)
            return "missing key '\(key.stringValue)' in \(parent)"
        case let .typeMismatch(type, context):
            return "\(pathText(context.codingPath)) has the wrong type (expected \(type)): \(context.debugDescription)"
        case let .valueNotFound(type, context):
            return "\(pathText(context.codingPath)) is null, expected \(type)"
        case let .dataCorrupted(context):
            if let underlying = context.underlyingError as NSError?,
               let detail = underlying.userInfo[NSDebugDescriptionErrorKey] as? String {
                return "not valid JSON: \(detail)"
            }
            return "\(pathText(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
