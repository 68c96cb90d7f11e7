#pragma once
// mpref/errors.hpp: the exceptions mpref throws, one class per Python exception class.
//
// Each class is named after the Python exception that CPython's multiprocessing raises in the
// same situation, carries CPython's exact message as what(), and reports the Python class by
// its qualified name through python_type(), so the pybind11 binding can map it to the exact
// Python class and the harness can compare outcomes across implementations by (type, message).
//
// The hierarchy follows Python's: BrokenPipeError is an OSError, BufferTooShort a ProcessError.
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace mpref {

/// Base of every mpref exception. what() is the Python str() of the exception.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  /// The qualified Python class name, e.g. "ValueError", "queue.Full".
  [[nodiscard]] virtual std::string_view python_type() const noexcept = 0;
};

#define MPREF_DEFINE_ERROR(Name, Base, PyName)                                         \
  class Name : public Base {                                                           \
   public:                                                                             \
    explicit Name(const std::string& message = std::string()) : Base(message) {}      \
    [[nodiscard]] std::string_view python_type() const noexcept override { return PyName; } \
  }

MPREF_DEFINE_ERROR(AssertionError, Error, "AssertionError");
MPREF_DEFINE_ERROR(ValueError, Error, "ValueError");
MPREF_DEFINE_ERROR(TypeError, Error, "TypeError");
MPREF_DEFINE_ERROR(IndexError, Error, "IndexError");
MPREF_DEFINE_ERROR(AttributeError, Error, "AttributeError");
MPREF_DEFINE_ERROR(RuntimeError, Error, "RuntimeError");
MPREF_DEFINE_ERROR(EOFError, Error, "EOFError");
/// queue.Full: raised with an empty message, as CPython's (str() == '').
MPREF_DEFINE_ERROR(Full, Error, "queue.Full");
/// queue.Empty: raised with an empty message, as CPython's (str() == '').
MPREF_DEFINE_ERROR(Empty, Error, "queue.Empty");
/// multiprocessing.ProcessError, base of BufferTooShort.
MPREF_DEFINE_ERROR(ProcessError, Error, "multiprocessing.ProcessError");

/// OSError. errno_value() is 0 for CPython's errno-less OSErrors such as
/// OSError('handle is closed'), and the errno otherwise; what() is then Python's
/// "[Errno N] strerror" form. python_type() follows Python's errno mapping (PEP 3151):
/// OSError(ECONNRESET, ...) is a ConnectionResetError, OSError(EPIPE, ...) a BrokenPipeError.
class OSError : public Error {
 public:
  explicit OSError(const std::string& message, int errno_value = 0)
      : Error(message), errno_(errno_value) {}
  /// OSError(errno, strerror): what() is "[Errno N] <strerror>".
  static OSError from_errno(int errno_value);
  [[nodiscard]] int errno_value() const noexcept { return errno_; }
  [[nodiscard]] std::string_view python_type() const noexcept override {
    switch (errno_) {
      case EPIPE: case ESHUTDOWN: return "BrokenPipeError";
      case ECONNRESET: return "ConnectionResetError";
      case ECONNABORTED: return "ConnectionAbortedError";
      case ECONNREFUSED: return "ConnectionRefusedError";
      case EAGAIN: case EALREADY: case EINPROGRESS: return "BlockingIOError";
      case ECHILD: return "ChildProcessError";
      case EEXIST: return "FileExistsError";
      case ENOENT: return "FileNotFoundError";
      case EINTR: return "InterruptedError";
      case EISDIR: return "IsADirectoryError";
      case ENOTDIR: return "NotADirectoryError";
      case EACCES: case EPERM: return "PermissionError";
      case ESRCH: return "ProcessLookupError";
      case ETIMEDOUT: return "TimeoutError";
      default: return "OSError";
    }
  }

 private:
  int errno_;
};

/// BrokenPipeError(32, 'Broken pipe'): sending to a pipe whose peer is closed.
class BrokenPipeError : public OSError {
 public:
  BrokenPipeError() : OSError("[Errno 32] Broken pipe", EPIPE) {}
  [[nodiscard]] std::string_view python_type() const noexcept override { return "BrokenPipeError"; }
};

/// Python's repr() of a bytes object: b'...' with Python's escapes and quote choice.
inline std::string python_bytes_repr(std::string_view bytes) {
  const bool dq = bytes.find('\'') != std::string_view::npos &&
                  bytes.find('"') == std::string_view::npos;
  const char quote = dq ? '"' : '\'';
  static const char hex[] = "0123456789abcdef";
  std::string out = "b";
  out += quote;
  for (char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\\' || c == static_cast<unsigned char>(quote)) {
      out += '\\';
      out += ch;
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    } else {
      out += ch;
    }
  }
  out += quote;
  return out;
}

/// multiprocessing.BufferTooShort: recv_bytes_into got a message larger than the buffer.
/// message() is the whole message, which has been consumed (CPython: args[0]); what() is
/// CPython's str(), the repr of those bytes (b'0123456789AB').
class BufferTooShort : public ProcessError {
 public:
  explicit BufferTooShort(std::string message)
      : ProcessError(python_bytes_repr(message)), message_(std::move(message)) {}
  [[nodiscard]] const std::string& message() const noexcept { return message_; }
  [[nodiscard]] std::string_view python_type() const noexcept override {
    return "multiprocessing.BufferTooShort";
  }

 private:
  std::string message_;
};

/// Robust mode only (not in CPython): the process that held a lock died while holding it.
/// The lock is now held by the caller, who should repair the state it protects.
/// python_type() names no Python class: this can only happen with an mpref extension.
MPREF_DEFINE_ERROR(OwnerDiedError, Error, "mpref.OwnerDiedError");

/// Not in CPython: an unbounded queue's contents outgrew its reserved address space.
MPREF_DEFINE_ERROR(CapacityError, Error, "mpref.CapacityError");

#undef MPREF_DEFINE_ERROR

inline OSError OSError::from_errno(int errno_value) {
  return OSError("[Errno " + std::to_string(errno_value) + "] " + std::strerror(errno_value),
                 errno_value);
}

}  // namespace mpref
