import CCurl
import Foundation
import Glibc
import Testing

@testable import SluiceHTTP

/// A connected pair of local stream sockets: `watched` is what curl would watch, `peer`
/// plays the server.
private struct SocketPair {
    let watched: Int32
    let peer: Int32

    init() throws {
        var fds: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        (watched, peer) = (fds[0], fds[1])
    }

    func send() {
        var byte: UInt8 = 1
        _ = write(peer, &byte, 1)
    }

    func close() {
        _ = Glibc.close(watched)
        _ = Glibc.close(peer)
    }
}

/// The descriptors in `events`' epoll set, from the kernel's own list of it.
private func inSet(_ events: CurlSocketEvents) throws -> Set<Int32> {
    let text = try String(contentsOfFile: "/proc/self/fdinfo/\(events.epoll)", encoding: .utf8)
    return Set(text.split(separator: "\n").compactMap { line -> Int32? in
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        return fields.first == "tfd:" && fields.count > 1 ? Int32(fields[1]) : nil
    })
}

@Suite("The sockets curl's loop watches")
struct CurlSocketEventsTests {
    @Test("a socket curl stops watching is not reported, leaves the set when it fires, and comes back when curl asks again")
    func stoppedSocket() throws {
        let events = CurlSocketEvents()
        let pair = try SocketPair()
        defer { pair.close() }

        events.watch(pair.watched, what: CURL_POLL_IN)
        pair.send()
        let first = events.wait(cap: 5_000).ready
        #expect(first.map(\.socket) == [pair.watched])
        #expect(first.first?.flags == CURL_CSELECT_IN)

        // Curl puts the connection back in its pool; the byte is still unread, so a socket
        // left in the (level-triggered) set fires at once: it must not reach curl, and must
        // leave the set rather than fire on every later wait.
        events.watch(pair.watched, what: CURL_POLL_REMOVE)
        #expect(try inSet(events).contains(pair.watched), "kept in the set while idle")
        #expect(events.wait(cap: 5_000).ready.isEmpty)
        #expect(try !inSet(events).contains(pair.watched), "fired while unwanted: out of the set")

        // Curl takes the connection back for the next request.
        events.watch(pair.watched, what: CURL_POLL_IN)
        #expect(events.wait(cap: 5_000).ready.map(\.socket) == [pair.watched])
    }

    @Test("a socket closed after curl stopped watching it, and its number reused, is watched again")
    func closedAndReused() throws {
        let events = CurlSocketEvents()
        let old = try SocketPair()
        events.watch(old.watched, what: CURL_POLL_IN)
        events.watch(old.watched, what: CURL_POLL_REMOVE)
        old.close()  // the kernel drops it from the set; the loop is not told

        let new = try SocketPair()
        defer { new.close() }
        events.watch(new.watched, what: CURL_POLL_OUT)
        let ready = events.wait(cap: 5_000).ready
        #expect(ready.map(\.socket) == [new.watched])
        #expect(ready.first?.flags == CURL_CSELECT_OUT)
    }

    @Test("each ready socket says which multi handle asked for it, also when another handle asks for it next")
    func handleOfEachSocket() throws {
        let events = CurlSocketEvents()
        let first = try SocketPair()
        let second = try SocketPair()
        defer { first.close(); second.close() }
        events.watch(first.watched, what: CURL_POLL_IN, handle: 0)
        events.watch(second.watched, what: CURL_POLL_IN, handle: 1)
        first.send()
        second.send()
        let ready = events.wait(cap: 5_000).ready
        #expect(ready.count == 2)
        #expect(ready.first { $0.socket == first.watched }?.handle == 0)
        #expect(ready.first { $0.socket == second.watched }?.handle == 1)

        // The descriptor closed by one multi handle and opened again by another: the
        // number is the same, its handle is the one that asked last.
        events.watch(second.watched, what: CURL_POLL_REMOVE, handle: 1)
        events.watch(second.watched, what: CURL_POLL_OUT, handle: 0)
        #expect(events.wait(cap: 5_000).ready.first { $0.socket == second.watched }?.handle == 0)
    }
}
