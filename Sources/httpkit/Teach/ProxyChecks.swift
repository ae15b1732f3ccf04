import HTTPCore
import Stages

extension CheckCatalog {
    /// The proxy stage's checks (they need upstreams of their own, which `httpkit check` does not start yet).
    static let proxy: [Check] = []
}
