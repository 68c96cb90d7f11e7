// _mpref.QueueCore and _mpref.SimpleQueueCore: mpref's shared-memory queues carrying pickles.
//
// put() pickles synchronously (protocol 4) and writes the item into shared memory before it
// returns (mpref has no feeder thread: the divergence clauses of spec/clauses/queues.json).
// The Python classes in mpref/queues.py keep the per-process state (closed flag) and CPython's
// method signatures; these cores parse block/timeout exactly as CPython's SemLock.acquire does.
//
// GIL: a first attempt that cannot wait is made with the GIL held (the common case: an item is
// there, a slot is free) and unpickles straight from a bytes object; only a real wait releases
// the GIL. The queue's mutex is never held while taking the GIL (no lock-order inversion).
#include <pybind11/stl.h>

#include <memory>
#include <optional>

#include "binding.hpp"
#include "mpref/queues.hpp"

namespace mpref_py {
namespace {

using mpref::detail::Deadline;
using mpref::detail::QueueCore;

/// Receives a message straight into a new bytes object (GIL held).
struct BytesSink {
  PyObject* bytes = nullptr;
  static void* sink(void* ctx, std::size_t n) {
    auto* s = static_cast<BytesSink*>(ctx);
    s->bytes = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(n));
    if (s->bytes == nullptr) {
      PyErr_Clear();
      throw std::bad_alloc();
    }
    return PyBytes_AS_STRING(s->bytes);
  }
};

/// Receives a message into a heap buffer (GIL released).
struct HeapSink {
  std::unique_ptr<char[]> data;
  std::size_t size = 0;
  static void* sink(void* ctx, std::size_t n) {
    auto* s = static_cast<HeapSink*>(ctx);
    s->data = std::make_unique_for_overwrite<char[]>(n == 0 ? 1 : n);
    s->size = n;
    return s->data.get();
  }
};

/// Takes one message as a bytes object (new reference), waiting by `d` with the GIL released.
/// nullptr with the Python error set.
PyObject* take(QueueCore& core, const Deadline& d) {
  BytesSink fast;
  try {
    core.get(&BytesSink::sink, &fast, Deadline::now());
    return fast.bytes;
  } catch (const mpref::Empty&) {
    Py_XDECREF(fast.bytes);
    if (d.is_immediate()) {
      PyErr_SetNone(classes().empty);
      return nullptr;
    }
  } catch (...) {
    Py_XDECREF(fast.bytes);
    set_error_from_current_exception();
    return nullptr;
  }
  HeapSink slow;
  try {
    const int r = wait_interruptibly(d, [&](const Deadline& slice) {
      try {
        core.get(&HeapSink::sink, &slow, slice);
        return true;
      } catch (const mpref::Empty&) {
        return false;
      }
    });
    if (r < 0) return nullptr;
    if (r == 0) {
      PyErr_SetNone(classes().empty);
      return nullptr;
    }
  } catch (...) {
    set_error_from_current_exception();
    return nullptr;
  }
  return PyBytes_FromStringAndSize(slow.data.get(), static_cast<Py_ssize_t>(slow.size));
}

/// Writes a pickle, waiting by `d` with the GIL released when the queue is full.
/// false with the Python error set.
bool give(QueueCore& core, PyObject* data, const Deadline& d) {
  const char* p = PyBytes_AS_STRING(data);
  const auto n = static_cast<std::size_t>(PyBytes_GET_SIZE(data));
  try {
    try {
      core.put(p, n, Deadline::now());
      return true;
    } catch (const mpref::Full&) {
      if (d.is_immediate()) throw;
    }
    // `data` stays alive while the GIL is released: the caller holds a reference.
    const int r = wait_interruptibly(d, [&](const Deadline& slice) {
      try {
        core.put(p, n, slice);
        return true;
      } catch (const mpref::Full&) {
        return false;
      }
    });
    if (r < 0) return false;
    if (r == 0) throw mpref::Full();
    return true;
  } catch (...) {
    set_error_from_current_exception();
    return false;
  }
}

PyObject* unpickle(PyObject* data) {
  if (data == nullptr) return nullptr;
  PyObject* obj = pickle_loads(data);
  Py_DECREF(data);
  return obj;
}

class PyQueueCore {
 public:
  PyQueueCore(py::handle maxsize_obj, bool joinable) {
    int maxsize = 0;
    if (!as_c_int(maxsize_obj.ptr(), maxsize)) throw py::error_already_set();
    if (joinable) {
      q_ = std::make_shared<mpref::JoinableQueue<mpref::Bytes>>(maxsize);
    } else {
      q_ = std::make_shared<mpref::Queue<mpref::Bytes>>(maxsize);
    }
  }

  // put(obj, block, timeout): CPython parses block and timeout first (SemLock.acquire), then
  // mpref pickles, then writes.
  py::object put(py::handle obj, py::handle block, py::handle timeout) {
    int blocking = 1;
    std::optional<double> t;
    if (!as_c_int(block.ptr(), blocking) || !as_timeout(timeout.ptr(), t))
      throw py::error_already_set();
    PyObject* data = pickle_dumps(obj.ptr());
    if (data == nullptr) throw py::error_already_set();
    if (!PyBytes_Check(data)) {
      Py_DECREF(data);
      throw py::type_error("pickle.dumps did not return bytes");
    }
    const bool ok = give(core(), data, Deadline::from(blocking != 0, t));
    Py_DECREF(data);
    if (!ok) throw py::error_already_set();
    return py::none();
  }

  // get(block, timeout) with CPython's rules: the Python layer has already raised for a
  // non-numeric timeout with block true; here block=False parses it as SemLock.acquire does.
  py::object get(py::handle block, py::handle timeout) {
    const int truth = PyObject_IsTrue(block.ptr());
    if (truth < 0) throw py::error_already_set();
    std::optional<double> t;
    if (!as_timeout(timeout.ptr(), t)) throw py::error_already_set();
    PyObject* r = unpickle(take(core(), Deadline::from(truth != 0, t)));
    if (r == nullptr) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(r);
  }

  std::size_t qsize() const { return q_->qsize(); }
  bool empty() const { return q_->empty(); }
  bool full() const { return q_->full(); }
  std::int64_t maxsize() const { return q_->maxsize(); }

  void task_done() { core().task_done(); }
  void join() {
    QueueCore& c = core();
    // One mark for all the slices: a zero reached between two of them still counts.
    const std::optional<std::uint64_t> mark = c.join_mark();
    if (!mark) return;
    if (wait_interruptibly(Deadline::forever(), [&c, m = *mark](const Deadline& slice) {
          return c.join_since(m, slice);
        }) < 0)
      throw py::error_already_set();
  }
  std::uint64_t unfinished() const { return q_->core().unfinished(); }

 private:
  QueueCore& core() { return q_->core(); }
  std::shared_ptr<mpref::QueueBase> q_;
};

class PySimpleQueueCore {
 public:
  void put(py::handle obj) {
    PyObject* data = pickle_dumps(obj.ptr());
    if (data == nullptr) throw py::error_already_set();
    const char* p = PyBytes_AS_STRING(data);
    const auto n = static_cast<std::size_t>(PyBytes_GET_SIZE(data));
    try {
      if (q_.closed()) throw mpref::OSError("handle is closed");
      q_.core().put(p, n, Deadline::forever());  // unbounded: never waits
    } catch (...) {
      Py_DECREF(data);
      throw;
    }
    Py_DECREF(data);
  }

  py::object get() {
    if (q_.closed()) throw mpref::OSError("handle is closed");
    PyObject* r = unpickle(take(q_.core(), Deadline::forever()));
    if (r == nullptr) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(r);
  }

  // Not CPython's API (its SimpleQueue.get has no timeout): how mpconform's Python executor
  // bounds a SimpleQueue get. Raises queue.Empty when `timeout` seconds pass.
  py::object get_timeout(double timeout) {
    if (q_.closed()) throw mpref::OSError("handle is closed");
    PyObject* r = unpickle(take(q_.core(), Deadline::from(true, timeout)));
    if (r == nullptr) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(r);
  }

  bool empty() const { return q_.empty(); }
  void close() { q_.close(); }
  bool closed() const { return q_.closed(); }

 private:
  mutable mpref::SimpleQueue<mpref::Bytes> q_;
};

}  // namespace

void init_queues(py::module_& m) {
  py::class_<PyQueueCore>(m, "QueueCore",
                          "The shared-memory queue behind Queue and JoinableQueue (pickles).")
      .def(py::init<py::handle, bool>(), py::arg("maxsize"), py::arg("joinable") = false)
      .def("put", &PyQueueCore::put, py::arg("obj"), py::arg("block"), py::arg("timeout"))
      .def("get", &PyQueueCore::get, py::arg("block"), py::arg("timeout"))
      .def("qsize", &PyQueueCore::qsize)
      .def("empty", &PyQueueCore::empty)
      .def("full", &PyQueueCore::full)
      .def("maxsize", &PyQueueCore::maxsize)
      .def("task_done", &PyQueueCore::task_done)
      .def("join", &PyQueueCore::join)
      .def("unfinished", &PyQueueCore::unfinished);

  py::class_<PySimpleQueueCore>(m, "SimpleQueueCore",
                                "The shared-memory queue behind SimpleQueue (pickles).")
      .def(py::init<>())
      .def("put", &PySimpleQueueCore::put, py::arg("obj"))
      .def("get", &PySimpleQueueCore::get)
      .def("get_timeout", &PySimpleQueueCore::get_timeout, py::arg("timeout"))
      .def("empty", &PySimpleQueueCore::empty)
      .def("close", &PySimpleQueueCore::close)
      .def("closed", &PySimpleQueueCore::closed);
}

}  // namespace mpref_py
