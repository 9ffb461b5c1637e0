extension Delivery {
    /// Whether this delivery is background traffic for dispatch: a retry (`attempt` > 1), a
    /// deferred delivery (`passes` > 0) or a replay (from the DLQ or from history:
    /// `replayID` set). Dispatch never lets background traffic take the share of its
    /// in-flight budget kept for live first attempts (`DispatchStage.Config.freshShare`), so
    /// a backlog of retries or a replay of a week of events cannot starve live deliveries.
    ///
    /// ```swift
    /// var delivery = Delivery(event: event, endpointID: "ep_1", now: Date())
    /// delivery.isBackground                 // false: a live first attempt
    /// delivery.replayed(id: "hr_1", now: Date()).isBackground   // true
    /// ```
    public var isBackground: Bool { attempt > 1 || passes > 0 || replayID != nil }
}
