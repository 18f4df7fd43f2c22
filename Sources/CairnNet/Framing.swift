import NIOCore

/// A frame longer than the limit: the connection is closed before the body is read, so a peer
/// cannot make this node buffer an arbitrary amount of memory.
public struct FrameTooLarge: Error, Hashable, Sendable, CustomStringConvertible {
    public var length: UInt32
    public var limit: UInt32
    public var description: String { "frame of \(length) bytes exceeds the \(limit)-byte limit" }
}

/// `[u32 big-endian length][payload]` frames (ARCHITECTURE §9). The first `handshakeFrames`
/// frames — the peer's handshake messages, a few hundred bytes each — may be at most
/// `handshakeFrameBytes`: before a peer has authenticated, it can make this node buffer no more
/// than that per connection (D39). Counting frames rather than waiting for the handshake code to
/// raise the limit means a session frame that arrives in the same read as the last handshake
/// message is judged by the session limit, with no race.
struct FrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    static let handshakeFrameBytes: UInt32 = 4096
    let maxFrameBytes: UInt32
    let handshakeFrames: Int
    var decoded = 0

    init(maxFrameBytes: UInt32, handshakeFrames: Int) {
        self.maxFrameBytes = maxFrameBytes
        self.handshakeFrames = handshakeFrames
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        let limit = decoded < handshakeFrames ? min(maxFrameBytes, Self.handshakeFrameBytes) : maxFrameBytes
        guard length <= limit else { throw FrameTooLarge(length: length, limit: limit) }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        if decoded < handshakeFrames { decoded += 1 }
        context.fireChannelRead(Self.wrapInboundOut(buffer.readSlice(length: Int(length))!))
        return .continue
    }
}

struct FrameEncoder: MessageToByteEncoder {
    typealias OutboundIn = ByteBuffer

    func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        // The mesh refuses payloads over the frame limit before they get here; this guard keeps
        // a 4 GiB buffer from trapping in the conversion all the same.
        guard let length = UInt32(exactly: data.readableBytes) else {
            throw FrameTooLarge(length: .max, limit: .max)
        }
        out.writeInteger(length)
        out.writeImmutableBuffer(data)
    }
}

typealias FramedChannel = NIOAsyncChannel<ByteBuffer, ByteBuffer>

extension FramedChannel {
    /// Adds the framing handlers and wraps the channel; call from the bootstrap's initializer.
    /// `handshakeFrames`: how many frames the peer sends during the handshake (server 2, client 1).
    static func framed(_ channel: any Channel, maxFrameBytes: UInt32, handshakeFrames: Int) -> EventLoopFuture<FramedChannel> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameBytes: maxFrameBytes, handshakeFrames: handshakeFrames)))
            try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder()))
            return try FramedChannel(wrappingChannelSynchronously: channel)
        }
    }
}
