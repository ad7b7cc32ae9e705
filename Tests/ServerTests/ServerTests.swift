import Foundation
import Support
import XCTest

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `optlab serve` as a user starts it (the built binary, any free port on 127.0.0.1), asked over
/// HTTP as the page asks it.
final class ServerTests: XCTestCase {
    var runs: URL!
    var server: Process!
    var address = ""

    override func setUpWithError() throws {
        runs = FileManager.default.temporaryDirectory.appendingPathComponent("optlab-serve-\(UUID())")
        try FileManager.default.createDirectory(at: runs, withIntermediateDirectories: true)
        server = Process()
        server.executableURL = Self.binaries.appendingPathComponent("optlab")
        server.arguments = ["serve", "--port", "0", "--runs", runs.path]
        let out = Pipe()
        server.standardOutput = out
        try server.run()
        // The first line says where it listens.
        var line = Foundation.Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        address = try XCTUnwrap(text.range(of: #"http://127\.0\.0\.1:\d+"#, options: .regularExpression).map { String(text[$0]) }, text)
    }

    override func tearDownWithError() throws {
        // Ctrl-C stops it cleanly.
        server.interrupt()
        server.waitUntilExit()
        XCTAssertEqual(server.terminationStatus, 0)
        try? FileManager.default.removeItem(at: runs)
    }

    struct Answer {
        let status: Int
        let headers: [String: String]
        let body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        func json() throws -> [String: Any] { try XCTUnwrap(JSONSerialization.jsonObject(with: Foundation.Data(body)) as? [String: Any]) }
    }

    /// GETs `path` with the query, percent-encoded as a browser's URLSearchParams would.
    func get(_ path: String, _ query: [String: String] = [:]) async throws -> Answer {
        var components = URLComponents(string: address + path)!
        if !query.isEmpty { components.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) } }
        // URLComponents leaves '+' alone; a browser encodes it, and formulas are full of them.
        let url = URL(string: components.string!.replacingOccurrences(of: "+", with: "%2B"))!
        let (data, response) = try await URLSession.shared.data(from: url)
        let http = try XCTUnwrap(response as? HTTPURLResponse)
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields { headers["\(key)".lowercased()] = "\(value)" }
        return Answer(status: http.statusCode, headers: headers, body: Array(data))
    }

    /// The page's promise: a path it shows is the CLI's. The `command` the page offers, run in a
    /// shell, writes a CSV equal to the server's, and every point of the JSON is in it exactly.
    func testPathsEqualTheCSVOfTheCommandThePageOffers() async throws {
        let query = ["fn": "localmin", "start": "-1.2,0.8", "steps": "60",
                     "optimizers": "adam(lr=0.1,label=my adam),momentum(lr=0.01,schedule=step(step_size=10,gamma=0.5)),sgd(lr=100)"]
        let json = try await assertPageIsTheCLI(query, "exact")
        let paths = try XCTUnwrap(json["paths"] as? [[String: Any]])
        XCTAssertEqual(paths.map { $0["label"] as? String }, ["my adam", "momentum(lr=0.01,schedule=step(step_size=10,gamma=0.5))", "sgd(lr=100)"])
        XCTAssertEqual(paths.map { $0["color"] as? String }, ["#d55e00", "#e69f00", "#0072b2"])
        XCTAssertNotNil(paths[2]["divergedAt"] as? Int, "sgd(lr=100) diverges on localmin")
    }

    /// Under noise the page gets each optimizer's seeds (its fan) and their median: the seeds are
    /// the CLI's noisy paths exactly, and the command the page offers carries --noise and --seeds.
    func testNoisyPathsEqualTheCLIs() async throws {
        let query = ["fn": "bowl", "steps": "40", "noise": "2", "seeds": "4", "optimizers": "momentum(lr=0.02),adam(lr=0.1)"]
        let json = try await assertPageIsTheCLI(query, "noisy")
        XCTAssertTrue((json["command"] as? String)?.contains("--noise 2.0 --seeds 4") == true)
        let paths = try XCTUnwrap(json["paths"] as? [[String: Any]])
        XCTAssertEqual(paths.map { ($0["fan"] as? [Any])?.count }, [4, 4])
        let capped = try await get("/api/trajectories", ["noise": "1", "seeds": "51"])
        XCTAssertEqual(try capped.json()["error"] as? String, "seeds must be a whole number in 1...50, got '51'")
        let tooMany = try await get("/api/trajectories", ["noise": "1", "seeds": "50", "steps": "10000", "optimizers": "sgd,adam"])
        XCTAssertEqual(tooMany.status, 400)
        XCTAssertTrue((try tooMany.json()["error"] as? String)?.hasPrefix("100 paths × 10001 points = 1000100 points") == true)
    }

    /// Runs the command the page offers for `query`, compares its CSV with the server's and every
    /// point the page gets (each seed's, under noise) with the CSV's rows; returns the JSON.
    func assertPageIsTheCLI(_ query: [String: String], _ name: String) async throws -> [String: Any] {
        let reply = try await get("/api/trajectories", query)
        XCTAssertEqual(reply.status, 200, reply.text)
        let json = try reply.json()
        let command = try XCTUnwrap(json["command"] as? String)
        let folder = runs.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let shell = try run("/bin/sh", ["-c", command], in: folder)
        XCTAssertEqual(shell.status, 0, command + shell.errors)
        let cliCSV = try String(contentsOf: folder.appendingPathComponent("trajectories.csv"), encoding: .utf8)
        let served = try await get("/api/trajectories.csv", query)
        XCTAssertEqual(served.text, cliCSV)

        // Every number the page gets is the CLI's, exactly (JSONDecoder reads doubles exactly;
        // JSONSerialization on Linux does not).
        struct Path: Decodable { let label: String, points: [[Double]], losses: [Double], fan: [[[Double]]] }
        struct Paths: Decodable { let paths: [Path] }
        var shown: [String] = []
        for path in try JSONDecoder().decode(Paths.self, from: Foundation.Data(reply.body)).paths {
            if path.fan.isEmpty {
                for (k, p) in path.points.enumerated() { shown.append("\(path.label)|\(k)|\(p[0])|\(p[1])|\(path.losses[k])") }
            }
            for (seed, points) in path.fan.enumerated() {
                for (k, p) in points.enumerated() { shown.append("\(path.label)|\(seed)|\(k)|\(p[0])|\(p[1])") }
            }
        }
        // The page shows the CSV's first five columns: optimizer, step, x, y and loss, or with noise
        // optimizer, seed, step, x and y.
        let written = CSVTable.parse(cliCSV).dropFirst().map { $0.prefix(5).joined(separator: "|") }
        XCTAssertEqual(shown.count, written.count)
        XCTAssertEqual(zip(shown, written).first { $0 != $1 }.map { "page \($0) ≠ CLI \($1)" }, nil)
        return json
    }

    /// `show=` gives each single path the marks the CLI draws, and the command carries --show.
    func testStateMarksComeWithThePaths() async throws {
        let query = ["fn": "bowl", "steps": "50", "optimizers": "sgd(lr=0.02),momentum(lr=0.02),adam(lr=0.1)", "show": "step,velocity,scale"]
        let json = try await get("/api/trajectories", query).json()
        XCTAssertTrue((json["command"] as? String)?.contains("--show step,velocity,scale") == true)
        let paths = try XCTUnwrap(json["paths"] as? [[String: Any]])
        let views = paths.map { (($0["state"] as? [[String: Any]]) ?? []).compactMap { $0["view"] as? String } }
        // Plain sgd keeps no buffers; momentum its momentum_buffer; Adam both moments.
        XCTAssertEqual(views, [["step"], ["step", "velocity"], ["step", "velocity", "scale"]])
        let step = try XCTUnwrap((paths[0]["state"] as? [[String: Any]])?.first)
        let points = try XCTUnwrap(paths[0]["points"] as? [[Double]])
        let steps = try XCTUnwrap(step["steps"] as? [Int])
        XCTAssertEqual(steps, Array(stride(from: 5, through: 50, by: 5)))
        XCTAssertEqual((step["to"] as? [[Double]])?.count, steps.count)
        let bad = try await get("/api/trajectories", ["show": "speed"])
        XCTAssertEqual(try bad.json()["error"] as? String, "show takes step, velocity or scale, got 'speed'")
        XCTAssertEqual(points.count, 51)
    }

    /// The GIF and MP4 are the files the CLI writes for the view; too large a film, or a fan of
    /// seeds, is refused up front.
    func testAnimationDownloads() async throws {
        let query = ["fn": "bowl", "steps": "30", "optimizers": "momentum(lr=0.02),adam(lr=0.1)", "show": "step"]
        let gif = try await get("/api/trajectories.gif", query)
        XCTAssertEqual(gif.status, 200, gif.text)
        XCTAssertEqual(gif.headers["content-disposition"], "attachment; filename=\"trajectories-bowl.gif\"")
        let folder = runs.appendingPathComponent("animation")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let cli = try optlab(["trajectories", "--fn", "bowl", "--steps", "30", "--optimizers", "momentum(lr=0.02),adam(lr=0.1)",
                                 "--show", "step", "--layout", "overlay", "--out", "race.gif"], in: folder)
        XCTAssertEqual(cli.status, 0, cli.errors)
        XCTAssertEqual(gif.body, Array(try Foundation.Data(contentsOf: folder.appendingPathComponent("race.gif"))), "the CLI's GIF")
        let mp4 = try await get("/api/trajectories.mp4", query.merging(["frames": "10"]) { $1 })
        XCTAssertEqual(mp4.headers["content-type"], "video/mp4")
        XCTAssertEqual(Array(mp4.body[4..<8]), Array("ftyp".utf8))
        let huge = try await get("/api/trajectories.gif", ["steps": "2000", "frames": "2000", "dpi": "150"])
        XCTAssertEqual(huge.status, 400)
        XCTAssertTrue((try huge.json()["error"] as? String)?.contains("megapixels); at most 200 in one request") == true)
        let fan = try await get("/api/trajectories.gif", ["noise": "1", "seeds": "3"])
        XCTAssertEqual(try fan.json()["error"] as? String, "seeds must be 1 in an animation (it moves one path per optimizer)")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: runs.path).sorted(), ["animation"], "nothing written under --runs")
    }

    /// Every optimizer and schedule optlab has is offered with its keywords, and each example
    /// the page adds is a spec the server runs.
    func testEveryOptimizerAndScheduleIsOffered() async throws {
        let catalog = try await get("/api/optimizers").json()
        let optimizers = try XCTUnwrap(catalog["optimizers"] as? [[String: Any]])
        let schedules = try XCTUnwrap(catalog["schedules"] as? [[String: Any]])
        XCTAssertEqual(optimizers.count, 22)
        XCTAssertEqual(schedules.count, 13)
        let adam = try XCTUnwrap(optimizers.first { $0["name"] as? String == "adam" }?["keywords"] as? [[String: Any]])
        XCTAssertEqual(adam.first?["key"] as? String, "lr")
        XCTAssertEqual(adam.first?["value"] as? String, "0.001")
        let examples = optimizers.compactMap { $0["example"] as? String }
            + schedules.compactMap { $0["example"] as? String }.map { "sgd(lr=0.01,schedule=\($0))" }
        for chunk in stride(from: 0, to: examples.count, by: 12).map({ examples[$0..<min(examples.count, $0 + 12)] }) {
            let reply = try await get("/api/trajectories", ["steps": "20", "optimizers": chunk.joined(separator: ",")])
            XCTAssertEqual(reply.status, 200, reply.text)
        }
    }

    /// Bad input is a 400 whose message is the CLI's one line.
    func testBadRequestsAreOneLine400s() async throws {
        let cases: [([String: String], String)] = [
            (["optimizers": "adam(lr=-1)"], "lr"),
            (["optimizers": "adamm"], "unknown optimizer 'adamm'"),
            (["fn": "x^2 + * y"], "column 7"),
            (["steps": "100000"], "steps must be a whole number in 1...10000"),
            (["start": "1,a"], "start expects X,Y"),
            (["optimizers": Array(repeating: "sgd", count: 13).joined(separator: ",")], "1 to 12 specs"),
            (["fn": "log(x)", "start": "-1,1"], "outside the surface's domain"),
            (["fn": String(repeating: "x+", count: 400) + "y"], "longer than 500"),
        ]
        for (query, expected) in cases {
            let reply = try await get("/api/trajectories", query)
            XCTAssertEqual(reply.status, 400, "\(query)")
            let message = try XCTUnwrap(reply.json()["error"] as? String)
            XCTAssertTrue(message.contains(expected), "\(query): \(message)")
            XCTAssertFalse(message.contains("\n"), message)
        }
        let levels = try await get("/api/contours.png", ["levels": "1000"])
        XCTAssertEqual(levels.status, 400)
        let layout = try await get("/api/trajectories.png", ["layout": "spiral"])
        XCTAssertEqual(try layout.json()["error"] as? String, "layout must be one of grid, overlay, got 'spiral'")
    }

    /// The surface's geometry and its contour image: the plot area lies inside the image.
    func testSurfaceAndItsContourImage() async throws {
        let info = try await get("/api/surface", ["fn": "himmelblau"]).json()
        XCTAssertEqual(info["window"] as? [Double], [-5, 5, -5, 5])
        XCTAssertEqual((info["minima"] as? [[Double]])?.count, 4)
        let area = try XCTUnwrap(info["plotArea"] as? [Double])
        XCTAssertTrue(0 < area[0] && area[0] < area[2] && area[2] < 1 && 0 < area[1] && area[1] < area[3] && area[3] < 1, "\(area)")
        let image = try await get("/api/contours.png", ["fn": "himmelblau"])
        XCTAssertEqual(image.headers["content-type"], "image/png")
        XCTAssertEqual(Array(image.body.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        let size = try XCTUnwrap(info["imageSize"] as? [Int])
        XCTAssertEqual(Int(image.body[16...19].reduce(0) { $0 << 8 | UInt32($1) }), size[0], "the PNG's width")
    }

    func testDownloadsAreTheCLIFormats() async throws {
        for (ext, magic) in [("png", [0x89, 0x50, 0x4E, 0x47]), ("svg", Array("<?xml".utf8)), ("pdf", Array("%PDF".utf8))] {
            let reply = try await get("/api/trajectories.\(ext)", ["fn": "bowl", "optimizers": "adam(lr=0.1)", "steps": "20"])
            XCTAssertEqual(reply.status, 200, reply.text)
            XCTAssertEqual(reply.headers["content-disposition"], "attachment; filename=\"trajectories-bowl.\(ext)\"")
            XCTAssertEqual(Array(reply.body.prefix(magic.count)), magic, ext)
        }
    }

    func testThePageIsServedAndNothingElse() async throws {
        let page = try await get("/")
        XCTAssertEqual(page.headers["content-type"], "text/html; charset=utf-8")
        XCTAssertTrue(page.text.contains("<script src=\"/app.js\">"))
        let script = try await get("/app.js")
        XCTAssertTrue(script.text.contains("/api/trajectories"))
        for path in ["/../Package.swift", "/Server.swift", "/api/nothing"] {
            let status = try await get(path).status
            XCTAssertEqual(status, 404, path)
        }
    }

    /// The dashboard reads `optlab cifar`'s CSVs (a diverged run's nan epoch as null), skips
    /// hidden temporaries and CSVs that are not optlab's.
    func testRunsFromAComparisonCSV() async throws {
        let header = "optimizer,seed,epoch,train_loss,train_acc,val_loss,val_acc,test_loss,test_acc,seconds,val_images\n"
        try (header + "sgd(lr=0.01),0,1,2.0,0.3,,,1.9,0.35,10,0\nsgd(lr=0.01),0,2,1.7,0.4,,,1.6,0.42,20,0\n"
            + "adam,0,1,nan,nan,,,nan,nan,5,0\n").write(to: runs.appendingPathComponent("compare.csv"), atomically: false, encoding: .utf8)
        try header.write(to: runs.appendingPathComponent(".compare.csv.123.tmp.csv"), atomically: false, encoding: .utf8)
        try "a,b\n1,2\n".write(to: runs.appendingPathComponent("other.csv"), atomically: false, encoding: .utf8)
        let reply = try await get("/api/runs")
        let list = try XCTUnwrap(reply.json()["runs"] as? [[String: Any]])
        XCTAssertEqual(list.map { $0["id"] as? String }, ["compare.csv#sgd(lr=0.01)#0", "compare.csv#adam#0"])
        XCTAssertEqual((list[0]["metrics"] as? [[String: Any]])?.map { $0["testAccuracy"] as? Double }, [0.35, 0.42])
        XCTAssertEqual(list[1]["diverged"] as? Bool, true)
        XCTAssertTrue((list[1]["metrics"] as? [[String: Any]])?.first?["trainLoss"] is NSNull)
        XCTAssertEqual(list.map { $0["color"] as? String }, ["#0072b2", "#d55e00"])
        let missing = try await get("/api/evaluation", ["run": "nothing.safetensors"])
        XCTAssertEqual(missing.status, 400)
    }

    /// A job folder: its runs listed under their grid, each in the state its files say, with the
    /// epochs its result (or checkpoint) holds; its checkpoints are not listed again as runs.
    func testJobFolderRunsAndTheirStates() async throws {
        let grid = runs.appendingPathComponent("sweep")
        let written = try optlab(["cifar", "--compare", "sgd,adam,momentum,nesterov", "--model", "tutorial", "--epochs", "2",
                                  "--jobs", grid.path])
        XCTAssertEqual(written.status, 0, written.errors)
        let epoch = #"{"epoch":1,"trainLoss":2.1,"trainAccuracy":0.2,"testLoss":2.0,"testAccuracy":0.25,"seconds":3}"#
        try #"{"epochs":[\#(epoch)]}"#.write(to: grid.appendingPathComponent("runs/0001.result.json"), atomically: true, encoding: .utf8)
        func status(_ state: String, pid: Int32) -> String {
            #"{"state":"\#(state)","host":"\#(ProcessInfo.processInfo.hostName)","pid":\#(pid),"time":0,"reason":"out of memory"}"#
        }
        try status("failed", pid: 1).write(to: grid.appendingPathComponent("runs/0002.status.json"), atomically: true, encoding: .utf8)
        try status("running", pid: getpid()).write(to: grid.appendingPathComponent("runs/0003.status.json"), atomically: true, encoding: .utf8)
        let reply = try await get("/api/runs")
        let list = try XCTUnwrap(try reply.json()["runs"] as? [[String: Any]])
        XCTAssertEqual(list.map { $0["id"] as? String }, (1...4).map { "sweep/runs/000\($0).safetensors" })
        XCTAssertEqual(list.map { $0["state"] as? String }, ["done", "failed", "running", "pending"])
        XCTAssertEqual(list.map { $0["grid"] as? String }, Array(repeating: "sweep", count: 4))
        XCTAssertEqual(list.map { $0["label"] as? String }, ["sgd(lr=0.01)", "adam(lr=0.001)", "momentum(lr=0.01)", "nesterov(lr=0.01)"])
        XCTAssertEqual((list[0]["metrics"] as? [[String: Any]])?.map { $0["testAccuracy"] as? Double }, [0.25])
        XCTAssertTrue((list[1]["reason"] as? String)?.contains("out of memory") == true)
        XCTAssertEqual(list.map { ($0["metrics"] as? [Any])?.count }, [1, 0, 0, 0])
    }

    /// Runs the built optlab with `arguments`, as a user would, in `folder`.
    func optlab(_ arguments: [String], in folder: URL? = nil) throws -> (status: Int32, errors: String) {
        try run(Self.binaries.appendingPathComponent("optlab").path, arguments, in: folder)
    }

    /// Runs a program with the built binaries first on the PATH; its exit status and standard error.
    func run(_ program: String, _ arguments: [String], in folder: URL? = nil) throws -> (status: Int32, errors: String) {
        let process = Process(), errors = Pipe()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        if let folder { process.currentDirectoryURL = folder }
        process.environment = ProcessInfo.processInfo.environment.merging(["PATH": Self.binaries.path + ":/usr/bin:/bin"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let text = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: text, as: UTF8.self))
    }

    static var binaries: URL {
        Bundle.main.bundleURL.pathExtension == "xctest"
            ? Bundle.main.bundleURL.deletingLastPathComponent()
            : URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }
}
