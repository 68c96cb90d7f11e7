// The compiled part of the Python module `mpref` (imported as mpref._mpref).
#include "binding.hpp"

PYBIND11_MODULE(_mpref, m) {
  m.doc() = "mpref primitives for the Python package mpref (see mpref/__init__.py)";
  mpref_py::init_errors(m);
  mpref_py::init_semlock(m);
  mpref_py::init_queues(m);
  mpref_py::init_process(m);
  mpref_py::init_connection(m);
}
