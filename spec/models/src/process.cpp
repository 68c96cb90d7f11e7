#include "mpconform/spec/process.hpp"

#include <sys/wait.h>

#include <stdexcept>

#include "mpconform/spec/detail/format.hpp"
#include "mpconform/spec/error.hpp"

namespace mpconform::spec {

namespace {

using O = Outcome<ProcessState>;

O returns(Value v, ProcessState next) {
  return O::single(Result::returns(std::move(v)), std::move(next));
}

O raises(PyError e, const ProcessState& unchanged) {
  return O::single(Result::raises(std::move(e)), unchanged);
}

ProcessOp op_of(ProcessOp::Kind k) {
  ProcessOp op;
  op.kind = k;
  return op;
}

}  // namespace

std::string ProcessState::to_string() const {
  std::string out = "Process(";
  switch (phase) {
    case ProcessPhase::initial:
      out += "initial";
      break;
    case ProcessPhase::started:
      out += "started";
      break;
    case ProcessPhase::stopped:
      out += "stopped exitcode=" + (exitcode ? std::to_string(*exitcode) : std::string("None"));
      break;
    case ProcessPhase::closed:
      out += "closed";
      break;
  }
  if (daemon) out += ", daemon";
  return out + ")";
}

ProcessOp ProcessOp::start() { return op_of(Kind::start); }

ProcessOp ProcessOp::join(std::optional<double> timeout) {
  ProcessOp op = op_of(Kind::join);
  op.timeout = timeout;
  return op;
}

ProcessOp ProcessOp::is_alive() { return op_of(Kind::is_alive); }
ProcessOp ProcessOp::exitcode() { return op_of(Kind::exitcode); }
ProcessOp ProcessOp::terminate() { return op_of(Kind::terminate); }
ProcessOp ProcessOp::kill() { return op_of(Kind::kill); }
ProcessOp ProcessOp::close() { return op_of(Kind::close); }
ProcessOp ProcessOp::get_daemon() { return op_of(Kind::get_daemon); }

ProcessOp ProcessOp::set_daemon(bool daemonic) {
  ProcessOp op = op_of(Kind::set_daemon);
  op.flag = daemonic;
  return op;
}

ProcessOp ProcessOp::child_exits(std::int64_t exitcode) {
  ProcessOp op = op_of(Kind::child_exits);
  op.code = exitcode;
  return op;
}

std::string ProcessOp::to_string() const {
  switch (kind) {
    case Kind::start:
      return "p.start()";
    case Kind::join:
      return timeout ? "p.join(timeout=" + py_float_repr(*timeout) + ")" : "p.join()";
    case Kind::is_alive:
      return "p.is_alive()";
    case Kind::exitcode:
      return "p.exitcode";
    case Kind::terminate:
      return "p.terminate()";
    case Kind::kill:
      return "p.kill()";
    case Kind::close:
      return "p.close()";
    case Kind::get_daemon:
      return "p.daemon";
    case Kind::set_daemon:
      return "p.daemon = " + detail::py_bool(flag);
    case Kind::child_exits:
      return "<child exits: exitcode=" + std::to_string(code) + ">";
  }
  return "p.?";
}

Outcome<ProcessState> step(const ProcessState& s, const ProcessOp& op) {
  using K = ProcessOp::Kind;
  using P = ProcessPhase;
  // Calls that do not go through _check_closed().
  switch (op.kind) {
    case K::get_daemon:
      return returns(Value::boolean(s.daemon), s);
    case K::set_daemon: {
      // `assert self._popen is None`: true before start and again after close().
      if (s.phase == P::started || s.phase == P::stopped) {
        return raises(errors::assertion_error(errors::kAlreadyStarted), s);
      }
      ProcessState next = s;
      next.daemon = op.flag;
      return returns(Value::none(), std::move(next));
    }
    case K::close: {
      if (s.phase == P::started) return raises(errors::value_error(errors::kCloseRunning), s);
      ProcessState next = s;
      next.phase = P::closed;
      next.exitcode.reset();
      return returns(Value::none(), std::move(next));
    }
    case K::child_exits: {
      if (s.phase != P::started) {
        return O::illegal("a child can only exit once, after start(); the process is " +
                          s.to_string());
      }
      ProcessState next = s;
      next.phase = P::stopped;
      next.exitcode = op.code;
      return returns(Value::none(), std::move(next));
    }
    default:
      break;
  }
  if (s.phase == P::closed) return raises(errors::value_error(errors::kProcessClosed), s);
  switch (op.kind) {
    case K::start: {
      if (s.phase != P::initial) return raises(errors::assertion_error(errors::kStartTwice), s);
      ProcessState next = s;
      next.phase = P::started;
      return returns(Value::none(), std::move(next));
    }
    case K::join:
      if (s.phase == P::initial) return raises(errors::assertion_error(errors::kJoinUnstarted), s);
      if (s.phase == P::started && !op.timeout) return O::single(Result::blocks(), s);
      return returns(Value::none(), s);  // a timed join of a running child returns None too
    case K::is_alive:
      return returns(Value::boolean(s.phase == P::started), s);
    case K::exitcode:
      if (s.phase == P::stopped && s.exitcode) return returns(Value::integer(*s.exitcode), s);
      return returns(Value::none(), s);
    case K::terminate:
    case K::kill:
      if (s.phase == P::initial) {
        const char* method = op.kind == K::terminate ? "terminate" : "kill";
        return raises(errors::attribute_error(std::string("'NoneType' object has no attribute '") +
                                              method + "'"),
                      s);
      }
      return returns(Value::none(), s);
    default:
      break;
  }
  return O::illegal("unknown Process operation");
}

std::int64_t exitcode_from_wait_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -static_cast<std::int64_t>(WTERMSIG(status));
  throw std::invalid_argument("wait status of a child that has not terminated");
}

std::int64_t exitcode_from_exit_status(std::int64_t n) { return n & 0xFF; }

std::int64_t exitcode_from_signal(int signum) { return -static_cast<std::int64_t>(signum); }

std::int64_t exitcode_from_sys_exit(const Value& arg) {
  if (arg.is_none()) return 0;
  if (arg.is_bool()) return arg.as_bool() ? 1 : 0;
  if (arg.is_int()) {
    // CPython converts to a C int, then the OS keeps the low byte.
    return static_cast<std::int64_t>(arg.as_int() & 0xFF);
  }
  return 1;
}

}  // namespace mpconform::spec
