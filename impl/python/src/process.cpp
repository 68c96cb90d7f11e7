// _mpref.start(): forks a Python Process through mpref::Process::start(), with the interpreter
// handled across the fork as os.fork() does it (PyOS_BeforeFork / PyOS_AfterFork_Parent /
// PyOS_AfterFork_Child, registered as mpref fork hooks), and a bootstrap that runs the Python
// object's _bootstrap() in the child (mpref/process.py, CPython's BaseProcess._bootstrap).
#include <pybind11/stl.h>

#include <optional>
#include <string>

#include "binding.hpp"
#include "mpref/connection.hpp"
#include "mpref/process.hpp"

namespace mpref_py {
namespace {

// The Python Process object being started. start() runs with the GIL held from before the fork
// to after it, so only one thread can be here; the child reads its copy of the pointer.
PyObject* g_starting = nullptr;

int python_bootstrap(mpref::Process&) {
  // The child holds the GIL here: the forking thread held it and PyOS_AfterFork_Child made
  // this thread the interpreter's main thread.
  PyObject* self = g_starting;
  g_starting = nullptr;
  if (self == nullptr) return 1;
  PyObject* code = PyObject_CallMethod(self, "_bootstrap", nullptr);
  if (code == nullptr) {
    PyErr_Print();
    return 1;
  }
  // os._exit(code): the status byte is code & 0xFF (-1 -> 255, 256 -> 0, True -> 1).
  int result = 1;
  PyObject* mask = PyLong_FromLong(0xFF);
  PyObject* low = mask != nullptr ? PyNumber_And(code, mask) : nullptr;
  if (low != nullptr) {
    result = static_cast<int>(PyLong_AsLong(low));
  } else {
    PyErr_Print();
  }
  Py_XDECREF(low);
  Py_XDECREF(mask);
  Py_DECREF(code);
  return result;
}

mpref::Process start(py::handle self, std::string name, bool daemon) {
  mpref::Process p(mpref::Process::Target{}, mpref::ProcessOptions{std::move(name), daemon});
  g_starting = self.ptr();
  try {
    p.start();  // the GIL stays held across the fork (the hooks need it)
  } catch (...) {
    g_starting = nullptr;
    throw;
  }
  g_starting = nullptr;
  return p;
}

}  // namespace

void init_process(py::module_& m) {
  mpref::register_at_fork(mpref::AtFork{
      [] { PyOS_BeforeFork(); },
      [] { PyOS_AfterFork_Parent(); },
      [] { PyOS_AfterFork_Child(); },
  });
  mpref::set_bootstrap(python_bootstrap);

  py::class_<mpref::Process>(m, "ProcessHandle", "A started child (mpref::Process).")
      .def_property_readonly("pid", [](const mpref::Process& p) { return p.pid(); })
      .def_property_readonly("sentinel", &mpref::Process::sentinel)
      .def("exitcode", [](mpref::Process& p) { return p.exitcode(); })
      .def(
          "join",
          [](mpref::Process& p, std::optional<double> timeout) {
            if (timeout && *timeout <= 0.0) return p.join(0.0);
            const Deadline d = timeout ? Deadline::after(*timeout) : Deadline::forever();
            if (wait_interruptibly(d, [&p](const Deadline& slice) {
                  p.join(seconds_left(slice));
                  return p.exitcode().has_value();
                }) < 0)
              throw py::error_already_set();
          },
          py::arg("timeout") = py::none())
      .def("terminate", &mpref::Process::terminate)
      .def("kill", &mpref::Process::kill)
      .def("close", &mpref::Process::close);

  m.def("start", &start, py::arg("process"), py::arg("name"), py::arg("daemon"),
        "Forks and runs process._bootstrap() in the child; returns the child's handle.");

  m.def(
      "parent_sentinel",
      []() -> std::optional<int> {
        auto parent = mpref::parent_process();
        if (!parent) return std::nullopt;
        return parent->sentinel();
      },
      "A fd readable once the parent has exited (None in a process not started by mpref).");

  m.def(
      "wait_fds",
      [](std::vector<int> fds, std::optional<double> timeout) {
        const std::span<const int> objs(fds);
        if (timeout && *timeout <= 0.0) return mpref::wait(objs, 0.0);
        std::vector<int> ready;
        const Deadline d = timeout ? Deadline::after(*timeout) : Deadline::forever();
        if (wait_interruptibly(d, [&](const Deadline& slice) {
              ready = mpref::wait(objs, seconds_left(slice));
              return !ready.empty();
            }) < 0)
          throw py::error_already_set();
        return ready;
      },
      py::arg("fds"), py::arg("timeout") = py::none(),
      "The ready fds among fds (readable, hung up or in error), in their order.");
}

}  // namespace mpref_py
