import Foundation
import Testing
@testable import httpkit

@Suite("REPL completion")
struct ReplCompletionTests {
    let words = [":dump", ":timeout", "GET", "HEAD", "get", "head", "Host:", "HTTP/1.1"]

    @Test func oneSpellingPerWordInTheTypedCase() {
        #expect(ReplCompletion.candidates("ge", words: words, paths: []) == ["get"])
        #expect(ReplCompletion.candidates("GE", words: words, paths: []) == ["GET"])
        #expect(ReplCompletion.candidates("h", words: words, paths: []) == ["head", "Host:", "HTTP/1.1"])
        #expect(ReplCompletion.candidates(":d", words: words, paths: []) == [":dump"])
    }

    @Test func pathsOnlyFromTheSite() {
        #expect(ReplCompletion.candidates("/h", words: words, paths: []) == [], "never the local disk's /home")
        #expect(ReplCompletion.candidates("/h", words: words, paths: ["/hello.txt", "/docs/", "/home.html"]) == ["/hello.txt", "/home.html"])
    }

    @Test func linksAndLocationsOfAResponse() {
        let response = "HTTP/1.1 301 Moved Permanently\r\nLocation: http://127.0.0.1:8080/docs/\r\nContent-Length: 0\r\n\r\n"
            + "<a href=\"/style.css\">s</a> <img src='img/logo.png'> <a href=\"https://example.com/x\">x</a>"
            + "<a href=\"#top\">t</a> <form action=\"/api/echo?x=1\"></form> <a href=\"//cdn.example/y\">y</a>"
        let paths = ReplCompletion.paths(inResponse: Array(response.utf8), requestPath: "/docs/index.html")
        #expect(paths == ["/docs/", "/style.css", "/docs/img/logo.png", "/api/echo"])
    }

    @Test func filesUnderTheRoot() {
        let www = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("www").path
        let paths = ReplCompletion.paths(underRoot: www)
        #expect(paths.contains("/hello.txt") && paths.contains("/docs/") && paths.contains("/"))
    }
}
