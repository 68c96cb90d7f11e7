// Example backend plugin: a backend built as a shared library (libmpconform_backend_example.so)
// and loaded at run time, without editing the harness:
//   mpconform run --backend build/harness/examples/libmpconform_backend_example.so
//   MPCONFORM_BACKEND=/path/to/libmpconform_backend_example.so mpconform run
// This one exports the reference backend (mpconform/reference_backend.hpp, every interface over
// mpref). To test your own implementation, copy that header, replace each mpref call with
// yours, and export your class the same way. Only mpconform/backend.hpp and the header-only
// mpref/errors.hpp are needed by a plugin that does not use mpref: throw its exception classes.
// The contract is in harness/INTERPRETING.md, "Backends".
#include "mpconform/backend.hpp"
#include "mpconform/reference_backend.hpp"

// The entry point the harness looks up with dlsym ("mpconform_backend_plugin"), with the ABI
// version check built in.
MPCONFORM_EXPORT_BACKEND(mpconform::reference::ReferenceBackend, "example (mpref)")
