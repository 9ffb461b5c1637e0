import CCurl
import Foundation
import Glibc

/// The sockets and the timers that libcurl asks ``CurlMultiClient``'s loop to watch, for
/// every multi handle of the client (each pool's shards), in one epoll set, plus an eventfd
/// that wakes the loop when a request is queued.
///
/// This is libcurl's event-driven interface (`curl_multi_socket_action`): curl tells us,
/// through its socket and timer callbacks, which sockets to watch for what and when its
/// next timeout is due; the loop waits in `epoll_wait` and hands curl only the sockets that
/// are ready. Unlike `curl_multi_perform` + `curl_multi_poll`, which walk every transfer
/// on every wake-up, the cost of a wake-up does not grow with the transfers in flight, so
/// thousands of black-holed requests cost nothing while they wait.
///
/// A socket belongs to one multi handle at a time (a descriptor number is unique while
/// open), so each one in the set carries its handle's number (the client numbers its multi
/// handles from 0); each handle has its own timer.
///
/// Lifetime: each multi handle's callbacks get an unretained pointer to a ``Source`` (this
/// object and the handle's number) as their user data; the pool that owns the handle holds
/// its source strongly and the source holds this object, until after the handle's
/// `curl_multi_cleanup`, the last call that may invoke a callback. Invariant: only the loop thread touches it (curl calls the
/// callbacks from within the loop's own curl calls), except ``wake()``, which only writes
/// to the eventfd.
final class CurlSocketEvents: @unchecked Sendable {
    let epoll: Int32
    private let wakeFD: Int32
    /// When each multi handle wants `curl_multi_socket_action(CURL_SOCKET_TIMEOUT)`, in
    /// monotonic ns, by handle number.
    private var deadlines: [UInt64?] = []
    private var events = [epoll_event](repeating: epoll_event(), count: 512)
    /// What curl wants watched on each socket, by descriptor (`0`: nothing). A socket curl
    /// stops watching stays in the epoll set: a pooled connection that curl takes back for
    /// the next request then costs one `EPOLL_CTL_MOD`, not a `DEL` now and a failed `MOD`
    /// and an `ADD` later (three system calls a request on a busy loop). If such a socket
    /// fires while curl wants nothing of it (the server closed an idle connection), it
    /// leaves the set then; a socket curl closes leaves it by itself.
    private var wanted: [UInt32] = []
    /// The multi handle that asked for each socket, by descriptor.
    private var owner: [Int32] = []

    /// A socket that is ready, for what (`CURL_CSELECT_*`), and whose it is (the number of
    /// the multi handle that asked for it).
    struct Ready {
        var socket: curl_socket_t
        var flags: Int32
        var handle = 0
    }

    /// One multi handle's callbacks' user data: these events and the handle's number.
    final class Source {
        let events: CurlSocketEvents
        let handle: Int
        init(events: CurlSocketEvents, handle: Int) { (self.events, self.handle) = (events, handle) }
    }

    init() {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        precondition(epoll >= 0 && wakeFD >= 0, "epoll_create1/eventfd failed: errno \(errno) (out of file descriptors?)")
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = wakeFD
        epoll_ctl(epoll, EPOLL_CTL_ADD, wakeFD, &event)
    }

    /// Registers the callbacks on `multi`, the client's multi handle number `handle`, with a
    /// ``Source`` (unretained) as their user data: keep it as long as `multi`.
    func install(on multi: UnsafeMutableRawPointer, handle: Int) -> Source {
        let source = Source(events: self, handle: handle)
        if deadlines.count <= handle { deadlines += Array(repeating: nil, count: handle + 1 - deadlines.count) }
        let context = Unmanaged.passUnretained(source).toOpaque()
        sluice_curl_multi_setopt_socket_function(multi, curlSocket)
        sluice_curl_multi_setopt_pointer(multi, CURLMOPT_SOCKETDATA, context)
        sluice_curl_multi_setopt_timer_function(multi, curlTimer)
        sluice_curl_multi_setopt_pointer(multi, CURLMOPT_TIMERDATA, context)
        return source
    }

    /// Wakes the loop from any thread.
    func wake() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    /// Waits until a socket is ready, a multi handle's timer is due, the loop is woken, or
    /// `cap` milliseconds pass. Returns the ready sockets and the handles whose timer is due
    /// (it is then cleared: curl sets a new one if it wants one).
    func wait(cap: Int32) -> (ready: [Ready], timersDue: [Int]) {
        var timeout = cap
        if let deadline = deadlines.lazy.compactMap({ $0 }).min() {
            let now = DispatchTime.now().uptimeNanoseconds
            timeout = deadline <= now ? 0 : Int32(min(UInt64(cap), (deadline - now + 999_999) / 1_000_000))
        }
        let count = events.withUnsafeMutableBufferPointer { epoll_wait(epoll, $0.baseAddress, Int32($0.count), timeout) }
        var ready: [Ready] = []
        for event in events.prefix(Int(max(0, count))) {
            if event.data.fd == wakeFD {
                var value: UInt64 = 0
                _ = read(wakeFD, &value, 8)
                continue
            }
            let socket = Int(event.data.fd)
            guard socket < wanted.count, wanted[socket] != 0 else {
                var unused = epoll_event()
                epoll_ctl(epoll, EPOLL_CTL_DEL, event.data.fd, &unused)
                continue
            }
            var flags: Int32 = 0
            if event.events & EPOLLIN.rawValue != 0 { flags |= CURL_CSELECT_IN }
            if event.events & EPOLLOUT.rawValue != 0 { flags |= CURL_CSELECT_OUT }
            if event.events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 { flags |= CURL_CSELECT_ERR }
            ready.append(Ready(socket: event.data.fd, flags: flags, handle: Int(owner[socket])))
        }
        let now = DispatchTime.now().uptimeNanoseconds
        var due: [Int] = []
        for handle in deadlines.indices {
            guard let deadline = deadlines[handle], deadline <= now else { continue }
            deadlines[handle] = nil
            due.append(handle)
        }
        return (ready, due)
    }

    /// Multi handle `handle`'s socket callback: watch `socket` for `what` (`CURL_POLL_*`),
    /// or stop (the socket stays in the set until it fires or closes: see `wanted`).
    func watch(_ socket: curl_socket_t, what: Int32, handle: Int = 0) {
        guard socket >= 0 else { return }
        let index = Int(socket)
        if index >= wanted.count {
            let grown = max(index + 1, 2 * wanted.count) - wanted.count
            wanted.append(contentsOf: repeatElement(0, count: grown))
            owner.append(contentsOf: repeatElement(0, count: grown))
        }
        owner[index] = Int32(handle)
        var event = epoll_event()
        event.data.fd = socket
        switch what {
        case CURL_POLL_REMOVE:
            wanted[index] = 0
            return
        case CURL_POLL_IN: event.events = EPOLLIN.rawValue
        case CURL_POLL_OUT: event.events = EPOLLOUT.rawValue
        default: event.events = EPOLLIN.rawValue | EPOLLOUT.rawValue
        }
        wanted[index] = event.events
        if epoll_ctl(epoll, EPOLL_CTL_MOD, socket, &event) != 0, errno == ENOENT {
            epoll_ctl(epoll, EPOLL_CTL_ADD, socket, &event)
        }
    }

    /// Multi handle `handle`'s timer callback: -1 removes the timer, otherwise due in
    /// `milliseconds`.
    fileprivate func schedule(_ milliseconds: Int, handle: Int) {
        deadlines[handle] = milliseconds < 0 ? nil : DispatchTime.now().uptimeNanoseconds + UInt64(milliseconds) * 1_000_000
    }

    deinit {
        close(epoll)
        close(wakeFD)
    }
}

/// `CURLMOPT_SOCKETFUNCTION`; `context` is a multi handle's ``CurlSocketEvents/Source`` (see the lifetime).
private func curlSocket(_ easy: UnsafeMutableRawPointer?, _ socket: curl_socket_t, _ what: Int32, _ context: UnsafeMutableRawPointer?, _ socketContext: UnsafeMutableRawPointer?) -> Int32 {
    guard let context else { return 0 }
    let source = Unmanaged<CurlSocketEvents.Source>.fromOpaque(context).takeUnretainedValue()
    source.events.watch(socket, what: what, handle: source.handle)
    return 0
}

/// `CURLMOPT_TIMERFUNCTION`; `context` is a multi handle's ``CurlSocketEvents/Source`` (see the lifetime).
private func curlTimer(_ multi: UnsafeMutableRawPointer?, _ milliseconds: Int, _ context: UnsafeMutableRawPointer?) -> Int32 {
    guard let context else { return 0 }
    let source = Unmanaged<CurlSocketEvents.Source>.fromOpaque(context).takeUnretainedValue()
    source.events.schedule(milliseconds, handle: source.handle)
    return 0
}
