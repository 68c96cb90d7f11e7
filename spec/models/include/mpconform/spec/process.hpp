#pragma once
// Sequential model of the multiprocessing.Process life cycle, as seen by the process that
// created it (CPython 3.11, Lib/multiprocessing/process.py with popen_fork.py):
//
//   initial --start()--> started --<child exits>--> stopped(exitcode) --close()--> closed
//   initial --close()--> closed
//
// The child's exit is not a call the parent makes: it is an environment event,
// ProcessOp::child_exits(exitcode), which a harness steps when it learns (waitpid) that the
// child ended. The exitcode of the event is computed with the helpers at the end of this file.
//
// The checks are Python `assert`s in CPython, so the AssertionErrors below vanish under
// `python -O` (P-OPT-1); the model is the normal (non -O) behaviour. Not modelled: names,
// pid/ident/sentinel values, joining from a non-parent, daemonic parents (P-DAEMON-3), and
// signals the child ignores (terminate() only requests; the exit event decides).
#include <cstdint>
#include <optional>
#include <string>

#include "mpconform/spec/outcome.hpp"
#include "mpconform/spec/value.hpp"

namespace mpconform::spec {

enum class ProcessPhase { initial, started, stopped, closed };

struct ProcessState {
  // Process(daemon=...): initial, exitcode None.
  static ProcessState make(bool daemon = false) {
    ProcessState s;
    s.daemon = daemon;
    return s;
  }

  ProcessPhase phase = ProcessPhase::initial;
  std::optional<std::int64_t> exitcode;  // set iff phase == stopped
  bool daemon = false;

  // "Process(initial)", "Process(started, daemon)", "Process(stopped exitcode=-15)".
  std::string to_string() const;
  friend bool operator==(const ProcessState&, const ProcessState&) = default;
};

struct ProcessOp {
  enum class Kind {
    start,
    join,  // join(timeout)
    is_alive,
    exitcode,  // the exitcode property
    terminate,
    kill,
    close,
    get_daemon,   // p.daemon
    set_daemon,   // p.daemon = flag
    child_exits,  // environment event: the child ended with `code`
  };
  Kind kind = Kind::is_alive;
  std::optional<double> timeout;  // join; nullopt = None
  bool flag = false;              // set_daemon
  std::int64_t code = 0;          // child_exits

  static ProcessOp start();
  static ProcessOp join(std::optional<double> timeout = {});
  static ProcessOp is_alive();
  static ProcessOp exitcode();
  static ProcessOp terminate();
  static ProcessOp kill();
  static ProcessOp close();
  static ProcessOp get_daemon();
  static ProcessOp set_daemon(bool daemonic);
  static ProcessOp child_exits(std::int64_t exitcode);

  // "p.start()", "p.join(timeout=0.5)", "p.exitcode", "p.daemon = True",
  // "<child exits: exitcode=-15>".
  std::string to_string() const;
  friend bool operator==(const ProcessOp&, const ProcessOp&) = default;
};

// step(state, op). On a closed process every op but close, get_daemon and set_daemon raises
// ValueError('process object is closed') (P-CLOSE-3).
//  - start(): initial -> None, started; started/stopped -> AssertionError('cannot start a
//    process twice') (P-START-1).
//  - join(timeout) -> None always (P-JOIN-1): initial -> AssertionError('can only join a
//    started process') (P-JOIN-2); started: timeout None -> blocks, any other timeout
//    (0 and negative return at once) -> None, still started; stopped -> None.
//  - is_alive(): initial -> False, started -> True, stopped -> False (P-ALIVE-1).
//  - exitcode: initial and started -> None; stopped -> the code (P-PID-1, P-EXIT-3).
//  - terminate()/kill(): initial -> AttributeError("'NoneType' object has no attribute
//    'terminate'") / ('kill') (P-TERM-2, P-TERM-6); started, stopped -> None, no change (the
//    signal's effect is a later child_exits event; P-TERM-1, P-TERM-3).
//  - close(): started -> ValueError('Cannot close a process while it is still running. You
//    should first call join() or terminate().'); initial, stopped, closed -> None, closed
//    (repeatable).
//  - daemon: reading always works (also when closed). Setting in started/stopped ->
//    AssertionError('process has already started') (P-DAEMON-2); in initial -> None. After
//    close() the assert passes again (CPython clears _popen), so setting succeeds.
//  - child_exits(code): only in started (-> stopped with that exitcode, result None);
//    illegal anywhere else: a child that was never started, or already ended, cannot exit.
Outcome<ProcessState> step(const ProcessState& state, const ProcessOp& op);

struct ProcessModel {
  using State = ProcessState;
  using Op = ProcessOp;
  static Outcome<State> step(const State& s, const Op& op) { return spec::step(s, op); }
};

// Exit code mapping (popen_fork.py via os.waitstatus_to_exitcode; P-EXIT-7, P-EXIT-9, P-EXIT-2).

// From a waitpid() status: exited -> the exit status (WEXITSTATUS, 0..255); killed by a
// signal -> -signum. Requires: a status of a terminated child (WIFEXITED or WIFSIGNALED);
// throws std::invalid_argument otherwise (stopped/continued statuses).
std::int64_t exitcode_from_wait_status(int status);

// The exitcode a child gets from _exit(n) or sys.exit(n) with an int n: n & 0xFF
// (-1 -> 255, 256 -> 0, 300 -> 44).
std::int64_t exitcode_from_exit_status(std::int64_t n);

// The exitcode of a child killed by signal `signum`: -signum (terminate() -> -15,
// kill() -> -9). SIGINT is not this: Python turns it into KeyboardInterrupt, exitcode 1.
std::int64_t exitcode_from_signal(int signum);

// The exitcode a child gets from sys.exit(arg) (P-EXIT-6): None and False -> 0, True -> 1,
// an int -> n & 0xFF, anything else (a message) -> 1 (the message goes to stderr).
std::int64_t exitcode_from_sys_exit(const Value& arg);

}  // namespace mpconform::spec
