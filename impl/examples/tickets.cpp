// example tickets: ten buyer processes sell tickets from a JSON "database" file {"count": N}.
// Each buyer reads the file and, if count > 0, writes count - 1 back. Under one mpref::Lock
// exactly min(N, 10) tickets are sold and the count never goes below zero; without the lock
// (with a short pause between read and write to widen the race) buyers read the same count and
// the shop oversells, which the example shows.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "mpref/sharedctypes.hpp"
#include "mpref/synchronize.hpp"

namespace fs = std::filesystem;

namespace {

constexpr int buyers = 10;

bool reap(pid_t pid, double timeout_s) {
  int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  bool ended = true;
  if (fd >= 0) {
    pollfd p{fd, POLLIN, 0};
    ended = poll(&p, 1, static_cast<int>(timeout_s * 1000)) > 0;
    close(fd);
  }
  if (!ended) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return ended && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

long read_count(const fs::path& db) {
  std::ifstream in(db);
  return nlohmann::json::parse(in).at("count").get<long>();
}

// Write-then-rename, so a reader never sees a half-written file even in the unlocked run.
void write_count(const fs::path& db, long count) {
  fs::path tmp = db;
  tmp += "." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << nlohmann::json{{"count", count}}.dump();
  }
  fs::rename(tmp, db);
}

struct Sale {
  long sold;         // buyers who believe they got a ticket
  long final_count;  // what the file says at the end
  long lowest;       // lowest count any buyer wrote
};

// One round of `buyers` processes against a db holding `tickets`; `lock` empty = no lock.
std::optional<Sale> run(const fs::path& db, long tickets, const std::optional<mpref::Lock>& lock,
                        useconds_t pause_us) {
  write_count(db, tickets);
  mpref::RawValue<long> sold;
  mpref::RawValue<long> lowest(tickets);
  mpref::Semaphore gate(0);  // all buyers start together
  std::vector<pid_t> pids;
  for (int b = 0; b < buyers; ++b) {
    pid_t pid = fork();
    if (pid < 0) return std::nullopt;
    if (pid == 0) {
      int rc = 0;
      try {
        if (!gate.acquire(true, 10.0)) _exit(2);
        if (lock && !lock->acquire(true, 10.0)) _exit(4);
        long count = read_count(db);
        if (count > 0) {
          usleep(pause_us);
          write_count(db, count - 1);
          // Bookkeeping for the checks; its own atomicity is not what is being shown.
          std::atomic_ref<long>(*sold.data()).fetch_add(1);
          std::atomic_ref<long> low_ref(*lowest.data());
          long low = low_ref.load();
          while (count - 1 < low && !low_ref.compare_exchange_weak(low, count - 1)) {
          }
        }
        if (lock) lock->release();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "buyer %d: %s\n", b, e.what());
        rc = 3;
      }
      _exit(rc);
    }
    pids.push_back(pid);
  }
  for (int b = 0; b < buyers; ++b) gate.release();
  bool ok = true;
  for (pid_t pid : pids) ok = reap(pid, 20.0) && ok;
  if (!ok) return std::nullopt;
  return Sale{sold.value(), read_count(db), lowest.value()};
}

}  // namespace

int main() {
  std::string dir_template = (fs::temp_directory_path() / "mpref-tickets-XXXXXX").string();
  if (mkdtemp(dir_template.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const fs::path dir = dir_template;
  const fs::path db = dir / "db";
  bool ok = true;

  // With the lock: exact, for fewer and for more tickets than buyers.
  mpref::Lock lock;
  for (long tickets : {7L, 10L, 12L}) {
    auto s = run(db, tickets, lock, 2000);
    long expect = std::min<long>(tickets, buyers);
    if (!s) {
      std::puts("FAILED: a buyer did not finish cleanly (locked run)");
      ok = false;
      continue;
    }
    std::printf("locked:   %2ld tickets, %d buyers -> sold %ld, %ld left, lowest count %ld\n",
                tickets, buyers, s->sold, s->final_count, s->lowest);
    if (s->sold != expect || s->final_count != tickets - expect || s->lowest < 0) {
      std::printf("FAILED: expected %ld sold and %ld left\n", expect, tickets - expect);
      ok = false;
    }
  }

  // Without the lock: buyers race between read and write; the shop oversells.
  bool oversold = false;
  for (int attempt = 1; attempt <= 5 && !oversold; ++attempt) {
    constexpr long tickets = 5;
    auto s = run(db, tickets, std::nullopt, 20000);
    if (!s) {
      std::puts("FAILED: a buyer did not finish cleanly (unlocked run)");
      ok = false;
      break;
    }
    long removed = tickets - s->final_count;
    long over = s->sold - removed;
    std::printf("unlocked: %2ld tickets, %d buyers -> sold %ld, %ld left: oversold by %ld "
                "(attempt %d)\n",
                tickets, buyers, s->sold, s->final_count, over, attempt);
    oversold = over > 0 || s->sold > tickets;
  }
  if (!oversold) {
    std::puts("FAILED: the unlocked run never oversold in 5 attempts");
    ok = false;
  }

  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec || fs::exists(dir)) {
    std::printf("FAILED: could not remove %s\n", dir.c_str());
    ok = false;
  }
  if (!ok) return 1;
  std::puts("example tickets: all checks passed");
  return 0;
}
