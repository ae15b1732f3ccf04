/// Why a request was refused: the status to answer with and a short reason for a person, which the
/// error response carries in its body ("400 Bad Request: header name contains whitespace before the colon").
public struct RequestError: Error, Sendable, Hashable, CustomStringConvertible {
    public var status: HTTPStatus
    public var reason: String

    public init(_ status: HTTPStatus, _ reason: String) {
        self.status = status
        self.reason = reason
    }

    public var description: String { "\(status.code) \(status.reason): \(reason)" }

    static func badRequest(_ reason: String) -> RequestError { RequestError(.badRequest, reason) }
}
