#pragma once
// Shared helpers of the _mpref extension: error translation, GIL release, CPython's argument
// converters, pickling.
#include <pybind11/pybind11.h>

#include <optional>

#include "mpref/detail/deadline.hpp"
#include "mpref/errors.hpp"

namespace mpref_py {

namespace py = pybind11;

/// Sets the Python error that CPython raises for `e`: the exact class (queue.Full,
/// multiprocessing.BufferTooShort, OSError with errno -> its subclass, ...) and message.
void set_error(const mpref::Error& e);

/// In a catch block: sets the Python error for the exception being handled (mpref::Error,
/// std::bad_alloc -> MemoryError, anything else -> RuntimeError). Python errors already set
/// (py::error_already_set) are restored.
void set_error_from_current_exception();

/// Releases the GIL for the lifetime of the object (exception-safe, unlike
/// Py_BEGIN_ALLOW_THREADS).
class Unlocked {
 public:
  Unlocked() : state_(PyEval_SaveThread()) {}
  ~Unlocked() { PyEval_RestoreThread(state_); }
  Unlocked(const Unlocked&) = delete;
  Unlocked& operator=(const Unlocked&) = delete;

 private:
  PyThreadState* state_;
};

/// True in the thread that runs Python's signal handlers (the main thread; after a fork, the
/// thread that forked).
bool in_main_thread() noexcept;

using mpref::detail::Deadline;

/// Seconds left before `d` for a C++ call taking std::optional<double> (nullopt: forever).
inline std::optional<double> seconds_left(const Deadline& d) {
  if (d.is_forever()) return std::nullopt;
  return d.remaining();
}

/// How long an interruptible wait sleeps at most before it looks at pending signals.
inline constexpr double kSignalSlice = 0.05;

/// Waits until attempt(slice_deadline) succeeds or `d` passes, with the GIL released.
/// attempt returns true when done and false when its deadline passed; it may throw (the GIL is
/// held again when the exception leaves). In the main thread the wait is cut into slices of at
/// most kSignalSlice seconds and Python's signal handlers run in between, so KeyboardInterrupt
/// or a pytest-timeout SIGALRM interrupt it as they interrupt CPython's waits (EINTR); a waker
/// still wakes the waiter at once (each slice is a real blocking wait, not a poll).
/// Returns 1 when done, 0 when d passed, -1 with the Python error set (a handler raised).
template <class F>
int wait_interruptibly(const Deadline& d, F&& attempt) {
  if (!in_main_thread()) {
    bool ok;
    {
      Unlocked nogil;
      ok = attempt(d);
    }
    return ok ? 1 : 0;
  }
  for (;;) {
    const bool last = !d.is_forever() && d.remaining() <= kSignalSlice;
    const Deadline slice = last ? d : Deadline::after(kSignalSlice);
    bool ok;
    {
      Unlocked nogil;
      ok = attempt(slice);
    }
    if (ok) return 1;
    if (PyErr_CheckSignals() < 0) return -1;
    if (last || d.expired()) return 0;
  }
}

/// CPython's `int` argument converter (_PyLong_AsInt): __index__, OverflowError('Python int too
/// large to convert to C int'), TypeError("'float' object cannot be interpreted as an integer").
/// Returns false with the Python error set.
bool as_c_int(PyObject* obj, int& out);

/// SemLock.acquire's timeout: None -> nullopt; else PyFloat_AsDouble (TypeError('must be real
/// number, not str')), negative clamped to 0. Returns false with the Python error set.
bool as_timeout(PyObject* obj, std::optional<double>& out);

/// pickle.dumps(obj, 4) / pickle.loads(data); new references, nullptr with the error set.
PyObject* pickle_dumps(PyObject* obj);
PyObject* pickle_loads(PyObject* data);

/// The Python classes errors map to that are not builtins, looked up once at import.
struct PyClasses {
  PyObject* full = nullptr;             // queue.Full
  PyObject* empty = nullptr;            // queue.Empty
  PyObject* buffer_too_short = nullptr; // multiprocessing.BufferTooShort
  PyObject* process_error = nullptr;    // multiprocessing.ProcessError
  PyObject* owner_died = nullptr;       // mpref.OwnerDiedError (an mpref extension)
  PyObject* capacity = nullptr;         // mpref.CapacityError (an mpref extension)
  PyObject* dumps = nullptr;            // pickle.dumps
  PyObject* loads = nullptr;            // pickle.loads
  PyObject* protocol = nullptr;         // 4
};
PyClasses& classes();

void init_errors(py::module_& m);
void init_semlock(py::module_& m);
void init_queues(py::module_& m);
void init_process(py::module_& m);
void init_connection(py::module_& m);

}  // namespace mpref_py
