// The models against the oracle: histories recorded from real CPython 3.11 multiprocessing
// objects (cpython_histories.py, random calls from a fixed seed) must all be accepted. The
// models run with CPython's races on and the python surface, which is what CPython is held to.
#include <gtest/gtest.h>

#include <array>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "mpconform/spec/models.hpp"
#include "replay.hpp"

#ifndef MPCONFORM_PYTHON
#error "MPCONFORM_PYTHON (the interpreter) must be defined by the build"
#endif
#ifndef MPCONFORM_HISTORIES_SCRIPT
#error "MPCONFORM_HISTORIES_SCRIPT must be defined by the build"
#endif

namespace mpconform::spec {
namespace {

using nlohmann::json;
using testing::Step;

constexpr int kCount = 40;   // histories per model
constexpr int kLength = 30;  // calls per history, at most

// The seed is fixed so that a run is repeatable; MPCONFORM_MODELS_SEED=<n> tries another.
int seed() {
  const char* env = std::getenv("MPCONFORM_MODELS_SEED");
  return env != nullptr ? std::atoi(env) : 1;
}

std::string replay_command() {
  return std::string(MPCONFORM_PYTHON) + " " + MPCONFORM_HISTORIES_SCRIPT + " --seed " +
         std::to_string(seed()) + " --count " + std::to_string(kCount) + " --length " +
         std::to_string(kLength);
}

// --- decoding the generator's JSON ---

PyInt parse_int(const std::string& s) {
  PyInt v = 0;
  std::size_t i = (s[0] == '-') ? 1 : 0;
  for (; i < s.size(); ++i) v = v * 10 + (s[i] - '0');
  return s[0] == '-' ? -v : v;
}

Value decode(const json& j) {
  const std::string t = j.at("t");
  if (t == "none") return Value::none();
  if (t == "bool") return Value::boolean(j.at("v").get<bool>());
  if (t == "int") return Value::integer(parse_int(j.at("v").get<std::string>()));
  if (t == "float") return Value::floating(std::stod(j.at("v").get<std::string>()));
  if (t == "str") return Value::str(j.at("v").get<std::string>());
  if (t == "bytes") {
    const std::string hex = j.at("v");
    std::string raw;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
      raw.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    }
    return Value::bytes(raw);
  }
  if (t == "list") {
    Value::List items;
    for (const json& x : j.at("v")) items.push_back(decode(x));
    return Value::list(std::move(items));
  }
  throw std::runtime_error("unknown value tag " + t);
}

Result decode_result(const json& j) {
  if (j.at("kind") == "raised") return Result::raises({j.at("type"), j.at("message")});
  return Result::returns(decode(j.at("value")));
}

std::optional<double> opt_double(const json& op, const char* key) {
  if (!op.contains(key) || op.at(key).is_null()) return std::nullopt;
  return op.at(key).get<double>();
}

std::optional<std::int64_t> opt_int(const json& j) {
  if (j.is_null()) return std::nullopt;
  return j.get<std::int64_t>();
}

LockOp lock_op(const json& o) {
  if (o.at("name") == "release") return LockOp::release();
  return LockOp::acquire(o.at("block"), opt_double(o, "timeout"));
}

SemaphoreOp semaphore_op(const json& o) {
  const std::string n = o.at("name");
  if (n == "release") return SemaphoreOp::release();
  if (n == "get_value") return SemaphoreOp::get_value();
  return SemaphoreOp::acquire(o.at("block"), opt_double(o, "timeout"));
}

RLockOp rlock_op(const json& o) {
  const ThreadId t = o.at("thread");
  if (o.at("name") == "release") return RLockOp::release(t);
  return RLockOp::acquire(t, o.at("block"), opt_double(o, "timeout"));
}

QueueOp queue_op(const json& o) {
  const std::string n = o.at("name");
  if (n == "put")
    return QueueOp::put(decode(o.at("item")), o.at("block"), opt_double(o, "timeout"));
  if (n == "put_nowait") return QueueOp::put_nowait(decode(o.at("item")));
  if (n == "get") return QueueOp::get(o.at("block"), opt_double(o, "timeout"));
  if (n == "get_nowait") return QueueOp::get_nowait();
  if (n == "qsize") return QueueOp::qsize();
  if (n == "empty") return QueueOp::empty();
  if (n == "full") return QueueOp::full();
  if (n == "close") return QueueOp::close();
  if (n == "join_thread") return QueueOp::join_thread();
  if (n == "cancel_join_thread") return QueueOp::cancel_join_thread();
  if (n == "task_done") return QueueOp::task_done();
  if (n == "join") return QueueOp::join();
  throw std::runtime_error("unknown queue op " + n);
}

SimpleQueueOp simple_queue_op(const json& o) {
  const std::string n = o.at("name");
  if (n == "put") return SimpleQueueOp::put(decode(o.at("item")));
  if (n == "get") return SimpleQueueOp::get();
  if (n == "empty") return SimpleQueueOp::empty();
  return SimpleQueueOp::close();
}

PipeOp pipe_op(const json& o) {
  const std::string n = o.at("name");
  const PipeEnd e = o.at("end").get<int>() == 0 ? PipeEnd::a : PipeEnd::b;
  if (n == "send_bytes") return PipeOp::send_bytes(e, decode(o.at("payload")).as_bytes());
  if (n == "send") return PipeOp::send(e, decode(o.at("payload")));
  if (n == "recv_bytes") return PipeOp::recv_bytes(e, opt_int(o.at("maxlength")));
  if (n == "recv") return PipeOp::recv(e);
  if (n == "poll") return PipeOp::poll(e, opt_double(o, "timeout"));
  if (n == "close") return PipeOp::close(e);
  if (n == "closed") return PipeOp::closed(e);
  if (n == "readable") return PipeOp::readable(e);
  if (n == "writable") return PipeOp::writable(e);
  throw std::runtime_error("unknown pipe op " + n);
}

Slice slice_of(const json& s) {
  return Slice{opt_int(s.at(0)), opt_int(s.at(1)), opt_int(s.at(2))};
}

RegisterOp register_op(const json& o) {
  const std::string n = o.at("name");
  if (n == "get_value") return RegisterOp::get_value();
  if (n == "set_value") return RegisterOp::set_value(decode(o.at("operand")));
  if (n == "get_item") return RegisterOp::get_item(o.at("index"));
  if (n == "set_item") return RegisterOp::set_item(o.at("index"), decode(o.at("operand")));
  if (n == "get_slice") return RegisterOp::get_slice(slice_of(o.at("slice")));
  if (n == "set_slice") {
    return RegisterOp::set_slice(slice_of(o.at("slice")), decode(o.at("operand")));
  }
  if (n == "len") return RegisterOp::len();
  throw std::runtime_error("unknown register op " + n);
}

ProcessOp process_op(const json& o) {
  const std::string n = o.at("name");
  if (n == "start") return ProcessOp::start();
  if (n == "join") return ProcessOp::join(opt_double(o, "timeout"));
  if (n == "is_alive") return ProcessOp::is_alive();
  if (n == "exitcode") return ProcessOp::exitcode();
  if (n == "close") return ProcessOp::close();
  if (n == "set_daemon") return ProcessOp::set_daemon(o.at("flag"));
  if (n == "get_daemon") return ProcessOp::get_daemon();
  if (n == "terminate") return ProcessOp::terminate();
  if (n == "kill") return ProcessOp::kill();
  if (n == "child_exits") return ProcessOp::child_exits(o.at("code"));
  throw std::runtime_error("unknown process op " + n);
}

template <class Op, class Decode>
std::vector<Step<Op>> steps_of(const json& h, Decode decode_op) {
  std::vector<Step<Op>> out;
  for (const json& s : h.at("steps"))
    out.push_back({decode_op(s.at("op")), decode_result(s.at("result"))});
  return out;
}

// Replays one history; returns the failure text, empty when accepted.
std::string check_history(const json& h) {
  const std::string model = h.at("model");
  const json& init = h.at("init");
  auto verdict = [](const auto& r) { return r.rejected_at ? r.transcript : std::string(); };
  const QueueRaces cpython{true, true};
  if (model == "lock")
    return verdict(testing::replay(LockState::make(), steps_of<LockOp>(h, lock_op)));
  if (model == "semaphore") {
    return verdict(testing::replay(SemaphoreState::make(init.at("value")),
                                   steps_of<SemaphoreOp>(h, semaphore_op)));
  }
  if (model == "bounded_semaphore") {
    return verdict(testing::replay(SemaphoreState::make_bounded(init.at("value")),
                                   steps_of<SemaphoreOp>(h, semaphore_op)));
  }
  if (model == "rlock")
    return verdict(testing::replay(RLockState::make(), steps_of<RLockOp>(h, rlock_op)));
  if (model == "queue") {
    return verdict(testing::replay(QueueState::make(init.at("maxsize"), cpython, Surface::python),
                                   steps_of<QueueOp>(h, queue_op)));
  }
  if (model == "joinable_queue") {
    return verdict(
        testing::replay(make_joinable_queue(init.at("maxsize"), cpython, Surface::python),
                        steps_of<QueueOp>(h, queue_op)));
  }
  if (model == "simple_queue") {
    return verdict(
        testing::replay(SimpleQueueState::make(), steps_of<SimpleQueueOp>(h, simple_queue_op)));
  }
  if (model == "pipe") {
    return verdict(
        testing::replay(PipeState::make(init.at("duplex")), steps_of<PipeOp>(h, pipe_op)));
  }
  if (model == "value") {
    const std::string tc = init.at("typecode");
    return verdict(
        testing::replay(RegisterState::value(tc.at(0)), steps_of<RegisterOp>(h, register_op)));
  }
  if (model == "array") {
    const std::string tc = init.at("typecode");
    return verdict(
        testing::replay(RegisterState::array(tc.at(0), init.at("length").get<std::int64_t>()),
                        steps_of<RegisterOp>(h, register_op)));
  }
  if (model == "process") {
    return verdict(
        testing::replay(ProcessState::make(init.at("daemon")), steps_of<ProcessOp>(h, process_op)));
  }
  return "unknown model " + model;
}

TEST(ModelsAgainstCPython, RecordedHistoriesAreAccepted) {
  if (!std::filesystem::exists(MPCONFORM_PYTHON)) {
    GTEST_SKIP() << "no CPython interpreter at " << MPCONFORM_PYTHON;
  }
  const std::string cmd = replay_command() + " 2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr) << "cannot run: " << cmd;
  std::string out;
  std::array<char, 65536> buf{};
  while (const std::size_t n = std::fread(buf.data(), 1, buf.size(), pipe))
    out.append(buf.data(), n);
  const int status = ::pclose(pipe);
  ASSERT_EQ(status, 0) << cmd << " failed:\n" << out.substr(0, 4000);

  std::map<std::string, std::size_t> histories;
  std::map<std::string, std::size_t> steps;
  std::size_t failures = 0;
  std::size_t start = 0;
  while (start < out.size()) {
    std::size_t end = out.find('\n', start);
    if (end == std::string::npos) end = out.size();
    const std::string line = out.substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    const json h = json::parse(line);
    const std::string model = h.at("model");
    ++histories[model];
    steps[model] += h.at("steps").size();
    const std::string failure = check_history(h);
    if (!failure.empty() && ++failures <= 5) {
      ADD_FAILURE() << "CPython " << model << " history #" << h.at("index").get<int>()
                    << " rejected by the model:\n"
                    << failure << "replay: " << replay_command() << " --model "
                    << (model == "value" || model == "array" ? std::string("register") : model);
    }
  }
  EXPECT_EQ(failures, 0u);
  for (const char* m : {"lock", "semaphore", "bounded_semaphore", "rlock", "queue",
                        "joinable_queue", "simple_queue", "pipe", "process"}) {
    EXPECT_EQ(histories[m], static_cast<std::size_t>(kCount)) << m;
    EXPECT_GT(steps[m], static_cast<std::size_t>(kCount * 5)) << m;
  }
  EXPECT_EQ(histories["value"] + histories["array"], static_cast<std::size_t>(kCount));
  std::string summary;
  for (const auto& [m, n] : steps) summary += m + "=" + std::to_string(n) + " ";
  ::testing::Test::RecordProperty("steps", summary);
}

}  // namespace
}  // namespace mpconform::spec
