/// `POST /v1/records`: one hex-encoded signed record, or up to 1000 of them.
public struct RecordSubmissionRequest: Codable, Sendable {
    public var record: String?
    public var records: [String]?

    public init(record: String? = nil, records: [String]? = nil) {
        self.record = record
        self.records = records
    }
}

/// `POST /v1/records/status`: up to 10,000 hex record ids.
public struct RecordStatusQuery: Codable, Sendable {
    public var ids: [String]

    public init(ids: [String]) { self.ids = ids }
}
