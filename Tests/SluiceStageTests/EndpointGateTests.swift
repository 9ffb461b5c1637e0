import Foundation
import SluiceCore
import Testing

@testable import SluiceStage

@Suite("Endpoint gate")
struct EndpointGateTests {
    let endpoint: Endpoint = {
        var e = Endpoint(id: "ep_1", tenant: "acme", url: "https://x.test/", filter: .all, sealedSecret: "s")
        e.concurrency = 2
        return e
    }()
    let t0 = Date(timeIntervalSince1970: 1_000)

    func gate() -> EndpointGate<Int> {
        EndpointGate(defaultLimit: 16, bufferLimit: 3, circuitThreshold: 100, circuitCoolDown: .seconds(30), disableWindow: .seconds(86_400), slowAfter: 1)
    }

    @Test("past its limit a delivery waits; past the buffer it waits until the endpoint counts as slow, then is deferred; a finish wakes the first waiter")
    func limitAndBuffer() {
        var gate = gate()
        #expect(gate.admit(endpoint, now: t0, congested: true, waiter: 1).0 == .send(probe: false))
        #expect(gate.admit(endpoint, now: t0, congested: true, waiter: 2).0 == .send(probe: false))
        for w in 3...5 { #expect(gate.admit(endpoint, now: t0, congested: true, waiter: w).0 == .wait) }
        #expect(gate.admit(endpoint, now: t0, congested: true, waiter: 6).0 == .wait, "no answer yet, not slow yet: the burst waits")
        #expect(gate.admit(endpoint, now: t0.addingTimeInterval(1.5), congested: false, waiter: 7).0 == .deferFor(.seconds(1), reason: "buffer_full"),
                "no answer for 1.5 s: past the buffer, deferred")
        #expect(gate.finish(endpoint, success: true, now: t0.addingTimeInterval(1.6)).wake == 3)
        #expect(gate.waitingCount == 3, "4, 5 and 6 still wait (the metric sluice_dispatch_gate_waiting)")
    }

    @Test("past its buffer a fast endpoint keeps its burst while the queue drains within slowAfter; a slow one is deferred")
    func bufferOfFastEndpoint() {
        var gate = gate()
        // Two answers in 10 ms: the endpoint sends its 2 slots' worth every 10 ms.
        for w in 1...2 { #expect(gate.admit(endpoint, now: t0, congested: true, waiter: w).0 == .send(probe: false)) }
        for _ in 1...2 { _ = gate.finish(endpoint, success: true, now: t0, load: .ok, latency: .milliseconds(10)) }
        for w in 1...2 { #expect(gate.admit(endpoint, now: t0, congested: true, waiter: w).0 == .send(probe: false)) }
        for w in 3...150 { #expect(gate.admit(endpoint, now: t0, congested: true, waiter: w).0 == .wait, "waiter \(w)") }
        // 148 queued at 10 ms per 2 take 0.74 s; at 200 queued (1 s) the next is deferred.
        for w in 151...202 { _ = gate.admit(endpoint, now: t0, congested: true, waiter: w) }
        #expect(gate.admit(endpoint, now: t0, congested: true, waiter: 203).0 == .deferFor(.seconds(1), reason: "buffer_full"))

        var slow = self.gate()
        for w in 1...2 { _ = slow.admit(endpoint, now: t0, congested: true, waiter: w) }
        for _ in 1...2 { _ = slow.finish(endpoint, success: true, now: t0, load: .ok, latency: .milliseconds(900)) }
        for w in 1...5 { _ = slow.admit(endpoint, now: t0, congested: true, waiter: w) }
        #expect(slow.admit(endpoint, now: t0, congested: true, waiter: 6).0 == .deferFor(.seconds(1), reason: "buffer_full"),
                "3 queued at 0.9 s per 2 would take over a second")
    }

    @Test("an endpoint with every slot taken and no answer for a second is slow: new deliveries are deferred and its waiters woken one by one to be deferred too")
    func slowEndpoint() {
        var gate = gate()
        _ = gate.admit(endpoint, now: t0, congested: true, waiter: 1)
        _ = gate.admit(endpoint, now: t0, congested: true, waiter: 2)
        #expect(gate.admit(endpoint, now: t0.addingTimeInterval(0.5), congested: true, waiter: 3).0 == .wait, "not slow yet")
        #expect(gate.admit(endpoint, now: t0.addingTimeInterval(0.6), congested: true, waiter: 4).0 == .wait)
        let (admission, wake) = gate.admit(endpoint, now: t0.addingTimeInterval(1.5), congested: true, waiter: 5)
        #expect(admission == .deferFor(.seconds(5), reason: "endpoint_slow"))
        #expect(wake == 3, "the first waiter asks again")
        let (again, next) = gate.admit(endpoint, now: t0.addingTimeInterval(1.5), congested: true, waiter: 3)
        #expect(again == .deferFor(.seconds(5), reason: "endpoint_slow") && next == 4, "and is deferred, waking the next")
        // An answer is progress: the endpoint is not slow any more.
        _ = gate.finish(endpoint, success: true, now: t0.addingTimeInterval(2))
        #expect(gate.admit(endpoint, now: t0.addingTimeInterval(2.1), congested: true, waiter: 7).0 == .send(probe: false))
        #expect(gate.admit(endpoint, now: t0.addingTimeInterval(2.2), congested: true, waiter: 8).0 == .wait)
    }

    @Test("without congestion a slow endpoint keeps its waiters: a healthy endpoint slow under load is not sent round a tier")
    func slowWithoutCongestion() {
        var gate = gate()
        _ = gate.admit(endpoint, now: t0, congested: false, waiter: 1)
        _ = gate.admit(endpoint, now: t0, congested: false, waiter: 2)
        #expect(gate.admit(endpoint, now: t0.addingTimeInterval(5), congested: false, waiter: 3).0 == .wait)
        #expect(gate.admit(endpoint, now: t0.addingTimeInterval(5), congested: true, waiter: 4) == (.deferFor(.seconds(5), reason: "endpoint_slow"), 3),
                "congestion makes the same endpoint shed its waiters")
    }

    @Test("the periodic sweep wakes the waiters of slow endpoints only, even when nothing new arrives for them")
    func sweep() {
        var gate = gate()
        var other = endpoint
        other.id = "ep_2"
        for (e, w) in [(endpoint, 1), (endpoint, 2), (endpoint, 3), (other, 11), (other, 12), (other, 13)] { _ = gate.admit(e, now: t0, congested: true, waiter: w) }
        _ = gate.finish(other, success: true, now: t0.addingTimeInterval(1.2))  // ep_2 answers: not slow; wakes 13
        #expect(gate.wakeSlow(now: t0.addingTimeInterval(1.5)) == [3])
        #expect(gate.admit(endpoint, now: t0.addingTimeInterval(1.5), congested: true, waiter: 3).0 == .deferFor(.seconds(5), reason: "endpoint_slow"))
        #expect(gate.wakeSlow(now: t0.addingTimeInterval(1.6)).isEmpty)
    }

    @Test("waiting deliveries are taken off their queues as picked (a revoke: those of its partitions; a stop: all); the rest keep their order")
    func takeWaiting() {
        var gate = gate()
        var other = endpoint
        other.id = "ep_2"
        // Limit 2 each: 1, 2 and 11, 12 are sent; the others wait.
        for (e, w) in [(endpoint, 1), (endpoint, 2), (endpoint, 3), (endpoint, 4), (endpoint, 5), (endpoint, 6), (other, 11), (other, 12), (other, 13)] {
            _ = gate.admit(e, now: t0, congested: false, waiter: w)
        }
        #expect(gate.takeWaiting { $0 % 2 == 0 }.sorted() == [4, 6], "a revoke's pick: the even ones")
        #expect(gate.finish(endpoint, success: true, now: t0.addingTimeInterval(0.1)).wake == 3, "the rest wake in order")
        #expect(gate.finish(endpoint, success: true, now: t0.addingTimeInterval(0.1)).wake == 5)
        #expect(gate.takeWaiting { _ in true } == [13], "a stop takes all that is left")
        #expect(gate.finish(other, success: true, now: t0.addingTimeInterval(0.1)).wake == nil, "and a finish then wakes none")
        #expect(gate.takeWaiting { _ in true }.isEmpty)
        #expect(gate.admit(endpoint, now: t0.addingTimeInterval(0.2), congested: false, waiter: 7).0 == .send(probe: false), "a freed slot is taken by the next to ask")
    }

    @Test("a disable takes effect at once and once: one revision, waiters woken to be refused, cleared by a newer revision")
    func disableOnce() {
        var gate = gate()
        _ = gate.admit(endpoint, now: t0, congested: false, waiter: 1)
        _ = gate.admit(endpoint, now: t0, congested: false, waiter: 2)
        #expect(gate.admit(endpoint, now: t0, congested: false, waiter: 3).0 == .wait)
        let first = gate.disable(endpoint)
        #expect(first.first && first.wake == [3])
        #expect(!gate.disable(endpoint).first, "a second 410 in flight writes nothing more")
        #expect(gate.isDisabledHere(endpoint))
        #expect(gate.admit(endpoint, now: t0, congested: false, waiter: 4).0 == .disabled)
        var enabledAgain = endpoint
        enabledAgain.revision += 2
        #expect(!gate.isDisabledHere(enabledAgain))
        _ = gate.finish(endpoint, success: true, now: t0)
        #expect(gate.admit(enabledAgain, now: t0, congested: false, waiter: 5).0 == .send(probe: false))
    }

    @Test("the limit adapts: it starts at the initial limit, grows while the endpoint keeps up, halves on overload, never past the endpoint's maximum")
    func adaptiveLimit() {
        var gate = EndpointGate<Int>(defaultLimit: 8, initialLimit: 2, bufferLimit: 100, circuitThreshold: 100, circuitCoolDown: .seconds(30), disableWindow: .seconds(86_400))
        var open = endpoint
        open.concurrency = nil
        var now = t0
        var sent = 0
        while gate.admit(open, now: now, congested: false, waiter: 0).0 == .send(probe: false) { sent += 1 }
        #expect(sent == 2, "starts at the initial limit")
        var answered = 0
        while gate.currentLimit(open.id) ?? 0 < 8, answered < 500 {
            _ = gate.finish(open, success: true, now: now, load: .ok, latency: .milliseconds(20))
            answered += 1
            now += 0.005
            // The woken waiter and new deliveries ask again: the endpoint stays busy.
            while gate.admit(open, now: now, congested: false, waiter: 0).0 == .send(probe: false) {}
        }
        #expect(gate.currentLimit(open.id) == 8 && answered < 60, "grew to its maximum after \(answered) answers")
        for _ in 0..<8 { _ = gate.finish(open, success: false, now: now, load: .overloaded, latency: .seconds(15)) }
        #expect(gate.currentLimit(open.id) == 4, "halved once for a window of timeouts")
    }

    @Test("a probe the rate limit defers was never sent: the circuit does not wait for its result, and the next delivery with a token probes")
    func probeDeferredByRateLimit() {
        var gate = EndpointGate<Int>(defaultLimit: 16, circuitThreshold: 1, circuitCoolDown: .seconds(30), disableWindow: .seconds(86_400))
        var limited = endpoint
        limited.rateLimit = 0.01  // one token per 100 s
        #expect(gate.admit(limited, now: t0, congested: false, waiter: 1).0 == .send(probe: false))
        _ = gate.finish(limited, success: false, now: t0)  // the circuit opens for 30 s
        let deferred = gate.admit(limited, now: t0.addingTimeInterval(31), congested: false, waiter: 2).0
        let probe = gate.admit(limited, now: t0.addingTimeInterval(101), congested: false, waiter: 3).0
        #expect(deferred == .deferFor(.milliseconds(69_000), reason: "rate_limit"))
        #expect(probe == .send(probe: true), "not circuit_open: no probe was in flight")
    }

    @Test("while the circuit is open or probing, a delivery that finds no slot is deferred until a probe could answer, never queued behind the probe")
    func probingCircuitDefers() {
        var gate = EndpointGate<Int>(defaultLimit: 16, circuitThreshold: 1, circuitCoolDown: .seconds(30), disableWindow: .seconds(86_400))
        var single = endpoint
        single.concurrency = 1  // a black hole's adaptive limit falls to one
        #expect(gate.admit(single, now: t0, congested: false, waiter: 1).0 == .send(probe: false))
        #expect(gate.admit(single, now: t0, congested: false, waiter: 2).0 == .wait, "closed and busy: a delivery waits")
        let opened = gate.finish(single, success: false, now: t0)
        #expect(opened.circuit == .opened(until: t0.addingTimeInterval(30)) && opened.wake == 2)
        #expect(gate.admit(single, now: t0.addingTimeInterval(10), congested: false, waiter: 2).0 == .deferFor(.seconds(20), reason: "circuit_open"))
        #expect(gate.admit(single, now: t0.addingTimeInterval(31), congested: false, waiter: 3).0 == .send(probe: true))
        for (w, at) in [(4, 32.0), (5, 40.0)] {
            #expect(gate.admit(single, now: t0.addingTimeInterval(at), congested: false, waiter: w).0 == .deferFor(.seconds(30), reason: "circuit_open"),
                    "the probe holds the only slot: deferred for a first cool-down, not queued")
        }
        #expect(gate.waitingCount == 0, "\(gate.describe(single.id))")
        #expect(gate.finish(single, success: true, now: t0.addingTimeInterval(41)).circuit == .closed)
        #expect(gate.admit(single, now: t0.addingTimeInterval(41), congested: false, waiter: 6).0 == .send(probe: false))
        #expect(gate.admit(single, now: t0.addingTimeInterval(41), congested: false, waiter: 7).0 == .wait, "closed again: a busy endpoint's deliveries wait")
    }

    @Test("a probe with a timeout longer than the first cool-down: deliveries come back once it must have answered, never every cool-down meanwhile")
    func longProbeDefers() {
        var gate = EndpointGate<Int>(defaultLimit: 16, circuitThreshold: 1, circuitCoolDown: .milliseconds(100), disableWindow: .seconds(86_400),
                                     requestTimeout: .seconds(15))
        var hole = endpoint
        hole.concurrency = 1  // a black hole's adaptive limit falls to one
        hole.timeoutMs = 5_000
        #expect(gate.admit(hole, now: t0, congested: false, waiter: 1).0 == .send(probe: false))
        #expect(gate.finish(hole, success: false, now: t0).circuit == .opened(until: t0.addingTimeInterval(0.1)))
        let sent = t0.addingTimeInterval(0.2)
        #expect(gate.admit(hole, now: sent, congested: false, waiter: 2).0 == .send(probe: true))
        // The probe holds the only slot: deferred until the probe's 5 s are up.
        #expect(gate.admit(hole, now: sent.addingTimeInterval(1), congested: false, waiter: 3).0 == .deferFor(.seconds(4), reason: "circuit_open"))
        // With slots free, the breaker's own answer says the same.
        var wide = hole
        wide.id = "ep_wide"
        wide.concurrency = 4
        #expect(gate.admit(wide, now: t0, congested: false, waiter: 4).0 == .send(probe: false))
        _ = gate.finish(wide, success: false, now: t0)
        #expect(gate.admit(wide, now: sent, congested: false, waiter: 4).0 == .send(probe: true))
        #expect(gate.admit(wide, now: sent.addingTimeInterval(2), congested: false, waiter: 4).0 == .deferFor(.seconds(3), reason: "circuit_open"))
        // Without its own timeout the stage's is the bound.
        var plain = hole
        plain.id = "ep_plain"
        plain.timeoutMs = nil
        #expect(gate.admit(plain, now: t0, congested: false, waiter: 5).0 == .send(probe: false))
        _ = gate.finish(plain, success: false, now: t0)
        #expect(gate.admit(plain, now: sent, congested: false, waiter: 6).0 == .send(probe: true))
        #expect(gate.admit(plain, now: sent.addingTimeInterval(1), congested: false, waiter: 7).0 == .deferFor(.seconds(14), reason: "circuit_open"))
        #expect(gate.waitingCount == 0)
    }

    @Test("the waiting counts follow every way in and out of a queue: waiting, woken by a finish, a disable, a sweep and a revoke; background ones apart")
    func waitingCounts() {
        // Odd waiters are background (retries): the stage keeps them out of its retry budget.
        var gate = EndpointGate<Int>(defaultLimit: 16, bufferLimit: 100, circuitThreshold: 100, circuitCoolDown: .seconds(30), disableWindow: .seconds(86_400),
                                     isBackground: { $0 % 2 == 1 })
        var other = endpoint
        other.id = "ep_2"
        for w in 1...2 { _ = gate.admit(endpoint, now: t0, congested: false, waiter: 100 + w) }
        for w in 1...2 { _ = gate.admit(other, now: t0, congested: false, waiter: 200 + w) }
        for w in 1...6 { #expect(gate.admit(endpoint, now: t0, congested: false, waiter: w).0 == .wait) }
        for w in 7...10 { #expect(gate.admit(other, now: t0, congested: false, waiter: w).0 == .wait) }
        #expect((gate.waitingCount, gate.backgroundWaiting) == (10, 5))
        #expect(gate.finish(endpoint, success: true, now: t0).wake == 1)
        #expect((gate.waitingCount, gate.backgroundWaiting) == (9, 4))
        #expect(gate.takeWaiting(where: { $0 == 2 || $0 == 3 }) == [2, 3])
        #expect((gate.waitingCount, gate.backgroundWaiting) == (7, 3))
        #expect(gate.disable(other).wake == [7, 8, 9, 10])
        #expect((gate.waitingCount, gate.backgroundWaiting) == (3, 1))
        #expect(gate.wakeSlow(now: t0.addingTimeInterval(5)) == [4, 5, 6], "no answer for 5 s: slow, its waiters taken")
        #expect((gate.waitingCount, gate.backgroundWaiting) == (0, 0))
        #expect(gate.admit(endpoint, now: t0.addingTimeInterval(5), congested: true, waiter: 11).0 == .send(probe: false), "the slot waiter 1 left")
        #expect(gate.admit(endpoint, now: t0.addingTimeInterval(5), congested: true, waiter: 13).0 == .deferFor(.seconds(5), reason: "endpoint_slow"))
        #expect((gate.waitingCount, gate.backgroundWaiting) == (0, 0), "a deferred delivery never entered a queue")
    }

    @Test("a straggler is an endpoint slower than the bound of late, or whose circuit is not closed; an unknown or fast one is not")
    func stragglers() {
        var gate = EndpointGate<Int>(defaultLimit: 16, bufferLimit: 3, circuitThreshold: 2, circuitCoolDown: .seconds(30), disableWindow: .seconds(86_400), slowAfter: 1)
        #expect(!gate.isStraggling("ep_1", slowerThan: 0.1), "never seen")
        for _ in 1...3 {
            _ = gate.admit(endpoint, now: t0, congested: false, waiter: 1)
            _ = gate.finish(endpoint, success: true, now: t0, load: .ok, latency: .milliseconds(20))
        }
        #expect(!gate.isStraggling("ep_1", slowerThan: 0.1), "answers in 20 ms")
        for _ in 1...8 {
            _ = gate.admit(endpoint, now: t0, congested: false, waiter: 1)
            _ = gate.finish(endpoint, success: true, now: t0, load: .ok, latency: .milliseconds(900))
        }
        #expect(gate.isStraggling("ep_1", slowerThan: 0.1), "answers in 900 ms of late")

        var other = Endpoint(id: "ep_2", tenant: "acme", url: "https://y.test/", filter: .all, sealedSecret: "s")
        other.concurrency = 4
        for _ in 1...2 {
            _ = gate.admit(other, now: t0, congested: false, waiter: 2)
            _ = gate.finish(other, success: false, now: t0)
        }
        #expect(gate.isStraggling("ep_2", slowerThan: 0.1), "two failures in a row opened its circuit")
    }
}
