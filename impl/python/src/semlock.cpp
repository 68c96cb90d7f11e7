// _mpref.SemLock: the C object behind Lock, RLock, Semaphore and BoundedSemaphore, as CPython's
// _multiprocessing.SemLock (Modules/_multiprocessing/semaphore.c) but on mpref's primitives.
//
// Written against the C API rather than pybind11 because acquire/release are the hot path
// (Lock.acquire is this object's bound method, as in CPython): METH_FASTCALL, no allocation, and
// the uncontended acquire is one CAS with the GIL held. Waits release the GIL.
//
// Like CPython's, the object keeps a process-local `count` (acquires minus releases done through
// this object in this process) and the thread that last acquired it; Lock.__repr__ and
// Condition use them through _is_mine() and _count(), and _after_fork() resets count in a child.

#include "binding.hpp"  // Python.h first

#include <new>
#include <optional>
#include <variant>

#include "mpref/synchronize.hpp"

namespace mpref_py {
namespace {

// CPython's kinds (synchronize.py: RECURSIVE_MUTEX, SEMAPHORE = list(range(2))), plus mpref's
// own non-recursive lock (CPython uses a SEMAPHORE with value 1, maxvalue 1 for it).
constexpr int kRecursiveMutex = 0;
constexpr int kSemaphore = 1;
constexpr int kLock = 2;

// Semaphore's (value, maxvalue) constructor is protected: CPython's SemLock takes any pair.
class AnySemaphore : public mpref::Semaphore {
 public:
  AnySemaphore(int value, int maxvalue) : mpref::Semaphore(value, maxvalue) {}
};

using Primitive = std::variant<std::monostate, mpref::Lock, mpref::RLock, AnySemaphore>;

struct SemLockObject {
  PyObject_HEAD
  int kind;
  int maxvalue;
  int count;                 // process-local, as CPython's
  unsigned long last_tid;    // PyThread_get_thread_ident() of the last acquirer
  Primitive prim;            // constructed in tp_new, destroyed in tp_dealloc
};

SemLockObject* as_semlock(PyObject* o) { return reinterpret_cast<SemLockObject*>(o); }

// The primitive `kind` says the variant holds (tp_new sets both; no check on the hot path).
template <class T>
T& prim(SemLockObject* s) {
  return *std::get_if<T>(&s->prim);
}

// The non-blocking attempt, with the GIL held.
inline bool try_acquire(SemLockObject* s) {
  if (s->kind == kLock) [[likely]] return prim<mpref::Lock>(s).acquire(false);
  if (s->kind == kRecursiveMutex) return prim<mpref::RLock>(s).acquire(false);
  return prim<AnySemaphore>(s).acquire(false);
}

bool acquire_until(SemLockObject* s, const Deadline& d) {
  const std::optional<double> timeout = seconds_left(d);
  switch (s->kind) {
    case kLock: return prim<mpref::Lock>(s).acquire(true, timeout);
    case kRecursiveMutex: return prim<mpref::RLock>(s).acquire(true, timeout);
    default: return prim<AnySemaphore>(s).acquire(true, timeout);
  }
}

int value_of(SemLockObject* s) {
  switch (s->kind) {
    case kLock: return prim<mpref::Lock>(s).locked() ? 0 : 1;
    case kRecursiveMutex: return prim<mpref::RLock>(s).locked() ? 0 : 1;
    default: return prim<AnySemaphore>(s).get_value();
  }
}

bool is_mine(SemLockObject* s) {
  if (s->kind == kRecursiveMutex) return s->count > 0 && prim<mpref::RLock>(s).is_mine();
  return s->count > 0 && s->last_tid == PyThread_get_thread_ident();
}

PyObject* do_acquire(SemLockObject* s, int blocking, PyObject* timeout_obj) {
  // An RLock's owner re-enters at once, before the timeout is even looked at (as CPython).
  if (s->kind == kRecursiveMutex && s->count > 0 && prim<mpref::RLock>(s).is_mine()) {
    try {
      prim<mpref::RLock>(s).acquire(false);
    } catch (...) {
      set_error_from_current_exception();
      return nullptr;
    }
    ++s->count;
    Py_RETURN_TRUE;
  }
  std::optional<double> timeout;
  if (timeout_obj != Py_None && !as_timeout(timeout_obj, timeout)) return nullptr;
  try {
    if (!try_acquire(s)) {
      if (!blocking || (timeout && *timeout <= 0.0)) Py_RETURN_FALSE;
      const Deadline d = timeout ? Deadline::after(*timeout) : Deadline::forever();
      const int r = wait_interruptibly(d, [s](const Deadline& slice) {
        return acquire_until(s, slice);
      });
      if (r < 0) return nullptr;
      if (r == 0) Py_RETURN_FALSE;
    }
  } catch (...) {
    set_error_from_current_exception();
    return nullptr;
  }
  ++s->count;
  s->last_tid = PyThread_get_thread_ident();
  Py_RETURN_TRUE;
}

// acquire(block=True, timeout=None), with CPython's (Argument Clinic's) messages.
bool parse_acquire_slow(PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames,
                        PyObject** block_obj, PyObject** timeout_obj) {
  static const char* kwlist[] = {"block", "timeout", nullptr};
  PyObject* tuple = PyTuple_New(nargs);
  if (tuple == nullptr) return false;
  for (Py_ssize_t i = 0; i < nargs; ++i) {
    Py_INCREF(args[i]);
    PyTuple_SET_ITEM(tuple, i, args[i]);
  }
  PyObject* dict = nullptr;
  if (kwnames != nullptr) {
    dict = PyDict_New();
    if (dict == nullptr) {
      Py_DECREF(tuple);
      return false;
    }
    const Py_ssize_t nkw = PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t i = 0; i < nkw; ++i) {
      if (PyDict_SetItem(dict, PyTuple_GET_ITEM(kwnames, i), args[nargs + i]) < 0) {
        Py_DECREF(tuple);
        Py_DECREF(dict);
        return false;
      }
    }
  }
  const int ok = PyArg_ParseTupleAndKeywords(tuple, dict, "|OO:acquire",
                                             const_cast<char**>(kwlist), block_obj, timeout_obj);
  Py_DECREF(tuple);
  Py_XDECREF(dict);
  return ok != 0;
}

PyObject* semlock_acquire(PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                          PyObject* kwnames) {
  int blocking = 1;
  PyObject* timeout_obj = Py_None;
  if (kwnames == nullptr && nargs <= 2) {
    if (nargs >= 1 && !as_c_int(args[0], blocking)) return nullptr;
    if (nargs == 2) timeout_obj = args[1];
  } else {
    PyObject* block_obj = nullptr;
    if (!parse_acquire_slow(args, nargs, kwnames, &block_obj, &timeout_obj)) return nullptr;
    if (block_obj != nullptr && !as_c_int(block_obj, blocking)) return nullptr;
  }
  return do_acquire(as_semlock(self), blocking, timeout_obj);
}

PyObject* semlock_release(PyObject* self, PyObject*) {
  SemLockObject* s = as_semlock(self);
  try {
    if (s->kind == kLock) [[likely]] {
      prim<mpref::Lock>(s).release();
    } else if (s->kind == kRecursiveMutex) {
      prim<mpref::RLock>(s).release();
    } else {
      prim<AnySemaphore>(s).release();
    }
  } catch (...) {
    set_error_from_current_exception();
    return nullptr;
  }
  --s->count;
  Py_RETURN_NONE;
}

PyObject* semlock_enter(PyObject* self, PyObject*) {
  return do_acquire(as_semlock(self), 1, Py_None);
}

PyObject* semlock_exit(PyObject* self, PyObject* const*, Py_ssize_t nargs) {
  if (nargs > 3) {
    PyErr_Format(PyExc_TypeError, "__exit__ expected at most 3 arguments, got %zd", nargs);
    return nullptr;
  }
  return semlock_release(self, nullptr);
}

PyObject* semlock_is_mine(PyObject* self, PyObject*) {
  return PyBool_FromLong(is_mine(as_semlock(self)));
}

PyObject* semlock_get_value(PyObject* self, PyObject*) {
  return PyLong_FromLong(value_of(as_semlock(self)));
}

PyObject* semlock_is_zero(PyObject* self, PyObject*) {
  return PyBool_FromLong(value_of(as_semlock(self)) == 0);
}

PyObject* semlock_count(PyObject* self, PyObject*) {
  return PyLong_FromLong(as_semlock(self)->count);
}

PyObject* semlock_after_fork(PyObject* self, PyObject*) {
  as_semlock(self)->count = 0;
  Py_RETURN_NONE;
}

PyObject* semlock_new(PyTypeObject* type, PyObject* args, PyObject* kwds) {
  static const char* kwlist[] = {"kind", "value", "maxvalue", nullptr};
  PyObject *kind_obj, *value_obj, *max_obj;
  if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOO:SemLock", const_cast<char**>(kwlist),
                                   &kind_obj, &value_obj, &max_obj))
    return nullptr;
  int kind, value, maxvalue;
  if (!as_c_int(kind_obj, kind) || !as_c_int(value_obj, value) || !as_c_int(max_obj, maxvalue))
    return nullptr;
  if (kind != kRecursiveMutex && kind != kSemaphore && kind != kLock) {
    PyErr_SetString(PyExc_ValueError, "unrecognized kind");
    return nullptr;
  }
  PyObject* self = type->tp_alloc(type, 0);
  if (self == nullptr) return nullptr;
  SemLockObject* s = as_semlock(self);
  s->kind = kind;
  s->maxvalue = maxvalue;
  s->count = 0;
  s->last_tid = 0;
  new (&s->prim) Primitive();
  try {
    if (kind == kLock) {
      s->prim.emplace<mpref::Lock>();
    } else if (kind == kRecursiveMutex) {
      s->prim.emplace<mpref::RLock>();
    } else {
      if (value < 0 || maxvalue < value) {  // sem_open's EINVAL (S-4)
        throw mpref::OSError::from_errno(EINVAL);
      }
      s->prim.emplace<AnySemaphore>(value, maxvalue);
    }
  } catch (...) {
    set_error_from_current_exception();
    Py_DECREF(self);
    return nullptr;
  }
  return self;
}

void semlock_dealloc(PyObject* self) {
  SemLockObject* s = as_semlock(self);
  s->prim.~Primitive();
  PyTypeObject* tp = Py_TYPE(self);
  tp->tp_free(self);
  Py_DECREF(tp);
}

PyObject* semlock_get_kind(PyObject* self, void*) { return PyLong_FromLong(as_semlock(self)->kind); }
PyObject* semlock_get_maxvalue(PyObject* self, void*) {
  return PyLong_FromLong(as_semlock(self)->maxvalue);
}
PyObject* semlock_get_none(PyObject*, void*) { Py_RETURN_NONE; }

PyMethodDef semlock_methods[] = {
    {"acquire", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(semlock_acquire)),
     METH_FASTCALL | METH_KEYWORDS, "acquire(block=True, timeout=None): take the lock or semaphore"},
    {"release", semlock_release, METH_NOARGS, "release the lock or semaphore"},
    {"__enter__", semlock_enter, METH_NOARGS, "enter the semaphore/lock"},
    {"__exit__", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(semlock_exit)),
     METH_FASTCALL, "exit the semaphore/lock"},
    {"_is_mine", semlock_is_mine, METH_NOARGS, "whether the lock is owned by this thread"},
    {"_get_value", semlock_get_value, METH_NOARGS, "the value of the semaphore"},
    {"_is_zero", semlock_is_zero, METH_NOARGS, "whether the semaphore's value is zero"},
    {"_count", semlock_count, METH_NOARGS, "acquires minus releases through this object here"},
    {"_after_fork", semlock_after_fork, METH_NOARGS, "rezero the count after fork"},
    {nullptr, nullptr, 0, nullptr}};

PyGetSetDef semlock_getset[] = {
    {"kind", semlock_get_kind, nullptr, nullptr, nullptr},
    {"maxvalue", semlock_get_maxvalue, nullptr, nullptr, nullptr},
    {"name", semlock_get_none, nullptr, nullptr, nullptr},
    {"handle", semlock_get_none, nullptr, nullptr, nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

PyType_Slot semlock_slots[] = {
    {Py_tp_new, reinterpret_cast<void*>(semlock_new)},
    {Py_tp_dealloc, reinterpret_cast<void*>(semlock_dealloc)},
    {Py_tp_methods, semlock_methods},
    {Py_tp_getset, semlock_getset},
    {Py_tp_doc, const_cast<char*>("Semaphore/Mutex type on mpref's shared-memory primitives")},
    {0, nullptr}};

PyType_Spec semlock_spec = {"mpref._mpref.SemLock", sizeof(SemLockObject), 0,
                            Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE, semlock_slots};

}  // namespace

void init_semlock(py::module_& m) {
  PyObject* type = PyType_FromSpec(&semlock_spec);
  if (type == nullptr) throw py::error_already_set();
  m.attr("SemLock") = py::reinterpret_steal<py::object>(type);
  m.attr("RECURSIVE_MUTEX") = kRecursiveMutex;
  m.attr("SEMAPHORE") = kSemaphore;
  m.attr("LOCK") = kLock;
  m.attr("SEM_VALUE_MAX") = mpref::Semaphore::value_max;
}

}  // namespace mpref_py
