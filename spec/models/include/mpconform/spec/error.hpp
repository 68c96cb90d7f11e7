#pragma once
// A Python exception as data: class name and exact str(). The models say which exception an
// operation raises with these, and the harness compares them with what an implementation
// raised (mpref's exceptions report the same (python_type, what()) pair).
#include <string>
#include <utility>

namespace mpconform::spec {

struct PyError {
  // The Python class, module-qualified unless builtin: "ValueError", "queue.Full",
  // "BrokenPipeError" (the same spelling as spec/clauses/*.json "raises.type").
  std::string type;
  // str(exc), exactly. Two placeholders stand for run-dependent text (as in the clause files):
  // "0x…" matches a hexadecimal address ("0x7f3a..."), "<pid>" matches a decimal number.
  std::string message;

  // True when `observed` (a concrete exception) is an instance of this pattern: the same type
  // and a message that matches with the placeholders expanded. Subclasses do not match
  // (BrokenPipeError is not accepted where OSError is expected): conformance is exact.
  bool matches(const PyError& observed) const;

  // Python's repr: ValueError('task_done() called too many times'), queue.Empty().
  std::string repr() const;

  friend bool operator==(const PyError&, const PyError&) = default;
};

// True when `text` matches `pattern`, where "0x…" (U+2026) in the pattern matches "0x" followed
// by one or more hex digits and "<pid>" matches one or more decimal digits. Each placeholder
// also matches itself, so a pattern admits itself (a model's own result checks against it).
bool message_matches(const std::string& pattern, const std::string& text);

// The exceptions the models raise, with CPython 3.11's exact messages.
namespace errors {
inline constexpr const char* kReleasedTooManyTimes = "semaphore or lock released too many times";
inline constexpr const char* kRLockNotOwned =
    "attempt to release recursive lock not owned by thread";
inline constexpr const char* kHandleClosed = "handle is closed";
inline constexpr const char* kReadOnly = "connection is read-only";
inline constexpr const char* kWriteOnly = "connection is write-only";
inline constexpr const char* kBadMessageLength = "bad message length";
inline constexpr const char* kTaskDoneTooMany = "task_done() called too many times";
inline constexpr const char* kInvalidIndex = "invalid index";
inline constexpr const char* kSameSize = "Can only assign sequence of same size";
inline constexpr const char* kProcessClosed = "process object is closed";
inline constexpr const char* kStartTwice = "cannot start a process twice";
inline constexpr const char* kJoinUnstarted = "can only join a started process";
inline constexpr const char* kAlreadyStarted = "process has already started";
inline constexpr const char* kCloseRunning =
    "Cannot close a process while it is still running. You should first call join() or "
    "terminate().";

inline PyError full() { return {"queue.Full", ""}; }
inline PyError empty() { return {"queue.Empty", ""}; }
inline PyError eof() { return {"EOFError", ""}; }
inline PyError value_error(std::string message) { return {"ValueError", std::move(message)}; }
inline PyError os_error(std::string message) { return {"OSError", std::move(message)}; }
inline PyError assertion_error(std::string message) {
  return {"AssertionError", std::move(message)};
}
inline PyError type_error(std::string message) { return {"TypeError", std::move(message)}; }
inline PyError index_error(std::string message) { return {"IndexError", std::move(message)}; }
inline PyError overflow_error(std::string message) { return {"OverflowError", std::move(message)}; }
inline PyError attribute_error(std::string message) {
  return {"AttributeError", std::move(message)};
}
// BrokenPipeError(32, 'Broken pipe'): str() is "[Errno 32] Broken pipe".
inline PyError broken_pipe() { return {"BrokenPipeError", "[Errno 32] Broken pipe"}; }
// OverflowError raised when a Python int does not fit a C int (Queue(2**31), Semaphore(2**31)).
inline PyError c_int_overflow() {
  return overflow_error("Python int too large to convert to C int");
}
}  // namespace errors

}  // namespace mpconform::spec
