import Foundation

/// Offsets a consumer's fetches jumped over, to be read again once they had time to
/// settle: the state machine behind ``KafkaConsumerConfig/checksGaps``.
///
/// Why: Tansu (0.6.0, memory storage) can make a batch visible before an earlier batch of
/// the same partition written at the same time by another producer; a fetch then returns
/// the later one and the consumer moves past the earlier one for good (measured: 12
/// producers into one partition, a tailing consumer missed 7–24 of 9,000 records; a
/// later read sees them all). A jump is normal too (a transaction's commit marker takes an
/// offset), so every jump is read again after ``settle``: what turns up inside it was
/// skipped.
///
/// A state machine without I/O: the consumer reports each record it hands out (and each
/// seek, assignment and revocation, with the offset reading starts from where it knows
/// it), asks which gaps are ``due(now:)``, reads them and reports what it found.
///
/// A transaction's end marker takes an offset the consumer never hands out, and Tansu can
/// make that marker visible before the records it ends: the consumer's position then moves
/// past them with nothing handed out after them to show a jump. So the consumer also reports
/// its position (``positioned(_:at:now:)``): offsets it moved over past the last record
/// handed out are a gap too, read again like any other.
///
/// Invariant: a gap is kept until it was read again (or given up after ``maxTries``);
/// ``limit(_:)`` never lets a commit pass the start of a gap still kept; a record handed
/// out below the last one (a seek back) drops the gaps it will read through again.
///
/// ```swift
/// var gaps = FetchGaps()
/// gaps.observe(tp, offset: 10, now: t)
/// gaps.observe(tp, offset: 14, now: t)          // a gap: 11..<14
/// gaps.limit([tp: 15])                          // [tp: 11] until it was read again
/// gaps.due(now: t + 1.5)                        // [tp: [11..<14]]
/// gaps.positioned(tp, at: 17, now: t)            // moved over 15..<17 (a marker, or worse)
/// ```
public struct FetchGaps: Sendable {
    /// Offsets `range` of a partition, jumped over at `seen`.
    public struct Gap: Sendable, Equatable {
        public var range: Range<Int64>
        var seen: Date
        var tries = 0
    }

    /// How long after a jump its offsets are read again.
    public var settle: TimeInterval
    /// Reads of one gap before it is given up.
    public var maxTries: Int
    private var last: [TopicPartition: Int64] = [:]
    private var gaps: [TopicPartition: [Gap]] = [:]

    public init(settle: TimeInterval = 1, maxTries: Int = 5) {
        self.settle = settle
        self.maxTries = maxTries
    }

    /// Gaps kept, over every partition.
    public var count: Int { gaps.values.reduce(0) { $0 + $1.count } }

    /// A record at `offset` was handed out.
    public mutating func observe(_ tp: TopicPartition, offset: Int64, now: Date) {
        defer { last[tp] = offset }
        guard let previous = last[tp] else { return }
        if offset > previous + 1 {
            gaps[tp, default: []].append(Gap(range: (previous + 1)..<offset, seen: now))
        } else if offset <= previous {
            // A seek back: the records from here are read again, gaps and all.
            gaps[tp]?.removeAll { $0.range.lowerBound >= offset }
        }
    }

    /// The consumer's position of `tp` (the next offset it will hand out) is `position`:
    /// what lies between the last record handed out and `position` was moved over without
    /// being handed out (end markers, or records hidden behind them), a gap like a jump.
    /// Partitions with no record handed out and no known start since their assignment or
    /// last seek are left alone.
    public mutating func positioned(_ tp: TopicPartition, at position: Int64, now: Date) {
        guard let previous = last[tp], position > previous + 1 else { return }
        gaps[tp, default: []].append(Gap(range: (previous + 1)..<position, seen: now))
        last[tp] = position - 1
    }

    /// Partitions with a record handed out or a known start since their assignment or last
    /// seek: those whose position ``positioned(_:at:now:)`` can compare.
    public var tracked: [TopicPartition] { Array(last.keys) }

    /// `tp` is read from `offset` (an assignment's or a seek's start, or the group's
    /// committed offset): the first record handed out is checked against it, so a batch
    /// skipped right at the start is a gap like any other. A logical offset (negative:
    /// beginning, end, stored) says nothing: the first record is then no jump.
    public mutating func starts(_ tp: TopicPartition, at offset: Int64) {
        last[tp] = offset >= 0 ? offset - 1 : nil
    }

    /// A seek moved `tp`'s position to `offset`: the next record is checked against it
    /// (``starts(_:at:)``), and the gaps from there on are read through again; those below stay.
    public mutating func moved(_ tp: TopicPartition, to offset: Int64) {
        starts(tp, at: offset)
        gaps[tp]?.removeAll { $0.range.lowerBound >= offset }
        if gaps[tp]?.isEmpty == true { gaps[tp] = nil }
    }

    /// `partitions` were assigned or revoked: their gaps are no longer this member's, and
    /// where the next record comes from is no jump until ``starts(_:at:)`` says where
    /// reading starts.
    public mutating func forget(_ partitions: [TopicPartition]) {
        for tp in partitions {
            last[tp] = nil
            gaps[tp] = nil
        }
    }

    /// The whole assignment was dropped: nothing carries over.
    public mutating func forgetAll() {
        last = [:]
        gaps = [:]
    }

    /// Gaps to read again now, by partition, oldest first.
    public func due(now: Date) -> [TopicPartition: [Range<Int64>]] {
        gaps.compactMapValues { list in
            let ranges = list.filter { now.timeIntervalSince($0.seen) >= settle }.map(\.range)
            return ranges.isEmpty ? nil : ranges
        }
    }

    /// `ranges` of `tp` were read again to their end: they are done.
    public mutating func read(_ tp: TopicPartition, _ ranges: [Range<Int64>]) {
        gaps[tp]?.removeAll { ranges.contains($0.range) }
        if gaps[tp]?.isEmpty == true { gaps[tp] = nil }
    }

    /// `ranges` of `tp` could not be read again to their end; returns those given up now.
    public mutating func failed(_ tp: TopicPartition, _ ranges: [Range<Int64>]) -> [Range<Int64>] {
        guard var list = gaps[tp] else { return [] }
        var given: [Range<Int64>] = []
        for i in list.indices where ranges.contains(list[i].range) {
            list[i].tries += 1
            if list[i].tries >= maxTries { given.append(list[i].range) }
        }
        list.removeAll { given.contains($0.range) }
        gaps[tp] = list.isEmpty ? nil : list
        return given
    }

    /// `offsets` (next offsets to commit), none past the start of a gap still kept.
    public func limit(_ offsets: [TopicPartition: Int64]) -> [TopicPartition: Int64] {
        var result = offsets
        for (tp, offset) in offsets {
            if let start = gaps[tp]?.map(\.range.lowerBound).min(), start < offset { result[tp] = start }
        }
        return result
    }
}
