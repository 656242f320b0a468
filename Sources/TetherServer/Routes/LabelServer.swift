import Foundation
import Hummingbird
import Logging

/// The labelling web app: pages and JSON API over one `LabelStore`.
public struct LabelServer: Sendable {
    /// The database.
    public let store: LabelStore
    /// Session lifetime in seconds.
    public var sessionLifetime: Double

    /// A server over `store`.
    public init(store: LabelStore, sessionLifetime: Double = 8 * 3600) {
        self.store = store
        self.sessionLifetime = sessionLifetime
    }

    /// The router with every route, the session middleware and the error answers (JSON for the API, HTML for pages).
    public func router() throws -> Router<LabelContext> {
        let router = Router(context: LabelContext.self)
        let renderer = try Renderer()
        router.add(middleware: SessionMiddleware(store: store))
        router.add(middleware: ErrorMiddleware(renderer: renderer))
        PageRoutes(store: store, renderer: renderer, sessionLifetime: sessionLifetime).register(on: router)
        APIRoutes(store: store, sessionLifetime: sessionLifetime).register(on: router)
        return router
    }

    /// The application listening on `host`:`port` (port 0 picks a free one; `onServerRunning` gets the real one).
    public func application(host: String, port: Int, logLevel: Logger.Level = .notice,
                            onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        var logger = Logger(label: "tether-label")
        logger.logLevel = logLevel
        return Application(router: try router(), configuration: .init(address: .hostname(host, port: port), serverName: "tether-label"),
                           onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
                           logger: logger)
    }
}
