import SluiceCore

/// How many transfers ``CurlMultiClient`` lets curl drive at once: a limit that adapts to
/// the loop thread's load, over the transfers that are still young.
///
/// Why: libcurl's cost per transfer grows with the transfers under way (against one host,
/// the bench's bare client makes 57k requests/s at 16 in flight and 15k/s at 2,000), and
/// once the loop thread is saturated more transfers only queue inside it. Measured on
/// dispatch with the fast sink: 256 in flight gave the same rate as 2,000 at a fifth less
/// CPU per delivery and a sixth of the p99. Slow endpoints need the many places, though: a
/// request that waits two seconds for its answer holds one all that time, at no CPU cost.
///
/// So the limit counts only *young* transfers, those started less than `parkAfter` ago;
/// an older one still running is *parked* and no longer counts (it costs curl nothing but
/// its socket until it answers or times out; the client's connection bound still holds
/// every transfer). The limit itself moves as TCP's window does (AIMD), on two signals
/// read over each `sampleInterval`: whether the loop was saturated (waiting in
/// `epoll_wait` less than `saturatedBelow` of the time), and its *lag*: how long a turn
/// of the loop took from waking to the end of its work, weighted by what it handled (an
/// answer that arrives just after the loop woke waits about that long to be seen, as
/// CoDel's sojourn time). Saturated with a lag above `lagTarget` means more transfers only
/// queue inside the loop: the limit shrinks by an eighth. Otherwise, if requests waited
/// for room, it grows by an eighth (at least one): a busy loop whose turns stay short is
/// amortising its work over more transfers. Unlike the answers' latency, the lag does not
/// depend on how far away the endpoints are (measured: a latency baseline was set by the
/// 500s of failing endpoints, a millisecond away, and then held the window at 150–250
/// while healthy endpoints 5–50 ms away needed more; on the idle share alone it sat there
/// too). It stays within `floor...ceiling`.
///
/// Invariant: `young` is the number of transfers started and not finished whose start is
/// within `parkAfter` of the last ``age(now:)``; `young + parked` is every transfer
/// started and not finished; `floor <= limit <= ceiling`.
///
/// ```swift
/// var window = TransferWindow()  // 256 young transfers at first, 64 to 2,000
/// _ = window.age(now: now)        // park what is old
/// while window.room > 0, let request = queue.next() {
///     let ticket = window.started(now: now)  // keep it with the transfer
///     ...
/// }
/// window.finished(ticket)                    // when curl reports it done
/// window.observe(idle: waitedNs, busy: workedNs, handled: n, waited: !queue.isEmpty, now: now)
/// ```
public struct TransferWindow: Sendable {
    public struct Config: Sendable {
        /// Where the limit starts.
        public var initial = 256
        /// The least it shrinks to. A floor of 256 (until session 39) held the fast sink's
        /// run at 256 young transfers, where libcurl's loop pays more per transfer than at
        /// 150–190: with a floor of 64 (session 39, three interleaved rounds each, 5,000
        /// endpoints) the fast sink drained at 15.8k deliveries/s against 12.6k, at 76 CPU
        /// µs per delivery against 92, the window settling at 147–190; beside 20 % bad
        /// endpoints the window stays above 300 either way and the healthy ones' share did
        /// not move (0.57 and 0.47 against 0.53 and 0.46). (A floor of 16, with the
        /// window's older signals, had starved healthy endpoints in the mixed run.)
        public var floor = 64
        /// Never more young transfers than this (the client's connection bound).
        public var ceiling = 2_000
        /// A transfer running longer than this no longer counts against the limit.
        public var parkAfter: Duration = .milliseconds(100)
        /// How much loop time each adjustment looks back on.
        public var sampleInterval: Duration = .milliseconds(100)
        /// Idle less than this share of a sample: the loop is saturated.
        public var saturatedBelow = 0.05
        /// A saturated loop whose turns take longer than this (weighted by what they
        /// handled) is queueing answers: shrink.
        public var lagTarget: Duration = .milliseconds(5)
        public init() {}

        /// The bounds an operator gives: `auto` (these defaults, the ceiling at most
        /// `ceiling`), a number (a fixed window) or `MIN-MAX`; nil for anything else.
        ///
        /// ```swift
        /// TransferWindow.Config(parsing: "64-512", ceiling: 2_000)  // floor 64, ceiling 512
        /// ```
        public init?(parsing text: String, ceiling: Int) {
            self.init()
            self.ceiling = ceiling
            guard text != "auto" else { return }
            let bounds = text.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
            guard (1...2).contains(bounds.count), let low = bounds.first ?? nil, let high = bounds.last ?? nil,
                low >= 1, low <= high, high <= ceiling
            else { return nil }
            (floor, self.ceiling, initial) = (low, high, min(max(initial, low), high))
        }
    }

    /// Which transfer: its place in start order (kept by the caller with the transfer).
    public struct Ticket: Sendable, Equatable {
        let sequence: UInt64
    }

    public let config: Config
    public private(set) var limit: Int
    /// Transfers started less than `parkAfter` ago and not finished.
    public private(set) var young = 0
    /// Transfers older than `parkAfter` and not finished.
    public private(set) var parked = 0

    /// Start times (monotonic ns) and whether finished, of the young transfers and of
    /// those finished since, in start order; `starts[i]` is sequence `firstSequence + i`
    /// for `i >= head`.
    private var starts: [(at: UInt64, finished: Bool)] = []
    private var head = 0
    private var firstSequence: UInt64 = 0
    private var sample = Sample()
    /// `config`'s durations in ns, read on every turn of the loop.
    private let parkAfter, sampleInterval, lagTarget: UInt64

    /// What the loop saw since the sample started.
    private struct Sample {
        var start: UInt64 = 0
        var idle: UInt64 = 0
        var waited = false
        /// Σ turn duration × things handled in the turn (ns), and Σ things handled.
        var lag: Double = 0
        var handled = 0
    }

    public init(_ config: Config = Config()) {
        precondition(config.floor >= 1 && config.floor <= config.ceiling, "TransferWindow: floor must be in 1...ceiling")
        self.config = config
        self.limit = min(max(config.initial, config.floor), config.ceiling)
        (parkAfter, sampleInterval, lagTarget) = (
            UInt64(config.parkAfter.nanoseconds), UInt64(config.sampleInterval.nanoseconds), UInt64(config.lagTarget.nanoseconds)
        )
    }

    /// How many more transfers may start now.
    public var room: Int { max(0, limit - young) }

    /// A transfer starts at `now` (monotonic ns): it counts until it finishes or parks.
    public mutating func started(now: UInt64) -> Ticket {
        starts.append((now, false))
        young += 1
        return Ticket(sequence: firstSequence + UInt64(starts.count - 1))
    }

    /// The transfer of `ticket` ended (answered, failed or abandoned).
    public mutating func finished(_ ticket: Ticket) {
        // Below `head` (or dropped): it parked, as it was not finished when it aged.
        guard ticket.sequence >= firstSequence + UInt64(head) else { return parked -= 1 }
        let index = Int(ticket.sequence - firstSequence)
        guard index < starts.count, !starts[index].finished else { return }
        starts[index].finished = true
        young -= 1
    }

    /// Parks the transfers started `parkAfter` or longer before `now`; returns the
    /// nanoseconds until the next one parks (nil: none is young).
    public mutating func age(now: UInt64) -> UInt64? {
        while head < starts.count, now >= parksAt(starts[head].at) {
            if !starts[head].finished {
                young -= 1
                parked += 1
            }
            head += 1
        }
        if head > 1024, head * 2 > starts.count {
            starts.removeFirst(head)
            firstSequence += UInt64(head)
            head = 0
        }
        guard head < starts.count else { return nil }
        return parksAt(starts[head].at) - now
    }

    /// When a transfer started at `start` parks (saturating).
    private func parksAt(_ start: UInt64) -> UInt64 {
        let (sum, overflow) = start.addingReportingOverflow(parkAfter)
        return overflow ? .max : sum
    }

    /// A turn of the loop: it waited `idle` ns for events, then worked `busy` ns on
    /// `handled` sockets and answers; requests were left waiting for room (`waited`). Once
    /// a sample's interval has passed, moves the limit (see the type's documentation).
    /// Returns whether it changed.
    @discardableResult
    public mutating func observe(idle: UInt64, busy: UInt64, handled: Int, waited: Bool, now: UInt64) -> Bool {
        if sample.start == 0 { sample.start = now }
        sample.idle += idle
        sample.lag += Double(busy) * Double(handled)
        sample.handled += handled
        sample.waited = sample.waited || waited
        let elapsed = now &- sample.start
        guard now > sample.start, elapsed >= sampleInterval else { return false }
        let saturated = Double(min(sample.idle, elapsed)) / Double(elapsed) < config.saturatedBelow
        let lagging = sample.handled > 0 && sample.lag / Double(sample.handled) > Double(lagTarget)
        let before = limit
        if saturated, lagging {
            limit = max(config.floor, limit - max(1, limit / 8))
        } else if sample.waited {
            limit = min(config.ceiling, limit + max(1, limit / 8))
        }
        sample = Sample(start: now)
        return limit != before
    }
}
