// _mpref.ConnectionCore and _mpref.Pipe: mpref::Connection (CPython's wire format) for the
// Python Connection class in mpref/connection.py, which keeps CPython's argument checks.
// Every call that can block (send, receive, poll) releases the GIL.
#include <pybind11/stl.h>

#include <optional>

#include "binding.hpp"
#include "mpref/connection.hpp"

namespace mpref_py {
namespace {

py::bytes to_bytes(const mpref::Bytes& b) {
  return py::bytes(reinterpret_cast<const char*>(b.data()), b.size());
}

void send_buffer(mpref::Connection& c, py::handle obj) {
  Py_buffer view;
  if (PyObject_GetBuffer(obj.ptr(), &view, PyBUF_SIMPLE) < 0) throw py::error_already_set();
  try {
    py::gil_scoped_release nogil;  // the view keeps the buffer alive and pinned
    c.send_bytes(std::span<const std::byte>(static_cast<const std::byte*>(view.buf),
                                            static_cast<std::size_t>(view.len)));
  } catch (...) {
    PyBuffer_Release(&view);
    throw;
  }
  PyBuffer_Release(&view);
}

}  // namespace

void init_connection(py::module_& m) {
  py::class_<mpref::Connection>(m, "ConnectionCore", "One end of a Pipe (mpref::Connection).")
      .def(py::init<int, bool, bool>(), py::arg("fd"), py::arg("readable") = true,
           py::arg("writable") = true)
      .def("send_bytes", &send_buffer, py::arg("buf"))
      .def(
          "recv_bytes",
          [](mpref::Connection& c, std::optional<std::int64_t> maxlength) {
            // Wait for the first byte interruptibly (signals), then read the whole message.
            if (!c.poll(0.0) && wait_interruptibly(Deadline::forever(), [&c](const Deadline& s) {
                                  return c.poll(seconds_left(s));
                                }) < 0)
              throw py::error_already_set();
            mpref::Bytes b;
            {
              py::gil_scoped_release nogil;
              b = c.recv_bytes(maxlength);
            }
            return to_bytes(b);
          },
          py::arg("maxlength") = py::none())
      .def(
          "poll",
          [](mpref::Connection& c, std::optional<double> timeout) {
            if (timeout && *timeout <= 0.0) return c.poll(0.0);
            const Deadline d = timeout ? Deadline::after(*timeout) : Deadline::forever();
            const int r = wait_interruptibly(d, [&c](const Deadline& s) {
              return c.poll(seconds_left(s));
            });
            if (r < 0) throw py::error_already_set();
            return r == 1;
          },
          py::arg("timeout"))
      .def("close", &mpref::Connection::close)
      .def_property_readonly("closed", &mpref::Connection::closed)
      .def("fileno", &mpref::Connection::fileno)
      .def_property_readonly("readable", &mpref::Connection::readable)
      .def_property_readonly("writable", &mpref::Connection::writable);

  m.def("Pipe", [](bool duplex) { return mpref::Pipe(duplex); }, py::arg("duplex") = true);
}

}  // namespace mpref_py
