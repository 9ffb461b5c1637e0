import CCurl
import Foundation
import Glibc

/// The sockets and the timer that libcurl asks ``CurlMultiClient``'s loop to watch, in an
/// epoll set, plus an eventfd that wakes the loop when a request is queued.
///
/// This is libcurl's event-driven interface (`curl_multi_socket_action`): curl tells us,
/// through its socket and timer callbacks, which sockets to watch for what and when its
/// next timeout is due; the loop waits in `epoll_wait` and hands curl only the sockets that
/// are ready. Unlike `curl_multi_perform` + `curl_multi_poll`, which walk every transfer
/// on every wake-up, the cost of a wake-up does not grow with the transfers in flight, so
/// thousands of black-holed requests cost nothing while they wait.
///
/// Lifetime: the client holds it strongly and gives curl an unretained pointer to it as
/// both callbacks' user data before the first transfer; the loop thread holds the client
/// until after `curl_multi_cleanup`, the last call that may invoke a callback. Invariant:
/// only the loop thread touches it (curl calls the callbacks from within the loop's own
/// curl calls), except ``wake()``, which only writes to the eventfd.
final class CurlSocketEvents: @unchecked Sendable {
    let epoll: Int32
    private let wakeFD: Int32
    /// When curl wants `curl_multi_socket_action(CURL_SOCKET_TIMEOUT)`, in monotonic ns.
    private var deadline: UInt64?
    private var events = [epoll_event](repeating: epoll_event(), count: 512)
    /// What curl wants watched on each socket, by descriptor (`0`: nothing). A socket curl
    /// stops watching stays in the epoll set: a pooled connection that curl takes back for
    /// the next request then costs one `EPOLL_CTL_MOD`, not a `DEL` now and a failed `MOD`
    /// and an `ADD` later (three system calls a request on a busy loop). If such a socket
    /// fires while curl wants nothing of it (the server closed an idle connection), it
    /// leaves the set then; a socket curl closes leaves it by itself.
    private var wanted: [UInt32] = []

    /// A socket that is ready, and for what (`CURL_CSELECT_*`).
    struct Ready {
        var socket: curl_socket_t
        var flags: Int32
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

    /// Registers the callbacks on `multi`, with `context` (this object, unretained) as
    /// their user data.
    func install(on multi: UnsafeMutableRawPointer, context: UnsafeMutableRawPointer) {
        sluice_curl_multi_setopt_socket_function(multi, curlSocket)
        sluice_curl_multi_setopt_pointer(multi, CURLMOPT_SOCKETDATA, context)
        sluice_curl_multi_setopt_timer_function(multi, curlTimer)
        sluice_curl_multi_setopt_pointer(multi, CURLMOPT_TIMERDATA, context)
    }

    /// Wakes the loop from any thread.
    func wake() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    /// Waits until a socket is ready, curl's timer is due, the loop is woken, or `cap`
    /// milliseconds pass. Returns the ready sockets and whether the timer is due (it is
    /// then cleared: curl sets a new one if it wants one).
    func wait(cap: Int32) -> (ready: [Ready], timerDue: Bool) {
        var timeout = cap
        if let deadline {
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
            ready.append(Ready(socket: event.data.fd, flags: flags))
        }
        guard let deadline, deadline <= DispatchTime.now().uptimeNanoseconds else { return (ready, false) }
        self.deadline = nil
        return (ready, true)
    }

    /// curl's socket callback: watch `socket` for `what` (`CURL_POLL_*`), or stop (the
    /// socket stays in the set until it fires or closes: see `wanted`).
    func watch(_ socket: curl_socket_t, what: Int32) {
        guard socket >= 0 else { return }
        let index = Int(socket)
        if index >= wanted.count {
            wanted.append(contentsOf: repeatElement(0, count: max(index + 1, 2 * wanted.count) - wanted.count))
        }
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

    /// curl's timer callback: -1 removes the timer, otherwise due in `milliseconds`.
    fileprivate func schedule(_ milliseconds: Int) {
        deadline = milliseconds < 0 ? nil : DispatchTime.now().uptimeNanoseconds + UInt64(milliseconds) * 1_000_000
    }

    deinit {
        close(epoll)
        close(wakeFD)
    }
}

/// `CURLMOPT_SOCKETFUNCTION`; `context` is the ``CurlSocketEvents`` (see its lifetime).
private func curlSocket(_ easy: UnsafeMutableRawPointer?, _ socket: curl_socket_t, _ what: Int32, _ context: UnsafeMutableRawPointer?, _ socketContext: UnsafeMutableRawPointer?) -> Int32 {
    guard let context else { return 0 }
    Unmanaged<CurlSocketEvents>.fromOpaque(context).takeUnretainedValue().watch(socket, what: what)
    return 0
}

/// `CURLMOPT_TIMERFUNCTION`; `context` is the ``CurlSocketEvents`` (see its lifetime).
private func curlTimer(_ multi: UnsafeMutableRawPointer?, _ milliseconds: Int, _ context: UnsafeMutableRawPointer?) -> Int32 {
    guard let context else { return 0 }
    Unmanaged<CurlSocketEvents>.fromOpaque(context).takeUnretainedValue().schedule(milliseconds)
    return 0
}
