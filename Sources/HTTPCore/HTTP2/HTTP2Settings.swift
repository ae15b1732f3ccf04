/// One parameter of a SETTINGS frame (RFC 9113 §6.5.1): a 16-bit identifier and a 32-bit value.
public struct HTTP2Setting: Sendable, Hashable, CustomStringConvertible {
    public var identifier: HTTP2SettingID
    public var value: UInt32

    public init(_ identifier: HTTP2SettingID, _ value: UInt32) {
        self.identifier = identifier
        self.value = value
    }

    public var description: String { "\(identifier)=\(value)" }

    /// The rules of §6.5.2 for a value received from the peer. Unknown identifiers are fine: they are ignored.
    func validate() throws(HTTP2Error) {
        switch identifier {
        case .enablePush where value > 1:
            throw .connection(.protocolError, "SETTINGS_ENABLE_PUSH = \(value), neither 0 nor 1")
        case .initialWindowSize where value > HTTP2Setting.maxWindowSize:
            throw .connection(.flowControlError, "SETTINGS_INITIAL_WINDOW_SIZE = \(value), over 2^31-1")
        case .maxFrameSize where !HTTP2Setting.frameSizeRange.contains(value):
            throw .connection(.protocolError, "SETTINGS_MAX_FRAME_SIZE = \(value), outside 16384...16777215")
        default:
            return
        }
    }

    /// A flow-control window never exceeds 2^31-1 (§6.9.1).
    public static let maxWindowSize: UInt32 = (1 << 31) - 1
    /// What SETTINGS_MAX_FRAME_SIZE may be: from the initial 2^14 to 2^24-1 (§6.5.2).
    public static let frameSizeRange: ClosedRange<UInt32> = 16_384...16_777_215
}

/// The setting identifiers of §6.5.2 (the "initial" column is the value before any SETTINGS frame).
public struct HTTP2SettingID: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// The largest dynamic table the sender's HPACK decoder allows (initial 4096).
    public static let headerTableSize = HTTP2SettingID(rawValue: 0x1)
    /// 0 or 1: whether the sender accepts PUSH_PROMISE (initial 1; a server never sends it as 1).
    public static let enablePush = HTTP2SettingID(rawValue: 0x2)
    /// The most streams the sender lets the peer open at once (initially unlimited).
    public static let maxConcurrentStreams = HTTP2SettingID(rawValue: 0x3)
    /// The initial flow-control window of every stream (initial 65535).
    public static let initialWindowSize = HTTP2SettingID(rawValue: 0x4)
    /// The largest frame payload the sender accepts (initial 16384).
    public static let maxFrameSize = HTTP2SettingID(rawValue: 0x5)
    /// Advisory: the largest header list the sender accepts, counted as HPACK counts (initially unlimited).
    public static let maxHeaderListSize = HTTP2SettingID(rawValue: 0x6)

    public var description: String {
        switch rawValue {
        case 0x1: return "SETTINGS_HEADER_TABLE_SIZE"
        case 0x2: return "SETTINGS_ENABLE_PUSH"
        case 0x3: return "SETTINGS_MAX_CONCURRENT_STREAMS"
        case 0x4: return "SETTINGS_INITIAL_WINDOW_SIZE"
        case 0x5: return "SETTINGS_MAX_FRAME_SIZE"
        case 0x6: return "SETTINGS_MAX_HEADER_LIST_SIZE"
        default: return "unknown setting 0x\(String(rawValue, radix: 16))"
        }
    }
}
