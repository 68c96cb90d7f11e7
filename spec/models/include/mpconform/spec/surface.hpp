#pragma once
// Which API surface a model checks, as in the clause files' "applies" field.

namespace mpconform::spec {

// cpp: the C++ API of mpref and of any C++ backend. python: the multiprocessing-compatible
// Python API (CPython itself, or a Python module such as mpref's binding). The surfaces differ
// only where a clause applies to one of them; a model that depends on it says where.
enum class Surface { cpp, python };

}  // namespace mpconform::spec
