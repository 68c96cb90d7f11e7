// A plugin built for another backend ABI: the harness must refuse to load it (a test).
#include "mpconform/backend.hpp"

extern "C" __attribute__((visibility("default"))) const mpconform::BackendPlugin*
mpconform_backend_plugin() {
  static const mpconform::BackendPlugin plugin{mpconform::kBackendAbiVersion + 1000, "bad-abi",
                                               nullptr};
  return &plugin;
}
