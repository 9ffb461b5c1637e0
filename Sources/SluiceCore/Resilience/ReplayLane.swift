import Foundation

/// The pace of replayed deliveries (`sluice.redeliveries`) in one dispatcher: live traffic
/// first. Replays (from the DLQ or from history) may be tens of thousands of deliveries
/// written at once; they wait on their own topic, and dispatch reads them only as fast as
/// live deliveries keep their latency.
///
/// The lever is a rate, not a concurrency: a replayed delivery to a fast receiver holds its
/// slot for milliseconds, so what it costs the live lane is CPU (signing, HTTP, the attempt
/// record, the broker) per delivery. The rate adapts as TCP's window does (AIMD): each
/// `window` it halves when more than a tenth of the live deliveries read in it were picked
/// up later than `lagTarget` after they were written (the 90th percentile of their pickup
/// lag is over the target), and grows by a tenth (at least `minimumRate`) when live traffic
/// was on time and replays were waiting for their turn. Reading stops (the stage pauses the
/// redelivery partitions) while more than `holdAhead` of turns are already handed out, and
/// resumes when fewer than half of that are.
///
/// A pure state machine: the stage passes each read and the time, runs the delays it gets
/// back and applies the returned ``Action`` outside its lock.
///
/// Invariant: `minimumRate ≤ rate ≤ maximumRate`; turns are handed out at most `rate` per
/// second (no burst credit builds up while idle); at most one decrease per window.
///
/// ```swift
/// var lane = ReplayLane(now: now)
/// let (wait, action) = lane.admit(now: now)       // a replayed delivery was read
/// _ = lane.live(lag: .milliseconds(40), now: now)  // a live one was read 40 ms after it was written
/// if let action = lane.tick(now: now) { apply(action) }
/// ```
public struct ReplayLane: Sendable, Equatable {
    public struct Config: Sendable, Equatable {
        /// The pickup lag of live deliveries the lane protects (written → read by dispatch).
        public var lagTarget: Duration = .milliseconds(250)
        /// How often the rate is adjusted.
        public var window: Duration = .seconds(1)
        /// Replayed deliveries per second at the start.
        public var initialRate: Double = 100
        /// The rate never falls below this: a replay always finishes.
        public var minimumRate: Double = 10
        public var maximumRate: Double = 100_000
        /// Turns handed out ahead of time before reading stops.
        public var holdAhead: Duration = .milliseconds(500)
        public init() {}
    }

    /// A change the stage applies to the redelivery partitions it owns.
    public enum Action: Sendable, Equatable {
        case pause
        case resume
    }

    public let config: Config
    /// Replayed deliveries per second now.
    public private(set) var rate: Double
    /// Whether reading of the redelivery partitions is stopped.
    public private(set) var paused = false
    /// When the next replayed delivery may start.
    private var nextTurn: Date
    private var windowStart: Date
    private var liveRead = 0
    private var liveLate = 0
    private var replaysWaited = false

    /// A `maximumRate` under `minimumRate` (or `initialRate`) lowers them to it.
    public init(config: Config = Config(), now: Date) {
        var config = config
        config.maximumRate = max(config.maximumRate, 0.001)
        config.minimumRate = min(config.minimumRate, config.maximumRate)
        self.config = config
        rate = min(max(config.initialRate, config.minimumRate), config.maximumRate)
        nextTurn = now
        windowStart = now
    }

    /// A replayed delivery was read: how long it waits for its turn, and whether reading
    /// must stop because turns are handed out far enough ahead.
    public mutating func admit(now: Date) -> (wait: Duration, action: Action?) {
        let turn = max(nextTurn, now)
        nextTurn = turn.addingTimeInterval(1 / rate)
        let wait = turn.timeIntervalSince(now)
        if wait > 0 { replaysWaited = true }
        guard !paused, nextTurn.timeIntervalSince(now) > config.holdAhead.timeInterval else { return (.wait(seconds: wait), nil) }
        paused = true
        return (.wait(seconds: wait), .pause)
    }

    /// A live delivery was read `lag` after it was written.
    public mutating func live(lag: Duration, now: Date) -> Action? {
        liveRead += 1
        if lag > config.lagTarget { liveLate += 1 }
        return tick(now: now)
    }

    /// Ends the window when it is over (adjusting the rate) and resumes reading once the
    /// turns handed out ahead fall under half of `holdAhead`. Call it often (every 50–100 ms).
    public mutating func tick(now: Date) -> Action? {
        if now.timeIntervalSince(windowStart) >= config.window.timeInterval {
            if liveRead > 0, liveLate * 10 > liveRead {
                rate = max(config.minimumRate, rate / 2)
            } else if replaysWaited {
                rate = min(config.maximumRate, rate + max(config.minimumRate, rate / 10))
            }
            windowStart = now
            liveRead = 0
            liveLate = 0
            replaysWaited = false
        }
        guard paused, nextTurn.timeIntervalSince(now) < config.holdAhead.timeInterval / 2 else { return nil }
        paused = false
        return .resume
    }
}
