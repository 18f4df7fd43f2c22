import Dispatch
import CairnAPI
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore

/// A token bucket: `rate` tokens per second up to `burst`; each request takes one.
struct TokenBucket: Sendable, Equatable {
    let rate: Double
    let burst: Double
    var tokens: Double
    var lastNanos: UInt64

    init(rate: Double, burst: Double, nowNanos: UInt64) {
        self.rate = rate
        self.burst = burst
        tokens = burst
        lastNanos = nowNanos
    }

    /// Takes a token; when none is left, returns the seconds until one will be.
    mutating func take(nowNanos: UInt64) -> Double? {
        if nowNanos > lastNanos {
            tokens = min(burst, tokens + Double(nowNanos - lastNanos) / 1e9 * rate)
            lastNanos = nowNanos
        }
        guard tokens >= 1 else { return (1 - tokens) / rate }
        tokens -= 1
        return nil
    }
}

/// Per-client request limits for the API (ARCHITECTURE §9 "rates are bounded"), keyed by the client's IP
/// address. Tracks at most `maxClients` buckets; when full, buckets that have refilled completely
/// (clients that went quiet) are forgotten first, so a flood of new addresses cannot grow memory.
final class RateLimiter: Sendable {
    let rate: Double
    let burst: Double
    let maxClients: Int
    private let buckets = NIOLockedValueBox<[String: TokenBucket]>([:])

    init(requestsPerSecond: Double, burst: Double, maxClients: Int = 10_000) {
        rate = requestsPerSecond
        self.burst = burst
        self.maxClients = maxClients
    }

    /// nil when the request may go ahead, otherwise seconds to wait.
    func admit(client: String, nowNanos: UInt64) -> Double? {
        buckets.withLockedValue { buckets in
            if buckets[client] == nil, buckets.count >= maxClients {
                buckets = buckets.filter { _, bucket in
                    var probe = bucket
                    _ = probe.take(nowNanos: nowNanos)
                    return probe.tokens + 1 < burst
                }
                // Everyone is still active: refuse the newcomer rather than evict a busy client.
                if buckets.count >= maxClients { return 1 / rate }
            }
            var bucket = buckets[client] ?? TokenBucket(rate: rate, burst: burst, nowNanos: nowNanos)
            let wait = bucket.take(nowNanos: nowNanos)
            buckets[client] = bucket
            return wait
        }
    }

    var trackedClients: Int { buckets.withLockedValue { $0.count } }
}

/// The API's request context: Hummingbird's basic one plus the client's address.
public struct APIRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}

/// Answers 429 with Retry-After when a client exceeds its rate.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let limiter: RateLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let client = context.remoteAddress?.ipAddress ?? "unknown"
        if let wait = limiter.admit(client: client, nowNanos: DispatchTime.now().uptimeNanoseconds) {
            var response = NodeAPI.error(.tooManyRequests, .rateLimited,
                                         "more than \(Int(limiter.rate)) requests per second (burst \(Int(limiter.burst))) from \(client); retry later")
            response.headers[.retryAfter] = "\(max(1, Int(wait.rounded(.up))))"
            return response
        }
        return try await next(request, context)
    }
}
