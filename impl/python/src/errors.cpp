// C++ exceptions -> the exact Python exceptions CPython's multiprocessing raises; CPython's
// argument converters; pickling.
#include <pthread.h>

#include <cstring>
#include <new>
#include <string_view>

#include "binding.hpp"

namespace mpref_py {

PyClasses& classes() {
  static PyClasses c;
  return c;
}

namespace {

PyObject* builtin_class(std::string_view name) {
  if (name == "AssertionError") return PyExc_AssertionError;
  if (name == "ValueError") return PyExc_ValueError;
  if (name == "TypeError") return PyExc_TypeError;
  if (name == "IndexError") return PyExc_IndexError;
  if (name == "AttributeError") return PyExc_AttributeError;
  if (name == "RuntimeError") return PyExc_RuntimeError;
  if (name == "EOFError") return PyExc_EOFError;
  if (name == "OSError") return PyExc_OSError;
  if (name == "BrokenPipeError") return PyExc_BrokenPipeError;
  return nullptr;
}

PyObject* class_for(std::string_view name) {
  PyClasses& c = classes();
  if (name == "queue.Full") return c.full;
  if (name == "queue.Empty") return c.empty;
  if (name == "multiprocessing.BufferTooShort") return c.buffer_too_short;
  if (name == "multiprocessing.ProcessError") return c.process_error;
  if (name == "mpref.OwnerDiedError") return c.owner_died;
  if (name == "mpref.CapacityError") return c.capacity;
  if (PyObject* b = builtin_class(name)) return b;
  return PyExc_RuntimeError;
}

}  // namespace

void set_error(const mpref::Error& e) {
  if (const auto* tooshort = dynamic_cast<const mpref::BufferTooShort*>(&e)) {
    // args[0] is the whole message as bytes; str() is its repr (as CPython's).
    const std::string& msg = tooshort->message();
    PyObject* data = PyBytes_FromStringAndSize(msg.data(), static_cast<Py_ssize_t>(msg.size()));
    if (data == nullptr) return;
    PyErr_SetObject(classes().buffer_too_short, data);
    Py_DECREF(data);
    return;
  }
  if (const auto* ose = dynamic_cast<const mpref::OSError*>(&e)) {
    if (ose->errno_value() != 0) {
      // OSError(errno, strerror): Python picks the subclass (EPIPE -> BrokenPipeError).
      const int err = ose->errno_value();
      PyObject* args = Py_BuildValue("(is)", err, std::strerror(err));
      if (args == nullptr) return;
      PyErr_SetObject(PyExc_OSError, args);
      Py_DECREF(args);
      return;
    }
  }
  PyObject* cls = class_for(e.python_type());
  const char* what = e.what();
  if (what == nullptr || *what == '\0') {
    PyErr_SetNone(cls);  // queue.Full(), queue.Empty(), EOFError(): no args, str() == ''
  } else {
    PyErr_SetString(cls, what);
  }
}

void set_error_from_current_exception() {
  try {
    throw;
  } catch (py::error_already_set& e) {
    e.restore();
  } catch (const mpref::Error& e) {
    set_error(e);
  } catch (const std::bad_alloc&) {
    PyErr_NoMemory();
  } catch (const std::exception& e) {
    PyErr_SetString(PyExc_RuntimeError, e.what());
  } catch (...) {
    PyErr_SetString(PyExc_RuntimeError, "unknown C++ exception");
  }
}

namespace {
pthread_t g_main_thread;
void record_main_thread() noexcept { g_main_thread = pthread_self(); }
}  // namespace

bool in_main_thread() noexcept { return pthread_equal(pthread_self(), g_main_thread) != 0; }

bool as_c_int(PyObject* obj, int& out) {
  const int v = _PyLong_AsInt(obj);
  if (v == -1 && PyErr_Occurred()) return false;
  out = v;
  return true;
}

bool as_timeout(PyObject* obj, std::optional<double>& out) {
  if (obj == Py_None) {
    out.reset();
    return true;
  }
  double t = PyFloat_AsDouble(obj);
  if (t == -1.0 && PyErr_Occurred()) return false;
  out = t < 0.0 ? 0.0 : t;
  return true;
}

PyObject* pickle_dumps(PyObject* obj) {
  PyObject* args[2] = {obj, classes().protocol};
  return PyObject_Vectorcall(classes().dumps, args, 2, nullptr);
}

PyObject* pickle_loads(PyObject* data) {
  PyObject* args[1] = {data};
  return PyObject_Vectorcall(classes().loads, args, 1, nullptr);
}

void init_errors(py::module_& m) {
  // Python's main thread (its ident is the pthread_t); in a forked child the only thread is
  // the one that forked, which Python makes its main thread (os.fork and mpref alike).
  g_main_thread = static_cast<pthread_t>(
      py::module_::import("threading").attr("main_thread")().attr("ident").cast<unsigned long>());
  pthread_atfork(nullptr, nullptr, record_main_thread);
  PyClasses& c = classes();
  auto keep = [](py::object o) { return o.release().ptr(); };
  c.full = keep(py::module_::import("queue").attr("Full"));
  c.empty = keep(py::module_::import("queue").attr("Empty"));
  py::module_ mp = py::module_::import("multiprocessing");
  c.buffer_too_short = keep(mp.attr("BufferTooShort"));
  c.process_error = keep(mp.attr("ProcessError"));
  py::module_ pickle = py::module_::import("pickle");
  c.dumps = keep(pickle.attr("dumps"));
  c.loads = keep(pickle.attr("loads"));
  c.protocol = keep(py::int_(4));
  c.owner_died = PyErr_NewExceptionWithDoc(
      "mpref.OwnerDiedError",
      "mpref extension (robust locks only): the holder died; the lock is now held by the caller.",
      PyExc_RuntimeError, nullptr);
  c.capacity = PyErr_NewExceptionWithDoc(
      "mpref.CapacityError",
      "mpref extension: an unbounded queue's contents outgrew its shared-memory reserve.",
      PyExc_RuntimeError, nullptr);
  if (c.owner_died == nullptr || c.capacity == nullptr) throw py::error_already_set();
  m.attr("OwnerDiedError") = py::handle(c.owner_died);
  m.attr("CapacityError") = py::handle(c.capacity);

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const mpref::Error& e) {
      set_error(e);
    }
  });
}

}  // namespace mpref_py
