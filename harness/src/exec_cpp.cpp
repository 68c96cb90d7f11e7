// The C++ executor: interprets a plan (plan.hpp, INTERPRETING.md "Plans") on a Backend.
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <iostream>
#include <new>
#include <stdexcept>
#include <type_traits>

#include <fmt/format.h>

#include "detail/group.hpp"
#include "detail/shared.hpp"
#include "detail/temp.hpp"
#include "mpconform/executor.hpp"
#include "mpconform/tiers.hpp"
#include "mpref/errors.hpp"

namespace mpconform {
namespace {

using detail::Shared;
using detail::sleep_us;
using detail::wake_all;

constexpr std::size_t kNoteSize = 200;

// Scratch memory shared by the executor and every process of the run (an anonymous MAP_SHARED
// mapping made per run). All waits on it are bounded futex waits.
struct Board {
  std::atomic<std::uint32_t> gate;       // 0 until the executor releases phase 0
  std::atomic<std::uint32_t> ready;      // phase-0 processes waiting at the gate
  std::atomic<std::uint32_t> watching;   // the observer watches (start_children's children wait)
  std::atomic<std::uint32_t> published;  // bumped each time a pid is published
  std::atomic<std::uint64_t> calls;      // pct: calls made so far by every process (change points)
  std::atomic<std::int32_t> pids[kMaxPlanProcesses];  // pid of each process index (0: unknown)
  char notes[kMaxPlanProcesses][kNoteSize];           // why a process stopped (written by itself)
};

// Overlap mode's barrier (ScheduleMode::overlap): the leader releases iteration i by setting
// `go` to i + 1; the other actors count themselves in `arrived` when done.
struct OverlapBoard {
  std::atomic<std::uint32_t> go;
  std::atomic<std::uint32_t> arrived;
  std::atomic<std::uint32_t> stop;         // set with the last `go`: leave the loop
  std::atomic<std::uint32_t> failed;       // an actor stopped on an error: end after this iteration
  std::atomic<std::uint32_t> enough;       // the executor saw a forbidden outcome: end the loop
  std::atomic<std::uint32_t> go_sleepers;  // actors in a futex wait on `go`, and on `arrived`
  std::atomic<std::uint32_t> arrived_sleepers;
  std::atomic<std::uint64_t> iterations;   // iterations started
};

// Bounded wait until `word` != `value`. Returns false on time-out.
bool wait_while_equal(std::atomic<std::uint32_t>& word, std::uint32_t value, double timeout_s) {
  const std::int64_t deadline = monotonic_ns() + static_cast<std::int64_t>(timeout_s * 1e9);
  while (word.load(std::memory_order_acquire) == value) {
    const std::int64_t left = deadline - monotonic_ns();
    if (left <= 0) return false;
    detail::futex_wait(word, value, left);
  }
  return true;
}

// wait_while_equal, spinning up to `spin_ns` first: an overlap release must reach every actor
// within a microsecond or so, and a futex wake-up takes tens. `sleepers` counts the processes in
// the futex wait, so that the releasing side makes the wake-up call (a microsecond it would
// otherwise add to its own start) only when someone sleeps.
bool await_change(std::atomic<std::uint32_t>& word, std::uint32_t value, double timeout_s, std::int64_t spin_ns,
                  std::atomic<std::uint32_t>& sleepers) {
  const std::int64_t until = monotonic_ns() + spin_ns;
  while (word.load(std::memory_order_acquire) == value) {
    if (monotonic_ns() > until) {
      sleepers.fetch_add(1);  // seq_cst, paired with set_and_wake's store and load
      const bool changed = wait_while_equal(word, value, timeout_s);
      sleepers.fetch_sub(1);
      return changed;
    }
    __builtin_ia32_pause();
  }
  return true;
}

// Sets `word` (or adds 1 to it) and wakes the processes await_change() put to sleep on it.
void set_and_wake(std::atomic<std::uint32_t>& word, std::uint32_t value, std::atomic<std::uint32_t>& sleepers) {
  word.store(value);  // seq_cst: a sleeper either sees the value or is counted below
  if (sleepers.load() != 0) wake_all(word);
}
void add_and_wake(std::atomic<std::uint32_t>& word, std::atomic<std::uint32_t>& sleepers) {
  word.fetch_add(1);
  if (sleepers.load() != 0) wake_all(word);
}

// An overlap start offset: microseconds at most, too short to sleep.
void spin_for(std::uint32_t ns) {
  if (ns == 0) return;
  const std::int64_t until = monotonic_ns() + ns;
  while (monotonic_ns() < until) __builtin_ia32_pause();
}

void note(Board& board, std::uint32_t index, const std::string& text) {
  if (index >= kMaxPlanProcesses) return;
  const std::size_t n = std::min(text.size(), kNoteSize - 1);
  std::memcpy(board.notes[index], text.data(), n);
  board.notes[index][n] = '\0';
}

// ---- recording ------------------------------------------------------------------------------

ErrorKind kind_of(std::string_view python_type) {
  if (python_type == "queue.Empty") return ErrorKind::Empty;
  if (python_type == "queue.Full") return ErrorKind::Full;
  if (python_type == "ValueError") return ErrorKind::ValueError;
  if (python_type == "EOFError") return ErrorKind::EOFError;
  if (python_type == "AssertionError") return ErrorKind::AssertionError;
  if (python_type == "BrokenPipeError") return ErrorKind::BrokenPipeError;
  if (python_type == "OSError") return ErrorKind::OSError;
  if (python_type == "RuntimeError") return ErrorKind::RuntimeError;
  return ErrorKind::Other;
}

// A call ended in a way the steps do not expect: the history says info, the process stops.
struct Unexpected : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Completes `call` from `e`: fail when its kind is one of `definite`, else info and throws
// Unexpected.
void settle(Call& call, const mpref::Error& e, std::initializer_list<ErrorKind> definite) {
  const ErrorKind k = kind_of(e.python_type());
  for (ErrorKind d : definite)
    if (d == k) {
      call.fail(k);
      return;
    }
  call.info(k);
  throw Unexpected(fmt::format("{}: {}", e.python_type(), e.what()));
}

template <class F>
std::optional<std::uint64_t> value_call(Call call, F&& f, std::initializer_list<ErrorKind> definite) {
  try {
    const std::uint64_t v = f();
    call.ok(v);
    return v;
  } catch (const mpref::Error& e) {
    settle(call, e, definite);
    return std::nullopt;
  }
}

template <class F>
bool void_call(Call call, F&& f, std::initializer_list<ErrorKind> definite) {
  try {
    f();
    call.ok();
    return true;
  } catch (const mpref::Error& e) {
    settle(call, e, definite);
    return false;
  }
}

// acquire, poll, join with timeout: ok on true, fail Timeout on false.
template <class F>
bool bool_call(Call call, F&& f) {
  try {
    if (f()) {
      call.ok();
      return true;
    }
    call.fail(ErrorKind::Timeout);
    return false;
  } catch (const mpref::Error& e) {
    settle(call, e, {});
    return false;
  }
}

// Between retries of a call that did not wait: 100 us doubling to 2 ms (no busy-waiting).
class Backoff {
 public:
  explicit Backoff(std::uint64_t first_us) : first_(first_us), us_(first_us) {}
  void pause() {
    sleep_us(us_);
    us_ = std::min<std::uint64_t>(us_ * 2, 2000);
  }
  void reset() { us_ = first_; }

 private:
  std::uint64_t first_;
  std::uint64_t us_;
};

std::int64_t ns_of(double s) { return static_cast<std::int64_t>(s * 1e9); }
std::int64_t tns(const CallSpec& a) { return timeout_ns_of(a.block, a.timeout); }

// ---- objects --------------------------------------------------------------------------------

struct Object {
  std::unique_ptr<Queue> queue;  // queue and joinable_queue
  JoinableQueue* joinable = nullptr;
  std::unique_ptr<SimpleQueue> simple;
  std::unique_ptr<Lock> lock;
  PipeEnds pipe;
  std::unique_ptr<SharedValue> value;
  int fd = -1;  // ticket_file
  std::string path;
  ~Object() {
    if (fd >= 0) ::close(fd);
    if (!path.empty()) ::unlink(path.c_str());
  }
};

std::uint64_t file_read(int fd) {
  std::uint64_t v = 0;
  if (::pread(fd, &v, sizeof v, 0) != static_cast<ssize_t>(sizeof v))
    throw std::runtime_error(fmt::format("ticket file read: {}", std::strerror(errno)));
  return v;
}

void file_write(int fd, std::uint64_t v) {
  if (::pwrite(fd, &v, sizeof v, 0) != static_cast<ssize_t>(sizeof v))
    throw std::runtime_error(fmt::format("ticket file write: {}", std::strerror(errno)));
}

std::vector<std::unique_ptr<Object>> make_objects(Backend& b, const Plan& plan) {
  std::vector<std::unique_ptr<Object>> out;
  for (const PlanObject& po : plan.objects) {
    auto o = std::make_unique<Object>();
    switch (po.type) {
      case ObjectType::queue: o->queue = b.make_queue(po.maxsize); break;
      case ObjectType::joinable_queue: {
        auto jq = b.make_joinable_queue(po.maxsize);
        o->joinable = jq.get();
        o->queue = std::move(jq);
        break;
      }
      case ObjectType::simple_queue: o->simple = b.make_simple_queue(); break;
      case ObjectType::lock: o->lock = b.make_lock(); break;
      case ObjectType::rlock: o->lock = b.make_rlock(); break;
      case ObjectType::pipe: o->pipe = b.make_pipe(po.duplex); break;
      case ObjectType::value: o->value = b.make_value(po.initial); break;
      case ObjectType::ticket_file: {
        o->fd = detail::make_temp_file("tickets", o->path);
        file_write(o->fd, po.initial);
        break;
      }
    }
    out.push_back(std::move(o));
  }
  return out;
}

// ---- PCT ------------------------------------------------------------------------------------

// In a forked process of a PCT run: pin to the shared CPU at SCHED_FIFO `priority`. Children the
// implementation forks inherit both (they are part of the scenario).
void enter_pct(std::uint32_t priority) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<std::size_t>(pct_cpu()), &set);
  if (::sched_setaffinity(0, sizeof set, &set) != 0)
    throw std::runtime_error(fmt::format("sched_setaffinity: {}", std::strerror(errno)));
  sched_param p{};
  p.sched_priority = static_cast<int>(priority);
  if (::sched_setscheduler(0, SCHED_FIFO, &p) != 0)
    throw std::runtime_error(fmt::format("sched_setscheduler(SCHED_FIFO, {}): {}", priority, std::strerror(errno)));
}

// The log a process's steps record through: before each call it counts the call and, at a PCT
// change point, drops the calling process to that change point's priority.
class Log {
 public:
  Log(const ProcessLog& log, Board& board, const Schedule& schedule)
      : log_(log), board_(board), schedule_(schedule) {}
  [[nodiscard]] Call invoke(OpKind kind, std::uint32_t object = 0, std::uint64_t value = 0,
                            std::int64_t timeout_ns = kNoTimeout, std::uint64_t aux = 0) const {
    if (schedule_.mode == ScheduleMode::pct) before_call();
    return log_.invoke(kind, object, value, timeout_ns, aux);
  }
  void instant(OpKind kind, std::uint32_t object = 0, std::uint64_t value = 0, std::uint64_t aux = 0) const {
    log_.instant(kind, object, value, aux);
  }

 private:
  void before_call() const {
    const std::uint64_t n = board_.calls.fetch_add(1, std::memory_order_relaxed) + 1;
    const auto& cps = schedule_.change_points;
    for (std::size_t i = 0; i < cps.size(); ++i)
      if (cps[i] == n) {
        sched_param p{};
        p.sched_priority = static_cast<int>(i + 1);
        ::sched_setscheduler(0, SCHED_FIFO, &p);  // lowering one's own priority cannot fail
      }
  }
  const ProcessLog& log_;
  Board& board_;
  const Schedule& schedule_;
};

// ---- the steps ------------------------------------------------------------------------------

class Interpreter {
 public:
  // delays: sleep the plan's delays (not under pct and overlap). backoff_us: the first pause
  // between retries of a call that did not wait.
  Interpreter(Backend& b, const PlanTiming& timing, std::vector<std::unique_ptr<Object>>& objects, Board& board,
              const Recorder& recorder, const Log& log, bool delays, std::uint64_t backoff_us = 100)
      : b_(b), t_(timing), objects_(objects), board_(board), recorder_(recorder), log_(log), delays_(delays),
        backoff_us_(backoff_us) {}

  // Runs the steps in order; stops early where a step says the process is done.
  void run(const std::vector<Step>& steps) {
    for (const Step& s : steps)
      if (!run(s)) return;
  }

 private:
  Object& obj(std::uint32_t i) { return *objects_[i]; }
  void delay(std::uint32_t us) const {
    if (delays_) sleep_us(us);
  }
  Connection& end(const Step& s) {
    PipeEnds& p = obj(s.obj).pipe;
    return s.end == 0 ? *p.first : *p.second;
  }
  // The lock a buy or increment takes: a lock object, or a value's own lock.
  Lock& lock_of(std::uint32_t i) {
    Object& o = obj(i);
    return o.lock ? *o.lock : o.value->get_lock();
  }

  std::optional<std::uint64_t> get(const Step& s, const CallSpec& a) {
    Object& o = obj(s.obj);
    if (o.simple) {
      const std::optional<double> t = a.block ? a.timeout : std::optional<double>(0.0);
      return value_call(log_.invoke(OpKind::get, s.recorded_object(), 0, timeout_ns_of(true, t)),
                        [&] { return o.simple->get(t); }, {ErrorKind::Empty});
    }
    return value_call(log_.invoke(OpKind::get, s.recorded_object(), 0, tns(a)),
                      [&] { return o.queue->get(a.block, a.timeout); }, {ErrorKind::Empty});
  }

  void probe(const Step& s, const std::string& what) {
    Object& o = obj(s.obj);
    const std::uint32_t rec = s.recorded_object();
    if (what == "qsize" && o.queue)
      value_call(log_.invoke(OpKind::qsize, rec), [&] { return static_cast<std::uint64_t>(o.queue->qsize()); }, {});
    else if (what == "empty")
      value_call(log_.invoke(OpKind::empty, rec),
                 [&] { return std::uint64_t{o.queue ? o.queue->empty() : o.simple->empty()}; }, {});
    else if (what == "full" && o.queue)
      value_call(log_.invoke(OpKind::full, rec), [&] { return std::uint64_t{o.queue->full()}; }, {});
  }

  bool put(const Step& s) {
    Object& o = obj(s.obj);
    const CallSpec& a = s.call;
    const std::uint32_t rec = s.recorded_object();
    if (o.simple) {
      void_call(log_.invoke(OpKind::put, rec, s.item, kNoTimeout), [&] { o.simple->put(s.item); }, {});
      return true;
    }
    const std::int64_t patience = ns_of(t_.patience);
    const std::int64_t start = monotonic_ns();
    Backoff backoff(backoff_us_);
    for (;;) {
      if (void_call(log_.invoke(OpKind::put, rec, s.item, tns(a)), [&] { o.queue->put(s.item, a.block, a.timeout); },
                    {ErrorKind::Full}))
        return true;
      if (!s.retry_full) return true;
      if (monotonic_ns() - start > patience) return false;  // consumers are gone: give up
      backoff.pause();
    }
  }

  void consume(const Step& s) {
    const std::int64_t patience = ns_of(t_.patience);
    std::uint32_t got = 0;
    std::int64_t last = monotonic_ns();
    Backoff backoff(backoff_us_);
    for (std::size_t i = 0; got < s.quota; ++i) {
      const CallSpec& a = s.gets[i % s.gets.size()];
      delay(a.delay_us);
      if (get(s, a)) {
        ++got;
        last = monotonic_ns();
        backoff.reset();
        if (s.task_done) {
          delay(s.task_pause_us);
          JoinableQueue* jq = obj(s.obj).joinable;
          void_call(log_.invoke(OpKind::task_done, s.recorded_object()), [&] { jq->task_done(); },
                    {ErrorKind::ValueError});
        }
      } else {
        if (monotonic_ns() - last > patience) break;
        backoff.pause();
      }
      if (!s.probes.empty()) probe(s, s.probes[i % s.probes.size()]);
    }
  }

  void drain(const Step& s) {
    CallSpec nowait;
    nowait.block = false;
    CallSpec last;
    last.timeout = t_.settle;
    for (std::uint32_t n = 0; n < s.limit; ++n)
      if (!get(s, nowait) && !get(s, last)) break;
  }

  void critical_section(const Step& s) {
    Lock& lk = *obj(s.obj).lock;
    const std::uint32_t rec = s.recorded_object();
    if (s.release_unowned_first)
      void_call(log_.invoke(OpKind::release, rec), [&] { lk.release(); }, {ErrorKind::AssertionError});
    if (!bool_call(log_.invoke(OpKind::acquire, rec, 0, tns(s.call)),
                   [&] { return lk.acquire(s.call.block, s.call.timeout); }))
      return;
    for (std::uint32_t d = 1; d < s.depth; ++d)
      bool_call(log_.invoke(OpKind::acquire, rec, 0, kNoTimeout), [&] { return lk.acquire(true, std::nullopt); });
    delay(s.hold_us);
    for (std::uint32_t d = 0; d < s.depth; ++d)
      void_call(log_.invoke(OpKind::release, rec), [&] { lk.release(); },
                {ErrorKind::ValueError, ErrorKind::AssertionError});
  }

  void increment(const Step& s) {
    SharedValue& v = *obj(s.obj).value;
    value_call(log_.invoke(OpKind::increment, s.recorded_object()),
               [&] {
                 Lock& l = v.get_lock();
                 l.acquire();
                 std::uint64_t x = 0;
                 try {
                   x = v.read() + 1;
                   delay(s.hold_us);
                   v.write(x);
                 } catch (...) {
                   l.release();
                   throw;
                 }
                 l.release();
                 return x;
               },
               {});
  }

  TicketIo ticket_io(std::uint32_t store, std::uint32_t pause_us) {
    TicketIo io;
    Object& o = obj(store);
    if (o.value) {
      SharedValue* v = o.value.get();
      io.read = [v] { return v->read(); };
      io.write = [v](std::uint64_t x) { v->write(x); };
    } else {
      const int fd = o.fd;
      io.read = [fd] { return file_read(fd); };
      io.write = [fd](std::uint64_t x) { file_write(fd, x); };
    }
    const bool delays = delays_;
    io.pause = [pause_us, delays] {
      if (delays) sleep_us(pause_us);
    };
    return io;
  }

  void buy(const Step& s) {
    const TicketIo io = ticket_io(s.store, s.hold_us);
    Lock& lock = lock_of(s.obj);
    const TicketProgram program = b_.ticket_program();
    for (std::uint32_t a = 0; a < s.attempts; ++a) {
      Call c = log_.invoke(OpKind::buy, s.recorded_object());
      std::uint64_t ticket = 0;
      try {
        ticket = program(lock, io);
      } catch (const mpref::Error& e) {
        settle(c, e, {});
      }
      if (ticket > 0) {
        c.ok(ticket);
        return;
      }
      c.fail(ErrorKind::SoldOut);
    }
  }

  void read(const Step& s) {
    Object& o = obj(s.obj);
    if (o.value)
      value_call(log_.invoke(OpKind::read, s.recorded_object()), [&] { return o.value->read(); }, {});
    else
      value_call(log_.invoke(OpKind::read, s.recorded_object()), [&] { return file_read(o.fd); }, {});
  }

  void recv_all(const Step& s) {
    Connection& c = end(s);
    const std::uint32_t rec = s.recorded_object();
    for (std::uint32_t i = 0; i < s.limit; ++i) {
      if (!s.polls.empty()) {
        const std::optional<double>& t = s.polls[i % s.polls.size()];
        bool_call(log_.invoke(OpKind::poll, rec, 0, timeout_ns_of(true, t)), [&] { return c.poll(t); });
      }
      if (s.until_quiet) {
        const double t = t_.observe;
        if (!bool_call(log_.invoke(OpKind::poll, rec, 0, timeout_ns_of(true, t)), [&] { return c.poll(t); }))
          return;
      }
      if (!value_call(log_.invoke(OpKind::recv, rec), [&] { return c.recv(); }, {ErrorKind::EOFError})) return;
    }
  }

  void start_children(const Step& s) {
    Board* bd = &board_;
    const Recorder* recorder = &recorder_;
    const double wait = t_.wait;
    const double life = t_.daemon_life;
    for (const ChildSpec& c : s.children) {
      auto target = [bd, c, life, wait, recorder] {
        // Alive until the observer watches, then work (or, daemonic, live until killed, at
        // most the daemon life). The exit op proves when the child ended, which the observer
        // may only see later.
        wait_while_equal(bd->watching, 0, wait);
        sleep_us(c.daemon ? static_cast<std::uint64_t>(life * 1e6) : c.run_us);
        recorder->log(c.process).instant(OpKind::exit);
      };
      children_.push_back(b_.make_process(target, c.daemon));
      child_index_.push_back(c.process);
      void_call(log_.invoke(OpKind::start, 0, c.process, kNoTimeout, c.daemon ? 1 : 0),
                [&] { children_.back()->start(); }, {});
      board_.pids[c.process].store(children_.back()->pid().value_or(0));
      board_.published.fetch_add(1, std::memory_order_release);
      wake_all(board_.published);
    }
    // The parent's next steps (its exit) must come after the observer watches its children.
    if (!wait_while_equal(board_.watching, 0, wait)) throw std::runtime_error("the observer did not start watching");
  }

  void exit_handling() {
    Call exit = log_.invoke(OpKind::exit);
    b_.exit_handling();
    exit.ok();
    // What the exit work left: each started child's exit code (it joined them all).
    for (std::size_t i = 0; i < children_.size(); ++i)
      if (const std::optional<int> code = children_[i]->exitcode())
        log_.instant(OpKind::exitcode, 0, static_cast<std::uint64_t>(static_cast<std::int64_t>(*code)),
                     child_index_[i]);
  }

  void observe(const Step& s) {
    const std::int64_t until = monotonic_ns() + ns_of(t_.wait);
    auto known = [&] {
      for (std::uint32_t p : s.watch)
        if (board_.pids[p].load() == 0) return false;
      return true;
    };
    for (std::uint32_t n; !known();) {
      n = board_.published.load(std::memory_order_acquire);
      if (known()) break;
      const double left = static_cast<double>(until - monotonic_ns()) / 1e9;
      if (left <= 0 || !wait_while_equal(board_.published, n, left))
        throw std::runtime_error("the processes to observe were not published in time");
    }
    std::vector<pollfd> fds;
    std::vector<Call> calls;
    for (std::uint32_t p : s.watch) {
      const int fd = static_cast<int>(syscall(SYS_pidfd_open, board_.pids[p].load(), 0));
      if (fd < 0) throw std::runtime_error(fmt::format("pidfd_open of process {}: {}", p, std::strerror(errno)));
      fds.push_back({fd, POLLIN, 0});
      calls.push_back(log_.invoke(OpKind::gone, 0, p));
    }
    board_.watching.store(1, std::memory_order_release);
    wake_all(board_.watching);
    const std::int64_t deadline = monotonic_ns() + ns_of(t_.observe);
    std::size_t left = fds.size();
    while (left > 0) {
      const std::int64_t ms = (deadline - monotonic_ns()) / 1'000'000;
      if (ms <= 0) break;
      const int r = ::poll(fds.data(), fds.size(), static_cast<int>(std::min<std::int64_t>(ms, 100)));
      if (r < 0 && errno != EINTR) throw std::runtime_error("poll failed");
      for (std::size_t i = 0; i < fds.size(); ++i)
        if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
          calls[i].ok();
          ::close(fds[i].fd);
          fds[i].fd = -1;  // poll ignores negative descriptors
          --left;
        }
    }
    for (std::size_t i = 0; i < fds.size(); ++i)
      if (fds[i].fd >= 0) {
        calls[i].fail(ErrorKind::Timeout);
        ::close(fds[i].fd);
      }
  }

  void timed_process_join(const Step& s) {
    const double life = t_.daemon_life;
    auto child = b_.make_process([life] { sleep_us(static_cast<std::uint64_t>(life * 1e6)); }, false);
    child->start();
    bool_call(log_.invoke(OpKind::process_join, 0, 0, timeout_ns_of(true, s.call.timeout)), [&] {
      child->join(s.call.timeout);
      return !child->is_alive();
    });
    child->terminate();
    child->join(t_.wait);
  }

  // One step; false when the process's steps end here.
  bool run(const Step& s) {
    const std::uint32_t rec = s.recorded_object();
    if (s.op != StepOp::consume && s.op != StepOp::critical_section) delay(s.call.delay_us);
    switch (s.op) {
      case StepOp::sleep: delay(s.us); break;
      case StepOp::put: return put(s);
      case StepOp::get: get(s, s.call); break;
      case StepOp::qsize: probe(s, "qsize"); break;
      case StepOp::empty: probe(s, "empty"); break;
      case StepOp::full: probe(s, "full"); break;
      case StepOp::task_done:
        void_call(log_.invoke(OpKind::task_done, rec), [&] { obj(s.obj).joinable->task_done(); }, {ErrorKind::ValueError});
        break;
      case StepOp::join: {
        const std::optional<double> t = s.call.timeout;
        bool_call(log_.invoke(OpKind::join, rec, 0, timeout_ns_of(true, t)), [&] { return obj(s.obj).joinable->join(t); });
        break;
      }
      case StepOp::acquire:
        bool_call(log_.invoke(OpKind::acquire, rec, 0, tns(s.call)),
                  [&] { return obj(s.obj).lock->acquire(s.call.block, s.call.timeout); });
        break;
      case StepOp::release:
        void_call(log_.invoke(OpKind::release, rec), [&] { obj(s.obj).lock->release(); },
                  {ErrorKind::ValueError, ErrorKind::AssertionError});
        break;
      case StepOp::send:
        return void_call(log_.invoke(OpKind::send, rec, s.item), [&] { end(s).send(s.item); },
                         {ErrorKind::BrokenPipeError});
      case StepOp::recv: value_call(log_.invoke(OpKind::recv, rec), [&] { return end(s).recv(); }, {ErrorKind::EOFError}); break;
      case StepOp::poll:
        bool_call(log_.invoke(OpKind::poll, rec, 0, timeout_ns_of(true, s.call.timeout)),
                  [&] { return end(s).poll(s.call.timeout); });
        break;
      case StepOp::close: void_call(log_.invoke(OpKind::close, rec), [&] { end(s).close(); }, {}); break;
      case StepOp::read: read(s); break;
      case StepOp::consume: consume(s); break;
      case StepOp::drain: drain(s); break;
      case StepOp::critical_section:
        delay(s.call.delay_us);
        critical_section(s);
        break;
      case StepOp::increment: increment(s); break;
      case StepOp::buy: buy(s); break;
      case StepOp::recv_all: recv_all(s); break;
      case StepOp::start_children: start_children(s); break;
      case StepOp::exit_handling: exit_handling(); break;
      case StepOp::observe: observe(s); break;
      case StepOp::timed_process_join: timed_process_join(s); break;
    }
    return true;
  }

  Backend& b_;
  const PlanTiming& t_;
  std::vector<std::unique_ptr<Object>>& objects_;
  Board& board_;
  const Recorder& recorder_;
  const Log& log_;
  // Sleep the plan's delays, holds and pauses. Not under PCT: a timed sleep would let the timer
  // decide the order instead of the priorities (and a replay would not repeat it).
  const bool delays_;
  const std::uint64_t backoff_us_;
  std::vector<std::unique_ptr<Process>> children_;
  std::vector<std::uint32_t> child_index_;  // the process index of each of children_
};

// ---- the executor ---------------------------------------------------------------------------

// Overlap mode: each iteration starts from the objects' initial values.
void reset_objects(const Plan& plan, std::vector<std::unique_ptr<Object>>& objects) {
  for (std::size_t i = 0; i < plan.objects.size(); ++i) {
    if (objects[i]->value) objects[i]->value->write_raw(plan.objects[i].initial);
    if (objects[i]->fd >= 0) file_write(objects[i]->fd, plan.objects[i].initial);
  }
}

// What the actors of an overlap run share: the barrier, each iteration's start time, and the
// most log slots one iteration may take.
struct Overlap {
  OverlapBoard& board;
  std::int64_t* starts;
  std::uint64_t* first_slots;  // the first log slot of each iteration
  std::size_t per_iteration;
};

void close_pipe_ends(std::vector<std::unique_ptr<Object>>& objects) {
  for (auto& o : objects) {
    if (o->pipe.first) o->pipe.first->close();
    if (o->pipe.second) o->pipe.second->close();
  }
}

class CppExecutor final : public Executor {
 public:
  explicit CppExecutor(std::unique_ptr<Backend> b) : b_(std::move(b)) {}
  std::string name() const override { return b_->name(); }
  Profile default_profile() const override { return Profile::reference; }

  Execution execute(const Plan& plan, const ExecOptions& options) override {
    // Children must not inherit unflushed output (a child that flushes would print it again).
    std::fflush(nullptr);
    std::cout.flush();
    std::cerr.flush();
    Execution out;
    const std::int64_t t0 = monotonic_ns();
    const Schedule& sch = options.schedule;
    const bool overlap = sch.mode == ScheduleMode::overlap;
    if (overlap) {
      if (const std::string why = overlap_unsupported(plan); !why.empty()) {
        out.error = "overlap mode cannot run this plan: " + why;
        return out;
      }
    }
    // Overlap: room for every iteration (the leader stops before the log would overflow).
    const std::size_t per_iteration = overlap ? 4 * plan_calls(plan) + plan.setup.size() + 32 : 0;
    const std::size_t capacity =
        overlap ? std::clamp<std::size_t>(std::min<std::uint64_t>(sch.iterations, 200'000) * per_iteration,
                                          options.capacity, std::size_t{1} << 21)
                : options.capacity;
    Recorder recorder(capacity);
    Shared<Board> board;
    Shared<OverlapBoard> overlap_board;
    Shared<std::int64_t> starts(overlap ? sch.iterations : 1);
    Shared<std::uint64_t> first_slots(overlap ? sch.iterations : 1);
    const Overlap ov{*overlap_board, starts.get(), first_slots.get(), per_iteration};
    // Overlap: each iteration is judged (stop_when) once the next has started, between the
    // watchdog's checks.
    std::uint64_t judged = 0;
    auto progress = [&] {
      if (overlap && options.stop_when && ov.board.enough.load() == 0)
        for (const std::uint64_t started = ov.board.iterations.load(); judged + 1 < started; ++judged)
          if (options.stop_when(recorder.read(ov.first_slots[judged], ov.first_slots[judged + 1]))) {
            ov.board.enough.store(1);
            break;
          }
      return recorder.claimed();
    };
    detail::Group group(out);
    std::vector<std::unique_ptr<Object>> objects;
    try {
      group.start();  // first: the keeper must not hold the run's pipe ends
      objects = make_objects(*b_, plan);
      const ProcessLog setup = recorder.log(plan.setup_process);
      const Schedule none;
      const Log log(setup, *board, none);
      Interpreter(*b_, plan.timing, objects, *board, recorder, log, true).run(plan.setup);
    } catch (const std::exception& e) {
      group.finish();
      out.error = fmt::format("creating the plan's objects failed: {}", e.what());
      out.history = recorder.read();
      return out;
    }
    const double bound = options.time_bound_s.value_or(seconds(tiers::watchdog));
    const std::int64_t deadline = t0 + ns_of(bound);
    const std::int64_t stall = nanoseconds(tiers::long_);
    std::int64_t gate_open = t0;
    int max_phase = 0;
    // Overlap: later phases run in the leader (run_overlap), not in processes of their own.
    if (!overlap)
      for (const PlanProcess& p : plan.processes) max_phase = std::max(max_phase, p.phase);
    try {
      for (int phase = 0; phase <= max_phase && !out.hung; ++phase) {
        for (const PlanProcess& p : plan.processes)
          if (p.phase == phase) fork(group, plan, p, objects, *board, recorder, sch, ov);
        if (phase == 0) {
          close_pipe_ends(objects);  // the parent's copies must go, or EOF never comes
          // Open the gate when every process waits at it (under PCT: pinned and at its
          // priority), so that none starts late on another CPU and a schedule replays.
          const auto forked = static_cast<std::uint32_t>(out.processes.size());
          const std::int64_t until = monotonic_ns() + ns_of(plan.timing.wait);
          for (std::uint32_t n; (n = (*board).ready.load()) < forked && monotonic_ns() < until;)
            wait_while_equal((*board).ready, n, static_cast<double>(until - monotonic_ns()) / 1e9);
          gate_open = monotonic_ns();
          out.setup_s = static_cast<double>(gate_open - t0) / 1e9;
          (*board).gate.store(1, std::memory_order_release);
          wake_all((*board).gate);
        }
        if (!group.wait_all(deadline, stall, progress)) {
          out.hung = true;
          out.hang = fmt::format("{} (no new call for {:.2f} s, bound {:.1f} s); killed the run:",
                                 monotonic_ns() > deadline ? "time bound passed" : "no progress",
                                 static_cast<double>(group.stalled_for()) / 1e9, bound);
          describe_live(group, *board, recorder, out);
        }
      }
    } catch (const std::exception& e) {
      out.error = fmt::format("running the plan failed: {}", e.what());
    }
    if (!group.finish()) out.error += " a process of the run could not be reaped within 5 s";
    out.run_s = static_cast<double>(monotonic_ns() - gate_open) / 1e9;
    objects.clear();  // removes the ticket file
    out.history = recorder.read();
    if (overlap) {
      const std::uint64_t n = std::min<std::uint64_t>(ov.board.iterations.load(), sch.iterations);
      out.iteration_starts.assign(ov.starts, ov.starts + n);
    }
    for (ProcessReport& r : out.processes) {
      if (r.process < kMaxPlanProcesses) r.note = (*board).notes[r.process];
      if (r.pending.empty() && r.status && *r.status != 0)
        for (const Op& op : out.history.ops)
          if (op.process == r.process && !op.completed()) r.pending = describe(op);
    }
    return out;
  }

 private:
  void fork(detail::Group& group, const Plan& plan, const PlanProcess& p, std::vector<std::unique_ptr<Object>>& objects,
            Board& board, const Recorder& recorder, const Schedule& schedule, const Overlap& ov) {
    const bool pct = schedule.mode == ScheduleMode::pct;
    const bool overlap = schedule.mode == ScheduleMode::overlap;
    const pid_t pid = group.fork_child(p.index, p.role, [&] {
      int code = 0;
      try {
        if (pct) enter_pct(schedule.priorities.at(p.index));
        b_->after_fork_in_child();
        for (const auto& [o, e] : p.close_first) {
          PipeEnds& ends = objects[o]->pipe;
          (e == 0 ? ends.first : ends.second)->close();
        }
        board.ready.fetch_add(1);
        wake_all(board.ready);
        if (!wait_while_equal(board.gate, 0, plan.timing.wait)) ::_exit(4);
        if (overlap) {
          run_overlap(plan, p, objects, board, recorder, schedule, ov);
        } else {
          const ProcessLog plog = recorder.log(p.index);
          const Log log(plog, board, schedule);
          Interpreter(*b_, plan.timing, objects, board, recorder, log, !pct).run(p.steps);
        }
      } catch (const std::exception& e) {
        note(board, p.index, e.what());
        code = kExitUnexpected;
      } catch (...) {
        note(board, p.index, "an exception that is not a std::exception");
        code = kExitUnexpected;
      }
      // _exit: no atexit handlers, no static destructors, no flush of inherited buffers.
      ::_exit(code);
    });
    board.pids[p.index].store(pid);
  }

  // One actor of an overlap run (ScheduleMode::overlap): its steps once per iteration, released
  // with the others after its start offset. The leader (the lowest actor) also starts each
  // iteration (initial values back) and, once every actor is done, runs the later phases' steps
  // under their own process indices.
  void run_overlap(const Plan& plan, const PlanProcess& me, std::vector<std::unique_ptr<Object>>& objects,
                   Board& board, const Recorder& recorder, const Schedule& sch, const Overlap& ov) {
    std::vector<const PlanProcess*> actors, later;
    for (const PlanProcess& q : plan.processes) (q.phase == 0 ? actors : later).push_back(&q);
    std::stable_sort(later.begin(), later.end(), [](auto* a, auto* b) { return a->phase < b->phase; });
    const bool leader = std::all_of(actors.begin(), actors.end(), [&](auto* q) { return q->index >= me.index; });
    const auto others = static_cast<std::uint32_t>(actors.size() - 1);
    // Spin only while every actor can have a CPU: with more, a spinner keeps the others waiting.
    const std::int64_t spin = actors.size() < static_cast<std::size_t>(::sysconf(_SC_NPROCESSORS_ONLN)) + 1
                                  ? 50'000 : 0;
    PlanTiming timing = plan.timing;
    timing.settle = 0;  // the actors are done: what they put is in the queue (no feeder to wait for)
    const double wait = plan.timing.wait;
    // The steps of one plan process run here, recorded under its index (the interpreter refers
    // to the log, the log to the process log: they live together, unmoved).
    struct Runner {
      Runner(CppExecutor& e, const PlanTiming& t, std::vector<std::unique_ptr<Object>>& objects, Board& board,
             const Recorder& recorder, const Schedule& sch, const PlanProcess& p)
          : process(p), plog(recorder.log(p.index)), log(plog, board, sch),
            in(*e.b_, t, objects, board, recorder, log, false, 5) {}
      void run() { in.run(process.steps); }
      const PlanProcess& process;
      const ProcessLog plog;
      const Log log;
      Interpreter in;
    };
    Runner mine(*this, timing, objects, board, recorder, sch, me);
    std::vector<std::unique_ptr<Runner>> arbiters;  // in the leader: the later phases, in order
    if (leader)
      for (const PlanProcess* q : later)
        arbiters.push_back(std::make_unique<Runner>(*this, timing, objects, board, recorder, sch, *q));
    OverlapBoard& ob = ov.board;
    // Ends the loop: the others, waiting for release `go`, wake up to the stop flag.
    auto stop_at = [&](std::uint32_t go) {
      ob.stop.store(1, std::memory_order_release);
      set_and_wake(ob.go, go, ob.go_sleepers);
    };
    // A retry's backoff sleeps microseconds here: without this, each sleep lasts the default
    // 50 us slack, longer than a whole iteration.
    ::prctl(PR_SET_TIMERSLACK, 1UL);
    const std::int64_t began = monotonic_ns();
    const std::int64_t budget = ns_of(sch.seconds);
    for (std::uint32_t it = 0;; ++it) {
      if (leader) {
        const bool done = it >= sch.iterations || (it > 0 && monotonic_ns() - began > budget) ||
                          recorder.claimed() + ov.per_iteration > recorder.capacity() ||
                          ob.enough.load(std::memory_order_acquire) != 0;
        if (done) return stop_at(it + 1);
        ov.starts[it] = monotonic_ns();
        ov.first_slots[it] = recorder.claimed();
        ob.iterations.store(it + 1, std::memory_order_release);
        reset_objects(plan, objects);
        ob.arrived.store(0, std::memory_order_relaxed);
        set_and_wake(ob.go, it + 1, ob.go_sleepers);
      } else {
        // A barrier that times out is not this process's failure: the one it waits for is stuck
        // (the watchdog reports it, with its pending call) or died (a crash verdict of its own).
        if (!await_change(ob.go, it, wait, spin, ob.go_sleepers)) return;
        if (ob.stop.load(std::memory_order_acquire) != 0) return;
      }
      spin_for(overlap_offset_ns(sch, it, me.index));
      try {
        mine.run();
      } catch (...) {
        // This process stops (its note says why); the others end the loop after this iteration
        // instead of waiting for it until their bound.
        ob.failed.store(1, std::memory_order_release);
        if (leader)
          stop_at(it + 2);
        else
          add_and_wake(ob.arrived, ob.arrived_sleepers);
        throw;
      }
      if (!leader) {
        add_and_wake(ob.arrived, ob.arrived_sleepers);
        continue;
      }
      for (std::uint32_t n; (n = ob.arrived.load(std::memory_order_acquire)) < others;)
        if (!await_change(ob.arrived, n, wait, spin, ob.arrived_sleepers)) return;
      for (const auto& a : arbiters) a->run();
      if (ob.failed.load(std::memory_order_acquire) != 0) return stop_at(it + 2);
    }
  }

  // The hang report: each live process (and each child a step started) with its pending call.
  static void describe_live(detail::Group& group, Board& board, const Recorder& recorder, Execution& out) {
    const History h = recorder.read();
    auto pending_of = [&](std::uint32_t index) {
      std::string pending = "no call in flight";
      for (const Op& op : h.ops)
        if (op.process == index && !op.completed()) pending = "in " + describe(op);
      return pending;
    };
    std::vector<bool> listed(kMaxPlanProcesses, false);
    for (const ProcessReport& r : out.processes)
      if (r.process < kMaxPlanProcesses) listed[r.process] = true;
    for (std::uint32_t i = 0; i < kMaxPlanProcesses; ++i) {  // processes a step started
      const pid_t pid = board.pids[i].load();
      if (listed[i] || pid <= 0 || ::kill(pid, 0) != 0 || detail::proc_state(pid) == 'Z') continue;
      ProcessReport r;
      r.process = i;
      r.pid = pid;
      r.role = "child";
      out.processes.push_back(r);
    }
    std::vector<ProcessReport*> hung;
    for (ProcessReport& r : out.processes)
      if (!r.status) {
        r.pending = pending_of(r.process);
        hung.push_back(&r);
      }
    group.describe_hung(hung);
    for (const ProcessReport* r : hung) out.hang += "\n  " + detail::describe_hung_line(*r);
    out.hang = detail::starvation_of(out.processes) + out.hang;
  }

  std::unique_ptr<Backend> b_;
};

}  // namespace

int pct_cpu() {
  const long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 1 ? static_cast<int>(n - 1) : 0;
}

bool pct_permitted() {
  static const bool permitted = [] {
    const pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) {
      sched_param p{};
      p.sched_priority = 1;
      ::_exit(::sched_setscheduler(0, SCHED_FIFO, &p) == 0 ? 0 : 1);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }();
  return permitted;
}

std::unique_ptr<Executor> make_cpp_executor(std::unique_ptr<Backend> backend) {
  return std::make_unique<CppExecutor>(std::move(backend));
}

}  // namespace mpconform
