// The programs of the scenario processes, one set per property, and their checks.
#include "programs.hpp"

#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "mpconform/checkers.hpp"
#include "mpconform/tiers.hpp"
#include "mpref/errors.hpp"

namespace mpconform::engine {

// ---- shared-memory waits --------------------------------------------------------------------

bool wait_while_equal(std::atomic<std::uint32_t>& word, std::uint32_t value, double timeout_s) {
  const std::int64_t deadline = monotonic_ns() + static_cast<std::int64_t>(timeout_s * 1e9);
  while (word.load(std::memory_order_acquire) == value) {
    const std::int64_t left = deadline - monotonic_ns();
    if (left <= 0) return false;
    timespec ts{static_cast<time_t>(left / 1'000'000'000), static_cast<long>(left % 1'000'000'000)};
    // Not FUTEX_PRIVATE: the word is in a MAP_SHARED mapping seen by several processes.
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT, value, &ts, nullptr, 0);
  }
  return true;
}

void wake_all(std::atomic<std::uint32_t>& word) {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE, INT_MAX, nullptr, nullptr,
          0);
}

void sleep_us(std::uint64_t us) {
  if (us == 0) return;
  timespec ts{static_cast<time_t>(us / 1'000'000), static_cast<long>((us % 1'000'000) * 1000)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

double patience_s() { return 2 * seconds(tiers::short_); }
double daemon_life_s() { return 4 * seconds(tiers::short_); }
double observe_s() { return 6 * seconds(tiers::short_); }
double stall_s() { return seconds(tiers::long_); }

namespace {

// ---- recording helpers ----------------------------------------------------------------------

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

// A call ended in a way the program does not expect: the history says info, the process stops.
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

// Runs f() (returning a value); the call is ok with the value, or fails with a definite error.
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

// Runs f() (returning nothing); true when ok, false on a definite error.
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

// Runs f() returning a bool (acquire, poll, join with timeout): ok on true, fail Timeout on false.
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
  void pause() {
    sleep_us(us_);
    us_ = std::min<std::uint64_t>(us_ * 2, 2000);
  }
  void reset() { us_ = 100; }

 private:
  std::uint64_t us_ = 100;
};

constexpr std::size_t kNone = static_cast<std::size_t>(-1);

std::int64_t ns_of(double s) { return static_cast<std::int64_t>(s * 1e9); }

std::int64_t tns(const CallArgs& a) { return timeout_ns_of(a.block, a.timeout); }

std::uint64_t total_items(const std::vector<Producer>& ps) {
  std::uint64_t n = 0;
  for (const Producer& p : ps) n += p.puts.size();
  return n;
}

// ---- queue-like programs (queue, joinable) --------------------------------------------------

// Puts producer `index`'s items; a put that raised Full is retried with the same item.
int run_producer(Queue* q, SimpleQueue* sq, const Producer& p, std::uint32_t index,
                 const ProcessLog& log) {
  const std::int64_t patience = ns_of(patience_s());
  for (std::size_t i = 0; i < p.puts.size(); ++i) {
    const CallArgs& a = p.puts[i];
    const std::uint64_t tag = make_tag(index, i);
    sleep_us(a.delay_us);
    std::int64_t last = monotonic_ns();
    Backoff backoff;
    for (;;) {
      if (sq != nullptr) {
        void_call(log.invoke(OpKind::put, 0, tag, kNoTimeout), [&] { sq->put(tag); }, {});
        break;
      }
      if (void_call(log.invoke(OpKind::put, 0, tag, tns(a)), [&] { q->put(tag, a.block, a.timeout); },
                    {ErrorKind::Full}))
        break;
      if (monotonic_ns() - last > patience) return 0;  // consumers are gone: give up
      backoff.pause();
    }
  }
  return 0;
}

// One get with `a`'s arguments; the item or nullopt (Empty).
std::optional<std::uint64_t> get_one(Queue* q, SimpleQueue* sq, const CallArgs& a,
                                     const ProcessLog& log) {
  if (sq != nullptr) {
    const std::optional<double> t = a.block ? a.timeout : std::optional<double>(0.0);
    return value_call(log.invoke(OpKind::get, 0, 0, timeout_ns_of(true, t)), [&] { return sq->get(t); },
                      {ErrorKind::Empty});
  }
  return value_call(log.invoke(OpKind::get, 0, 0, tns(a)), [&] { return q->get(a.block, a.timeout); },
                    {ErrorKind::Empty});
}

void probe(Queue* q, SimpleQueue* sq, Probe p, const ProcessLog& log) {
  switch (p) {
    case Probe::none: return;
    case Probe::qsize:
      if (q) value_call(log.invoke(OpKind::qsize), [&] { return static_cast<std::uint64_t>(q->qsize()); }, {});
      return;
    case Probe::empty:
      value_call(log.invoke(OpKind::empty), [&] { return std::uint64_t{q ? q->empty() : sq->empty()}; }, {});
      return;
    case Probe::full:
      if (q) value_call(log.invoke(OpKind::full), [&] { return std::uint64_t{q->full()}; }, {});
      return;
  }
}

// Gets until `quota` items were got, or no item came for the patience. `after` runs after every
// item got (JoinableQueue: task_done).
template <class After>
int run_consumer(Queue* q, SimpleQueue* sq, std::uint32_t quota, const std::vector<CallArgs>& gets,
                 const std::vector<Probe>* probes, const ProcessLog& log, After&& after) {
  const std::int64_t patience = ns_of(patience_s());
  std::uint32_t got = 0;
  std::int64_t last = monotonic_ns();
  Backoff backoff;
  for (std::size_t i = 0; got < quota; ++i) {
    const CallArgs& a = gets[i % gets.size()];
    sleep_us(a.delay_us);
    if (get_one(q, sq, a, log)) {
      ++got;
      last = monotonic_ns();
      backoff.reset();
      after();
    } else {
      if (monotonic_ns() - last > patience) break;
      backoff.pause();
    }
    if (probes) probe(q, sq, (*probes)[i % probes->size()], log);
  }
  return 0;
}

// Runs after every producer and consumer has exited: gets without waiting until Empty, then
// once more with a short timeout (the last op, an Empty, is what the checker's `drained` needs).
// Waiting is not needed for an exact queue; the timeout only spares a backend whose items
// become visible a moment after put() returns (CPython's feeder thread) a false alarm.
int run_drainer(Queue* q, SimpleQueue* sq, std::uint64_t items, const ProcessLog& log) {
  CallArgs nowait;
  nowait.block = false;
  CallArgs last;
  last.timeout = seconds(tiers::clock);
  for (std::uint64_t n = 0; n < items + 16; ++n)
    if (!get_one(q, sq, nowait, log) && !get_one(q, sq, last, log)) break;
  return 0;
}

// ---- the plans --------------------------------------------------------------------------------

struct QueueObjects {
  std::unique_ptr<Queue> q;
  std::unique_ptr<SimpleQueue> sq;
};

Plan queue_plan(Backend& b, const QueueScenario& s) {
  auto o = std::make_shared<QueueObjects>();
  if (s.type == QueueType::simple_queue)
    o->sq = b.make_simple_queue();
  else
    o->q = b.make_queue(s.maxsize);
  Plan plan;
  Queue* q = o->q.get();
  SimpleQueue* sq = o->sq.get();
  const auto P = static_cast<std::uint32_t>(s.producers.size());
  const auto C = static_cast<std::uint32_t>(s.consumers.size());
  for (std::uint32_t p = 0; p < P; ++p)
    plan.procs.push_back({p, fmt::format("producer {}", p), 0, [q, sq, &s, p](const ProcessLog& log) {
                            return run_producer(q, sq, s.producers[p], p, log);
                          }});
  for (std::uint32_t c = 0; c < C; ++c)
    plan.procs.push_back({P + c, fmt::format("consumer {}", c), 0, [q, sq, &s, c](const ProcessLog& log) {
                            const Consumer& k = s.consumers[c];
                            return run_consumer(q, sq, k.quota, k.gets, &k.probes, log, [] {});
                          }});
  plan.procs.push_back({P + C, "drainer", 1, [q, sq, &s](const ProcessLog& log) {
                          return run_drainer(q, sq, total_items(s.producers), log);
                        }});
  plan.objects = o;
  return plan;
}

Plan lock_plan(Backend& b, const LockScenario& s) {
  std::shared_ptr<Lock> lk = s.type == LockType::lock ? b.make_lock() : b.make_rlock();
  Plan plan;
  for (std::uint32_t w = 0; w < s.workers.size(); ++w)
    plan.procs.push_back({w, fmt::format("worker {}", w), 0, [lk, &s, w](const ProcessLog& log) {
                            for (const LockAttempt& a : s.workers[w]) {
                              sleep_us(a.acquire.delay_us);
                              if (a.release_unowned_first)
                                void_call(log.invoke(OpKind::release), [&] { lk->release(); },
                                          {ErrorKind::AssertionError});
                              if (!bool_call(log.invoke(OpKind::acquire, 0, 0, tns(a.acquire)),
                                             [&] { return lk->acquire(a.acquire.block, a.acquire.timeout); }))
                                continue;
                              for (std::uint32_t d = 1; d < a.depth; ++d)
                                bool_call(log.invoke(OpKind::acquire, 0, 0, kNoTimeout),
                                          [&] { return lk->acquire(true, std::nullopt); });
                              sleep_us(a.hold_us);
                              for (std::uint32_t d = 0; d < a.depth; ++d)
                                void_call(log.invoke(OpKind::release), [&] { lk->release(); },
                                          {ErrorKind::ValueError, ErrorKind::AssertionError});
                            }
                            return 0;
                          }});
  plan.objects = lk;
  return plan;
}

struct TicketObjects {
  std::unique_ptr<Lock> lock;            // file store
  std::unique_ptr<SharedValue> value;    // value store
  int fd = -1;
  std::string path;
  TicketIo io;
  ~TicketObjects() {
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

Plan tickets_plan(Backend& b, const TicketScenario& s) {
  auto o = std::make_shared<TicketObjects>();
  if (s.store == TicketStore::file) {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = fmt::format("{}/mpconform-tickets-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    o->fd = ::mkstemp(templ.data());
    if (o->fd < 0) throw std::runtime_error(fmt::format("mkstemp: {}", std::strerror(errno)));
    o->path = templ;
    file_write(o->fd, s.tickets);
    o->lock = b.make_lock();
    const int fd = o->fd;
    o->io.read = [fd] { return file_read(fd); };
    o->io.write = [fd](std::uint64_t v) { file_write(fd, v); };
  } else {
    o->value = b.make_value(s.tickets);
    SharedValue* v = o->value.get();
    o->io.read = [v] { return v->read(); };
    o->io.write = [v](std::uint64_t x) { v->write(x); };
  }
  Lock* lock = o->lock ? o->lock.get() : &o->value->get_lock();
  const TicketProgram program = b.ticket_program();
  Plan plan;
  const auto B = static_cast<std::uint32_t>(s.buyers.size());
  for (std::uint32_t i = 0; i < B; ++i)
    plan.procs.push_back({i, fmt::format("buyer {}", i), 0, [o, lock, program, &s, i](const ProcessLog& log) {
                            const Buyer& buyer = s.buyers[i];
                            TicketIo io = o->io;
                            io.pause = [&] { sleep_us(buyer.pause_us); };
                            sleep_us(buyer.start_delay_us);
                            for (std::uint32_t a = 0; a < buyer.attempts; ++a) {
                              Call c = log.invoke(OpKind::buy);
                              std::uint64_t ticket = 0;
                              try {
                                ticket = program(*lock, io);
                              } catch (const mpref::Error& e) {
                                settle(c, e, {});
                              }
                              if (ticket > 0) {
                                c.ok(ticket);
                                break;
                              }
                              c.fail(ErrorKind::SoldOut);
                            }
                            return 0;
                          }});
  plan.procs.push_back({B, "reader", 1, [o](const ProcessLog& log) {
                          value_call(log.invoke(OpKind::read), [&] { return o->io.read(); }, {});
                          return 0;
                        }});
  plan.objects = o;
  return plan;
}

Plan joinable_plan(Backend& b, const JoinableScenario& s) {
  std::shared_ptr<JoinableQueue> jq = b.make_joinable_queue(s.maxsize);
  Plan plan;
  const auto P = static_cast<std::uint32_t>(s.producers.size());
  const auto C = static_cast<std::uint32_t>(s.consumers.size());
  const auto J = static_cast<std::uint32_t>(s.joiners.size());
  for (std::uint32_t p = 0; p < P; ++p)
    plan.procs.push_back({p, fmt::format("producer {}", p), 0, [jq, &s, p](const ProcessLog& log) {
                            return run_producer(jq.get(), nullptr, s.producers[p], p, log);
                          }});
  for (std::uint32_t c = 0; c < C; ++c)
    plan.procs.push_back({P + c, fmt::format("consumer {}", c), 0, [jq, &s, c](const ProcessLog& log) {
                            const JoinableConsumer& k = s.consumers[c];
                            return run_consumer(jq.get(), nullptr, k.quota, k.gets, nullptr, log, [&] {
                              sleep_us(k.task_pause_us);
                              void_call(log.invoke(OpKind::task_done), [&] { jq->task_done(); },
                                        {ErrorKind::ValueError});
                            });
                          }});
  for (std::uint32_t j = 0; j < J; ++j)
    plan.procs.push_back({P + C + j, fmt::format("joiner {}", j), 0, [jq, &s, j](const ProcessLog& log) {
                            sleep_us(s.joiners[j]);
                            const double t = observe_s();
                            bool_call(log.invoke(OpKind::join, 0, 0, timeout_ns_of(true, t)),
                                      [&] { return jq->join(t); });
                            return 0;
                          }});
  plan.procs.push_back({P + C + J, "over-caller", 1, [jq, &s](const ProcessLog& log) {
                          for (std::uint32_t n = 0; n < s.extra_task_done; ++n)
                            void_call(log.invoke(OpKind::task_done), [&] { jq->task_done(); },
                                      {ErrorKind::ValueError});
                          const double t = seconds(tiers::short_);
                          bool_call(log.invoke(OpKind::join, 0, 0, timeout_ns_of(true, t)),
                                    [&] { return jq->join(t); });
                          return 0;
                        }});
  plan.objects = jq;
  return plan;
}

// Objects of the timeouts property, each in a state where its timed calls must time out.
enum TimeoutObject : std::uint32_t {
  kEmptyQueue = 0,
  kFullQueue = 1,
  kSimpleQueue = 2,
  kHeldLock = 3,
  kHeldRLock = 4,
  kJoinable = 5,
  kQuietPipe = 6,
};

struct TimeoutObjects {
  std::unique_ptr<Queue> empty;
  std::unique_ptr<Queue> full;
  std::unique_ptr<SimpleQueue> simple;
  std::unique_ptr<Lock> lock;
  std::unique_ptr<Lock> rlock;
  std::unique_ptr<JoinableQueue> joinable;
  PipeEnds pipe;
};

Plan timeouts_plan(Backend& b, const TimeoutScenario& s, const Recorder& rec) {
  auto o = std::make_shared<TimeoutObjects>();
  o->empty = b.make_queue(0);
  o->full = b.make_queue(s.full_maxsize);
  o->simple = b.make_simple_queue();
  o->lock = b.make_lock();
  o->rlock = b.make_rlock();
  o->joinable = b.make_joinable_queue(0);
  o->pipe = b.make_pipe(false);
  // Setup in the parent, recorded as process W so the checkers see the state. Nothing here may
  // block: a broken backend must not hang the harness.
  const auto W = static_cast<std::uint32_t>(s.workers.size());
  const ProcessLog setup = rec.log(W);
  for (std::int64_t i = 0; i < s.full_maxsize; ++i) {
    const std::uint64_t tag = make_tag(W, static_cast<std::uint64_t>(i));
    if (!void_call(setup.invoke(OpKind::put, kFullQueue, tag, 0), [&] { o->full->put(tag, false); },
                   {ErrorKind::Full}))
      break;
  }
  bool_call(setup.invoke(OpKind::acquire, kHeldLock, 0, 0), [&] { return o->lock->acquire(false); });
  bool_call(setup.invoke(OpKind::acquire, kHeldRLock, 0, 0), [&] { return o->rlock->acquire(false); });
  const std::uint64_t jtag = make_tag(W, 1000);
  void_call(setup.invoke(OpKind::put, kJoinable, jtag, 0), [&] { o->joinable->put(jtag, false); },
            {ErrorKind::Full});

  Plan plan;
  for (std::uint32_t w = 0; w < W; ++w)
    plan.procs.push_back({w, fmt::format("worker {}", w), 0, [o, &s, &b, w](const ProcessLog& log) {
                            std::uint64_t seq = 0;
                            for (const TimedCall& t : s.workers[w]) {
                              const CallArgs& a = t.call;
                              sleep_us(a.delay_us);
                              switch (t.op) {
                                case TimedOp::queue_get:
                                  value_call(log.invoke(OpKind::get, kEmptyQueue, 0, tns(a)),
                                             [&] { return o->empty->get(a.block, a.timeout); },
                                             {ErrorKind::Empty});
                                  break;
                                case TimedOp::queue_put: {
                                  const std::uint64_t tag = make_tag(w, seq++);
                                  void_call(log.invoke(OpKind::put, kFullQueue, tag, tns(a)),
                                            [&] { o->full->put(tag, a.block, a.timeout); }, {ErrorKind::Full});
                                  break;
                                }
                                case TimedOp::simple_get:
                                  value_call(log.invoke(OpKind::get, kSimpleQueue, 0, timeout_ns_of(true, a.timeout)),
                                             [&] { return o->simple->get(a.timeout); }, {ErrorKind::Empty});
                                  break;
                                case TimedOp::lock_acquire:
                                case TimedOp::rlock_acquire: {
                                  Lock& l = t.op == TimedOp::lock_acquire ? *o->lock : *o->rlock;
                                  const std::uint32_t obj = t.op == TimedOp::lock_acquire ? kHeldLock : kHeldRLock;
                                  if (bool_call(log.invoke(OpKind::acquire, obj, 0, tns(a)),
                                                [&] { return l.acquire(a.block, a.timeout); }))
                                    void_call(log.invoke(OpKind::release, obj), [&] { l.release(); },
                                              {ErrorKind::ValueError, ErrorKind::AssertionError});
                                  break;
                                }
                                case TimedOp::joinable_join:
                                  bool_call(log.invoke(OpKind::join, kJoinable, 0, timeout_ns_of(true, a.timeout)),
                                            [&] { return o->joinable->join(a.timeout); });
                                  break;
                                case TimedOp::pipe_poll:
                                  bool_call(log.invoke(OpKind::poll, kQuietPipe, 0, timeout_ns_of(true, a.timeout)),
                                            [&] { return o->pipe.first->poll(a.timeout); });
                                  break;
                                case TimedOp::process_join: {
                                  const double life = daemon_life_s();
                                  auto child = b.make_process([life] { sleep_us(static_cast<std::uint64_t>(life * 1e6)); }, false);
                                  child->start();
                                  bool_call(log.invoke(OpKind::process_join, 0, 0, timeout_ns_of(true, a.timeout)),
                                            [&] {
                                              child->join(a.timeout);
                                              return !child->is_alive();
                                            });
                                  child->terminate();
                                  child->join(seconds(tiers::long_));
                                  break;
                                }
                              }
                            }
                            return 0;
                          }});
  plan.objects = o;
  return plan;
}

// daemon: 0 parent, 1 observer, 2+i children.
Plan daemon_plan(Backend& b, const DaemonScenario& s, const Recorder& rec, Board& board) {
  Plan plan;
  Board* bd = &board;
  const Recorder* recorder = &rec;
  const auto N = static_cast<std::uint32_t>(s.children.size());
  plan.procs.push_back({0, "parent", 0, [&b, &s, bd, N, recorder](const ProcessLog& log) {
                          std::vector<std::unique_ptr<Process>> kids;
                          const double wait = seconds(tiers::long_);
                          for (std::uint32_t i = 0; i < N; ++i) {
                            const DaemonChild c = s.children[i];
                            const double life = daemon_life_s();
                            auto target = [bd, c, life, wait, recorder, i] {
                              // Alive until the observer watches, then work (or, daemonic, live
                              // until killed, at most the daemon life). The exit op proves
                              // when the child ended, which the observer may only see later.
                              wait_while_equal(bd->watching, 0, wait);
                              sleep_us(c.daemon ? static_cast<std::uint64_t>(life * 1e6) : c.run_us);
                              recorder->log(2 + i).instant(OpKind::exit);
                            };
                            kids.push_back(b.make_process(target, c.daemon));
                            void_call(log.invoke(OpKind::start, 0, 2 + i, kNoTimeout, c.daemon ? 1 : 0),
                                      [&] { kids.back()->start(); }, {});
                            bd->pids[2 + i].store(kids.back()->pid().value_or(0));
                            bd->published.fetch_add(1, std::memory_order_release);
                            wake_all(bd->published);
                          }
                          if (!wait_while_equal(bd->watching, 0, wait))
                            throw std::runtime_error("the observer did not start watching");
                          sleep_us(s.parent_delay_us);
                          Call exit = log.invoke(OpKind::exit);
                          b.exit_handling();
                          exit.ok();
                          return 0;
                        }});
  plan.procs.push_back({1, "observer", 0, [&s, bd, N](const ProcessLog& log) {
                          const double wait = seconds(tiers::long_);
                          for (std::uint32_t n; (n = bd->published.load(std::memory_order_acquire)) < N;)
                            if (!wait_while_equal(bd->published, n, wait))
                              throw std::runtime_error("the parent did not publish its children");
                          (void)s;
                          // Watch the parent and every child; each is alive now (children wait
                          // for `watching`, the parent too), so a gone op invoked now is honest.
                          std::vector<std::uint32_t> who{0};
                          for (std::uint32_t i = 0; i < N; ++i) who.push_back(2 + i);
                          std::vector<pollfd> fds;
                          std::vector<Call> calls;
                          for (std::uint32_t p : who) {
                            const int fd = static_cast<int>(syscall(SYS_pidfd_open, bd->pids[p].load(), 0));
                            if (fd < 0) throw std::runtime_error(fmt::format("pidfd_open of process {}: {}", p, std::strerror(errno)));
                            fds.push_back({fd, POLLIN, 0});
                            calls.push_back(log.invoke(OpKind::gone, 0, p));
                          }
                          bd->watching.store(1, std::memory_order_release);
                          wake_all(bd->watching);
                          const std::int64_t deadline = monotonic_ns() + ns_of(observe_s());
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
                          return 0;
                        }});
  return plan;
}

struct PipeObjects {
  PipeEnds ends;
};

// Reads direction `object` from `c` until EOF (or `limit` messages, or a poll that times out
// when `stop_on_quiet`). Returns whether EOF was seen.
bool read_direction(Connection& c, std::uint32_t object, const std::vector<CallArgs>& polls,
                    std::size_t limit, bool stop_on_quiet, const ProcessLog& log) {
  for (std::size_t i = 0; i < limit; ++i) {
    if (!polls.empty()) {
      const CallArgs& a = polls[i % polls.size()];
      bool_call(log.invoke(OpKind::poll, object, 0, timeout_ns_of(true, a.timeout)),
                [&] { return c.poll(a.timeout); });
    }
    if (stop_on_quiet) {
      const double t = observe_s();
      if (!bool_call(log.invoke(OpKind::poll, object, 0, timeout_ns_of(true, t)), [&] { return c.poll(t); }))
        return false;
    }
    if (!value_call(log.invoke(OpKind::recv, object), [&] { return c.recv(); }, {ErrorKind::EOFError}))
      return true;
  }
  return false;
}

void send_all(Connection& c, std::uint32_t object, std::uint32_t writer, const PipeWriter& w,
              const ProcessLog& log) {
  for (std::size_t k = 0; k < w.delays_us.size(); ++k) {
    sleep_us(w.delays_us[k]);
    const std::uint64_t tag = make_tag(writer, k);
    if (!void_call(log.invoke(OpKind::send, object, tag), [&] { c.send(tag); },
                   {ErrorKind::BrokenPipeError}))
      return;
  }
}

Plan pipe_plan(Backend& b, const PipeScenario& s) {
  auto o = std::make_shared<PipeObjects>();
  o->ends = b.make_pipe(s.duplex);
  Plan plan;
  Connection* first = o->ends.first.get();
  Connection* second = o->ends.second.get();
  std::size_t total = 0;
  for (const PipeWriter& w : s.writers) total += w.delays_us.size();
  if (!s.duplex) {
    const auto W = static_cast<std::uint32_t>(s.writers.size());
    for (std::uint32_t w = 0; w < W; ++w)
      plan.procs.push_back({w, fmt::format("writer {}", w), 0,
                            [second, &s, w](const ProcessLog& log) {
                              send_all(*second, 0, w, s.writers[w], log);
                              void_call(log.invoke(OpKind::close, 0), [&] { second->close(); }, {});
                              return 0;
                            },
                            [first] { first->close(); }});
    plan.procs.push_back({W, "reader", 0,
                          [first, &s, total](const ProcessLog& log) {
                            read_direction(*first, 0, s.polls, total + 8, false, log);
                            first->close();
                            return 0;
                          },
                          [second] { second->close(); }});
  } else {
    const std::size_t n1 = s.writers[1].delays_us.size();
    plan.procs.push_back({0, "end 0", 0,
                          [first, &s, n1](const ProcessLog& log) {
                            send_all(*first, 0, 0, s.writers[0], log);
                            read_direction(*first, 1, s.polls, n1, true, log);
                            void_call(log.invoke(OpKind::close, 0), [&] { first->close(); }, {});
                            return 0;
                          },
                          [second] { second->close(); }});
    plan.procs.push_back({1, "end 1", 0,
                          [second, &s, total](const ProcessLog& log) {
                            send_all(*second, 1, 1, s.writers[1], log);
                            read_direction(*second, 0, s.polls, total + 8, false, log);
                            void_call(log.invoke(OpKind::close, 1), [&] { second->close(); }, {});
                            return 0;
                          },
                          [first] { first->close(); }});
  }
  // The parent's copies must go, or EOF never comes.
  plan.after_fork_in_parent = [first, second] {
    first->close();
    second->close();
  };
  plan.objects = o;
  return plan;
}

Plan value_plan(Backend& b, const ValueScenario& s) {
  std::shared_ptr<SharedValue> v = b.make_value(s.initial);
  Plan plan;
  const auto W = static_cast<std::uint32_t>(s.workers.size());
  for (std::uint32_t w = 0; w < W; ++w)
    plan.procs.push_back({w, fmt::format("worker {}", w), 0, [v, &s, w](const ProcessLog& log) {
                            for (std::uint32_t think : s.workers[w]) {
                              // with v.get_lock(): v.value += 1
                              value_call(log.invoke(OpKind::increment),
                                         [&] {
                                           Lock& l = v->get_lock();
                                           l.acquire();
                                           std::uint64_t x = 0;
                                           try {
                                             x = v->read() + 1;
                                             sleep_us(think);
                                             v->write(x);
                                           } catch (...) {
                                             l.release();
                                             throw;
                                           }
                                           l.release();
                                           return x;
                                         },
                                         {});
                            }
                            return 0;
                          }});
  plan.procs.push_back({W, "reader", 1, [v](const ProcessLog& log) {
                          value_call(log.invoke(OpKind::read), [&] { return v->read(); }, {});
                          return 0;
                        }});
  plan.objects = v;
  return plan;
}

// ---- checks ---------------------------------------------------------------------------------

// The last op of `process` (by invoke time), or nullptr.
const Op* last_op_of(const History& h, std::uint32_t process) {
  const Op* last = nullptr;
  for (const Op& op : h.ops)
    if (op.process == process && (last == nullptr || op.invoke_ns >= last->invoke_ns)) last = &op;
  return last;
}

bool ended_with(const History& h, std::uint32_t process, OpKind kind, ErrorKind error) {
  const Op* op = last_op_of(h, process);
  return op != nullptr && op->kind == kind && op->failed() && op->error == error;
}

// Scenario-level rule of the daemon programs: CPython's exit handling SIGTERMs the daemonic
// children *first* and only then joins the others, so a daemonic child (which does not ignore
// SIGTERM here) is gone within `short` of the start of its parent's exit work, however long the
// non-daemonic ones take (X-EXIT-1). The daemon checker measures from the end of the exit work,
// which a backend that ignores the daemon flag delays by joining the daemonic child.
Verdict daemon_terminated_first(const History& h) {
  // Twice `short`: the rule must tell "terminated" from "lived out its daemon life" (4 x
  // short), and a loaded machine may take a while to schedule a dying process.
  const std::int64_t grace = 2 * nanoseconds(tiers::short_);
  std::size_t exit = kNone;
  for (std::size_t i = 0; i < h.ops.size(); ++i)
    if (h.ops[i].process == 0 && h.ops[i].kind == OpKind::exit && h.ops[i].ok()) exit = i;
  if (exit == kNone) return Verdict::ok();
  const std::int64_t e = h.ops[exit].invoke_ns;
  for (std::size_t s = 0; s < h.ops.size(); ++s) {
    const Op& st = h.ops[s];
    if (st.process != 0 || st.kind != OpKind::start || !st.ok() || st.aux != 1) continue;
    for (std::size_t g = 0; g < h.ops.size(); ++g) {
      const Op& gone = h.ops[g];
      if (gone.kind != OpKind::gone || gone.value != st.value || gone.info()) continue;
      if (gone.return_ns > e + grace)
        return Verdict::illegal(
            "X-EXIT-1", {s, exit, g},
            fmt::format("daemonic child p{} was still alive {:.3f} s after its parent began its exit work "
                        "(daemonic children are terminated first; allowed: {:.3f} s)",
                        st.value, static_cast<double>(gone.return_ns - e) / 1e9,
                        static_cast<double>(grace) / 1e9));
    }
  }
  return Verdict::ok();
}

}  // namespace

Plan make_plan(Backend& backend, const Scenario& scenario, const Recorder& recorder, Board& board) {
  return std::visit(
      [&](const auto& s) -> Plan {
        using S = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<S, QueueScenario>) return queue_plan(backend, s);
        if constexpr (std::is_same_v<S, LockScenario>) return lock_plan(backend, s);
        if constexpr (std::is_same_v<S, TicketScenario>) return tickets_plan(backend, s);
        if constexpr (std::is_same_v<S, JoinableScenario>) return joinable_plan(backend, s);
        if constexpr (std::is_same_v<S, TimeoutScenario>) return timeouts_plan(backend, s, recorder);
        if constexpr (std::is_same_v<S, DaemonScenario>) return daemon_plan(backend, s, recorder, board);
        if constexpr (std::is_same_v<S, PipeScenario>) return pipe_plan(backend, s);
        if constexpr (std::is_same_v<S, ValueScenario>) return value_plan(backend, s);
      },
      scenario.body);
}

Verdict check_scenario(const Scenario& scenario, const History& h) {
  return std::visit(
      [&](const auto& s) -> Verdict {
        using S = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<S, QueueScenario>) {
          QueueCheckOptions o;
          o.maxsize = s.maxsize;
          o.simple_queue = s.type == QueueType::simple_queue;
          const auto drainer = static_cast<std::uint32_t>(s.producers.size() + s.consumers.size());
          o.drained = ended_with(h, drainer, OpKind::get, ErrorKind::Empty);
          return check_queue(h, o);
        } else if constexpr (std::is_same_v<S, LockScenario>) {
          LockCheckOptions o;
          o.reentrant = s.type == LockType::rlock;
          return check_lock(h, o);
        } else if constexpr (std::is_same_v<S, TicketScenario>) {
          TicketCheckOptions o;
          o.tickets = s.tickets;
          o.buyers = static_cast<std::int64_t>(s.buyers.size());
          return check_tickets(h, o);
        } else if constexpr (std::is_same_v<S, JoinableScenario>) {
          QueueCheckOptions q;
          q.maxsize = s.maxsize;
          return first_failure({check_joinable(h, {}), check_queue(h, q)});
        } else if constexpr (std::is_same_v<S, TimeoutScenario>) {
          QueueCheckOptions empty;
          empty.object = kEmptyQueue;
          QueueCheckOptions full;
          full.object = kFullQueue;
          full.maxsize = s.full_maxsize;
          QueueCheckOptions simple;
          simple.object = kSimpleQueue;
          simple.simple_queue = true;
          LockCheckOptions lock;
          lock.object = kHeldLock;
          LockCheckOptions rlock;
          rlock.object = kHeldRLock;
          rlock.reentrant = true;
          JoinableCheckOptions joinable;
          joinable.object = kJoinable;
          return first_failure({check_timeouts(h), check_queue(h, empty), check_queue(h, full),
                                check_queue(h, simple), check_lock(h, lock), check_lock(h, rlock),
                                check_joinable(h, joinable)});
        } else if constexpr (std::is_same_v<S, DaemonScenario>) {
          return first_failure({check_daemon(h, {}), daemon_terminated_first(h)});
        } else if constexpr (std::is_same_v<S, PipeScenario>) {
          if (!s.duplex) {
            PipeCheckOptions o;
            for (std::uint32_t w = 0; w < s.writers.size(); ++w) o.writers.push_back(w);
            o.drained = ended_with(h, static_cast<std::uint32_t>(s.writers.size()), OpKind::recv,
                                   ErrorKind::EOFError);
            return check_pipe(h, o);
          }
          PipeCheckOptions d0;
          d0.object = 0;
          d0.writers = {0};
          // end 1 reads direction 0 until EOF, then records its close (on object 1).
          for (const Op& op : h.ops)
            if (op.process == 1 && op.kind == OpKind::recv && op.object == 0 && op.failed() &&
                op.error == ErrorKind::EOFError)
              d0.drained = true;
          PipeCheckOptions d1;
          d1.object = 1;
          d1.writers = {1};
          return first_failure({check_pipe(h, d0), check_pipe(h, d1)});
        } else {
          ValueCheckOptions o;
          o.initial = static_cast<std::int64_t>(s.initial);
          o.results_recorded = true;
          return check_value(h, o);
        }
      },
      scenario.body);
}

}  // namespace mpconform::engine
