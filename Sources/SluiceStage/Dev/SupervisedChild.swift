import CProcess
import Foundation
import SluiceCore

#if canImport(Glibc)
import Glibc
#endif

/// A child process of `sluice dev` that must not outlive it, however the supervisor ends:
/// Ctrl-C, SIGTERM, SIGKILL, a crash, SIGPIPE.
///
/// The supervisor passes its pid in `SLUICE_SUPERVISOR_PID`. ``bind()`` then, on a thread
/// of its own that lives as long as the process:
/// 1. asks the kernel for SIGTERM when the parent dies (`PR_SET_PDEATHSIG`), so the child
///    stops as on Ctrl-C: a stage finishes its batch and leaves its group;
/// 2. checks that the parent is still the supervisor (it may have died before step 1) and
///    sends itself SIGTERM if not;
/// 3. keeps checking every 250 ms; once the process is orphaned, it ends it with `_exit`
///    after ``grace`` if the graceful stop has not finished by then (a stage may wait on a
///    broker that died with the supervisor).
///
/// Invariant: a process that called ``bind()`` with `SLUICE_SUPERVISOR_PID` set exits
/// within ``grace`` (plus 250 ms) of its supervisor's death.
///
/// Why a thread of its own: Linux ties the parent-death signal to threads at both ends.
/// The setting belongs to the thread that makes it (a task's pool thread may retire when
/// idle, taking the setting with it), and the signal fires when the *thread* that spawned
/// this process exits. The supervisor spawns through swift-subprocess, which spawns from
/// one dedicated thread that lives until the process exits, so that end holds too.
///
/// ```swift
/// SupervisedChild.bind()   // first thing in a stage; nothing happens outside `sluice dev`
/// ```
public enum SupervisedChild {
    /// Where the supervisor puts its pid.
    public static let environmentKey = "SLUICE_SUPERVISOR_PID"
    /// How long an orphaned child may take to stop by itself.
    public static let grace: Duration = .seconds(10)

    /// The supervisor's pid, when this process was started by one.
    public static func supervisor(in environment: [String: String] = ProcessInfo.processInfo.environment) -> pid_t? {
        guard let text = environment[environmentKey], let pid = pid_t(text), pid > 1 else { return nil }
        return pid
    }

    /// Binds this process's life to its supervisor's (once; nothing without
    /// `SLUICE_SUPERVISOR_PID`). Returns once the parent-death signal is set.
    public static func bind() { _ = bound }

    private static let bound: Void = {
        guard let supervisor = supervisor() else { return }
        let ready = DispatchSemaphore(value: 0)
        let thread = Thread { watch(supervisor, ready: ready) }
        thread.name = "sluice-supervisor-watch"
        thread.start()
        ready.wait()
    }()

    private static func watch(_ supervisor: pid_t, ready: DispatchSemaphore) {
        let armed = sluice_set_parent_death_signal(SIGTERM) == 0
        ready.signal()
        // Orphaned already: the supervisor died before the signal was set.
        let early = getppid() != supervisor
        if early { kill(getpid(), SIGTERM) }
        while getppid() == supervisor { usleep(250_000) }
        if !armed && !early { kill(getpid(), SIGTERM) }  // no signal came: stop as if it had
        // Nothing is written here: the standard streams were pipes to the supervisor, and
        // a write to them now would end the process by SIGPIPE before its graceful stop.
        let grace = SupervisedChild.grace.components
        usleep(useconds_t(grace.seconds * 1_000_000 + grace.attoseconds / 1_000_000_000_000))
        _exit(1)
    }

    /// Replaces this process with `command` (`[path, arguments…]`), tied to the supervisor
    /// by the parent-death signal, which survives `execve`: how `sluice dev` runs a foreign
    /// program such as Tansu. Exits 1 at once if the supervisor is gone already.
    public static func exec(_ command: [String]) throws -> Never {
        guard let program = command.first else { throw CLIError("supervised-exec: no program given") }
        guard let supervisor = supervisor() else {
            throw CLIError("supervised-exec: \(environmentKey) is not set (only `sluice dev` runs this)")
        }
        // The setting belongs to this thread, which is the one that execs (and then the
        // only one left).
        guard sluice_set_parent_death_signal(SIGTERM) == 0 else {
            throw CLIError("supervised-exec: cannot set the parent-death signal: \(String(cString: strerror(errno)))")
        }
        guard getppid() == supervisor else { exit(1) }
        // The program inherits this thread's signal mask and ignored signals, and a Swift
        // process blocks most signals on its pool threads: Tansu started that way never
        // sees SIGTERM. It starts with none blocked and default dispositions.
        var none = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, nil)
        for number: Int32 in 1..<32 where number != SIGKILL && number != SIGSTOP { signal(number, SIG_DFL) }
        let argv = command.map { strdup($0) } + [nil]
        execv(program, argv)
        throw CLIError("supervised-exec: cannot run \(program): \(String(cString: strerror(errno)))")
    }
}
