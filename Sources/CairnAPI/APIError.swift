/// A stable, machine-readable error code (the `error` field of every error reply; ARCHITECTURE §9).
/// Clients branch on these, never on `detail`, which is for people and may change. A code this
/// build does not know still decodes (a newer node may add codes).
public struct APIErrorCode: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(from decoder: any Decoder) throws { rawValue = try decoder.singleValueContainer().decode(String.self) }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
    public var description: String { rawValue }

    // Requests
    public static let badRequest = Self(rawValue: "bad_request")
    public static let tooLarge = Self(rawValue: "too_large")
    public static let invalidRecord = Self(rawValue: "invalid_record")
    public static let invalidBlob = Self(rawValue: "invalid_blob")
    public static let unauthorized = Self(rawValue: "unauthorized")
    public static let notRegistered = Self(rawValue: "not_registered")
    // Load and resources
    public static let rateLimited = Self(rawValue: "rate_limited")
    public static let overloaded = Self(rawValue: "overloaded")
    public static let busy = Self(rawValue: "busy")
    public static let quotaExceeded = Self(rawValue: "quota_exceeded")
    public static let insufficientStorage = Self(rawValue: "insufficient_storage")
    public static let storageFailure = Self(rawValue: "storage_failure")
    // Lookups
    public static let unknownAccount = Self(rawValue: "unknown_account")
    public static let unknownBlob = Self(rawValue: "unknown_blob")
    public static let unknownRecord = Self(rawValue: "unknown_record")
    public static let noModel = Self(rawValue: "no_model")
    public static let notOpen = Self(rawValue: "not_open")
    public static let notClosed = Self(rawValue: "not_closed")
    public static let notDelivered = Self(rawValue: "not_delivered")
    public static let notCertified = Self(rawValue: "not_certified")
    public static let notKept = Self(rawValue: "not_kept")
    public static let pruned = Self(rawValue: "pruned")
    // Node health
    public static let unhealthy = Self(rawValue: "unhealthy")
    public static let diverged = Self(rawValue: "diverged")
    public static let damaged = Self(rawValue: "damaged")
}

/// Every error reply: `{"error": code, "detail": text}`.
public struct APIError: Error, Codable, Sendable, CustomStringConvertible {
    public var code: APIErrorCode
    public var detail: String
    /// The HTTP status it came with (not on the wire; set by the client).
    public var status: Int = 0

    public init(code: APIErrorCode, detail: String, status: Int = 0) {
        self.code = code
        self.detail = detail
        self.status = status
    }

    enum CodingKeys: String, CodingKey { case code = "error", detail }

    public var description: String { "\(code): \(detail)" }
}
