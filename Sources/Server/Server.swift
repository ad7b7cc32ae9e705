import Dispatch
import Foundation
import Hummingbird
import Logging
import Figures
import Optim
import Plot
import Support
import SurfaceLab
import Surfaces

/// `optlab serve`: the playground and the run dashboard. JSON endpoints over the Lab, the page
/// (HTML, CSS, JavaScript from the package's resources, nothing fetched from elsewhere) and
/// nothing that writes: every file it touches under `--runs` is only read.
public struct Server: Sendable {
    public let host: String
    public let port: Int
    let playground = Playground()
    let runFolder: RunFolder
    let page: [String: (type: String, bytes: [UInt8])]

    public init(host: String = "127.0.0.1", port: Int = 8080, runs: URL, data: String? = nil) throws {
        self.host = host
        self.port = port
        runFolder = RunFolder(folder: runs, data: data)
        page = try Self.loadPage()
    }

    /// Serves until Ctrl-C (or SIGTERM), then finishes the requests under way and returns.
    /// `started` is told the address, once the socket listens.
    public func run(started: @escaping @Sendable (String) -> Void) async throws {
        var logger = Logger(label: "optlab-serve")
        logger.logLevel = .warning
        let host = host
        let app = Application(
            router: router(), configuration: .init(address: .hostname(host, port: port), serverName: "optlab"),
            onServerRunning: { channel in started("http://\(host):\(channel.localAddress?.port ?? 0)/") }, logger: logger)
        try await app.runService()
    }

    /// Every route; tests drive it without a socket.
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        for (path, file) in page {
            router.get(RouterPath(path)) { _, _ in
                Self.response(Reply(contentType: file.type, body: file.bytes))
            }
        }
        let playground = playground, runFolder = runFolder
        route(router, "/api/surfaces") { _ in try playground.surfaces() }
        route(router, "/api/surface") { try playground.surface($0) }
        route(router, "/api/contours.png") { try playground.contours($0) }
        route(router, "/api/trajectories") { try playground.trajectories($0) }
        route(router, "/api/trajectories.csv") { try playground.csv($0) }
        for format in ImageFormat.allCases {
            route(router, "/api/trajectories.\(format.rawValue)") { try playground.figure($0, format: format) }
        }
        for format in AnimationFormat.allCases {
            route(router, "/api/trajectories.\(format.rawValue)") { try playground.animation($0, format: format) }
        }
        route(router, "/api/optimizers") { _ in try playground.optimizers() }
        route(router, "/api/runs") { _ in try runFolder.runs() }
        route(router, "/api/evaluation") { try runFolder.evaluation($0) }
        return router
    }

    /// A GET route whose work runs off the server's own threads; a bad request is a 400 with the
    /// one-line message, any other failure a 500 with its message.
    private func route(_ router: Router<BasicRequestContext>, _ path: String, _ handler: @escaping @Sendable (Query) throws -> Reply) {
        router.get(RouterPath(path)) { request, _ in
            var values: [String: String] = [:]
            for (key, value) in request.uri.queryParameters { values[String(key)] = String(value) }
            let query = Query(values)
            return Self.response(await Self.offload {
                do {
                    return try handler(query)
                } catch {
                    return Self.inputMessage(error).map { .failure($0, status: 400) } ?? .failure("\(error)", status: 500)
                }
            })
        }
    }

    /// The message of an error in what the request said (a spec, a formula, a start outside the
    /// domain, a figure setting); nil for the server's own failures.
    static func inputMessage(_ error: Error) -> String? {
        switch error {
        case let e as RequestError: e.message
        case let e as OptimError: e.description
        case let e as SurfaceError: e.message
        case let e as SettingError: e.description
        case let e as SurfaceLabError: e.description
        case let e as FigureError: e.description
        case let e as PlotError: e.description
        default: nil
        }
    }

    /// Computation runs on Dispatch's threads, so a long request never holds the event loops.
    static func offload(_ work: @escaping @Sendable () -> Reply) async -> Reply {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: work()) }
        }
    }

    static func response(_ reply: Reply) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = reply.contentType
        headers[.cacheControl] = "no-store"
        if let name = reply.fileName { headers[.contentDisposition] = "attachment; filename=\"\(name)\"" }
        return Response(status: .init(code: reply.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: reply.body)))
    }

    /// The page's files, read once from the package's resources.
    static func loadPage() throws -> [String: (type: String, bytes: [UInt8])] {
        guard let folder = Bundle.module.url(forResource: "Public", withExtension: nil) else {
            throw RequestError("the page's files are missing from the build (Public resources)")
        }
        let types = ["html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"]
        var page: [String: (type: String, bytes: [UInt8])] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            guard let type = types[(name as NSString).pathExtension] else { continue }
            let bytes = Array(try Foundation.Data(contentsOf: folder.appendingPathComponent(name)))
            page["/" + name] = (type, bytes)
            if name == "index.html" { page["/"] = (type, bytes) }
        }
        return page
    }
}
