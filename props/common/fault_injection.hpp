#pragma once
// Fault injection for the C++ tests: put a forked child into the state a process killed at an
// awkward instant leaves behind, deterministically instead of by luck.
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <fstream>
#include <iterator>
#include <string>

#include "mpref/detail/deadline.hpp"

namespace mpconform::testing {

/// From now on, in the calling process only, every FUTEX_WAKE on a shared futex returns 0
/// ("woke nobody") without waking anybody: what a process killed right after committing an
/// operation, before its wake-up call, leaves behind. Returns false if the filter could not be
/// installed. (A seccomp filter on syscall futex with op == FUTEX_WAKE, the call mpref's
/// futex_wake() in mpref/detail/futex.hpp makes; private wakes, which glibc and the sanitizers
/// use for their own locks, are untouched.)
inline bool drop_futex_wakes() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_futex, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[1])),  // op, low word
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FUTEX_WAKE, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 0U),  // "returns 0": woke nobody
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(std::size(filter)), filter};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}

/// Waits at most `bound` seconds until process `pid` sleeps (state S in /proc/<pid>/stat),
/// then a little longer so it is past any brief sleep on its way into the wait. Returns false
/// if it never did.
inline bool wait_until_asleep(pid_t pid, double bound) {
  const mpref::detail::Deadline d = mpref::detail::Deadline::after(bound);
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  while (!d.expired()) {
    std::ifstream f(path);
    std::string stat;
    std::getline(f, stat);
    const auto paren = stat.rfind(')');  // the name may hold spaces and parentheses
    if (paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'S') {
      ::usleep(20000);
      return true;
    }
    ::usleep(1000);
  }
  return false;
}

}  // namespace mpconform::testing
