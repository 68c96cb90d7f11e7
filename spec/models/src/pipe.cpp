#include "mpconform/spec/pipe.hpp"

#include "mpconform/spec/detail/format.hpp"
#include "mpconform/spec/error.hpp"

namespace mpconform::spec {

namespace {

using O = Outcome<PipeState>;

const char* name_of(PipeEnd e) { return e == PipeEnd::a ? "a" : "b"; }

O raises(PyError e, const PipeState& unchanged) {
  return O::single(Result::raises(std::move(e)), unchanged);
}

// Closes `e`: its unread messages can never be received, so they are dropped (this also keeps
// equal situations equal as states). Closing a socket with unread data resets the connection.
void close_end(PipeState& s, PipeEnd e) {
  PipeEndState& end = s.end(e);
  if (end.closed) return;
  PipeEndState& peer = s.end(peer_of(e));
  if (s.duplex && !end.inbox.empty() && !peer.closed) peer.reset_pending = true;
  end.closed = true;
  end.inbox.clear();
  end.reset_pending = false;
}

PyError connection_reset() {
  return {"ConnectionResetError", "[Errno 104] Connection reset by peer"};
}

O step_send(const PipeState& s, const PipeOp& op) {
  const PipeEndState& self = s.end(op.end);
  if (!self.writable) return raises(errors::os_error(errors::kReadOnly), s);
  if (op.kind == PipeOp::Kind::send_bytes && !op.payload.is_bytes()) {
    return O::illegal("send_bytes() takes a bytes payload in the model, got " + op.payload.repr());
  }
  if (s.end(peer_of(op.end)).closed) return raises(errors::broken_pipe(), s);
  PipeState next = s;
  next.end(peer_of(op.end)).inbox.push_back({op.kind == PipeOp::Kind::send, op.payload});
  return O::single(Result::returns(), std::move(next));
}

O step_recv(const PipeState& s, const PipeOp& op) {
  const PipeEndState& self = s.end(op.end);
  if (!self.readable) return raises(errors::os_error(errors::kWriteOnly), s);
  const bool want_bytes = op.kind == PipeOp::Kind::recv_bytes;
  if (want_bytes && op.maxlength && *op.maxlength < 0) {
    return raises(errors::value_error("negative maxlength"), s);
  }
  if (self.inbox.empty()) {
    if (!s.end(peer_of(op.end)).closed) return O::single(Result::blocks(), s);
    if (!self.reset_pending) return raises(errors::eof(), s);
    PipeState next = s;
    next.end(op.end).reset_pending = false;
    return O::single(Result::raises(connection_reset()), std::move(next));
  }
  const PipeMessage& msg = self.inbox.front();
  if (msg.pickled == want_bytes) {
    return O::illegal(std::string("the next message at ") + name_of(op.end) + " was sent with " +
                      (msg.pickled ? "send()" : "send_bytes()") + "; the model does not mix " +
                      "send()/recv() with send_bytes()/recv_bytes()");
  }
  if (want_bytes && op.maxlength &&
      static_cast<std::int64_t>(msg.payload.as_bytes().size()) > *op.maxlength) {
    PipeState next = s;
    if (next.end(op.end).writable) {
      next.end(op.end).readable = false;  // the payload stays unread in the buffer
    } else {
      close_end(next, op.end);
    }
    return O::single(Result::raises(errors::os_error(errors::kBadMessageLength)), std::move(next));
  }
  PipeState next = s;
  Value payload = msg.payload;
  next.end(op.end).inbox.pop_front();
  return O::single(Result::returns(std::move(payload)), std::move(next));
}

O step_poll(const PipeState& s, const PipeOp& op) {
  const PipeEndState& self = s.end(op.end);
  if (!self.readable) return raises(errors::os_error(errors::kWriteOnly), s);
  if (!self.inbox.empty() || s.end(peer_of(op.end)).closed) {
    return O::single(Result::returns(Value::boolean(true)), s);
  }
  if (!op.timeout) return O::single(Result::blocks(), s);
  return O::single(Result::returns(Value::boolean(false)), s);
}

PipeOp op_of(PipeOp::Kind k, PipeEnd e) {
  PipeOp op;
  op.kind = k;
  op.end = e;
  return op;
}

}  // namespace

PipeState PipeState::make(bool duplex) {
  PipeState s;
  s.duplex = duplex;
  if (!duplex) {
    s.end(PipeEnd::a).writable = false;  // reader
    s.end(PipeEnd::b).readable = false;  // writer
  }
  return s;
}

std::string PipeState::to_string() const {
  std::string out = duplex ? "Pipe(duplex" : "Pipe(simplex";
  for (const PipeEnd e : {PipeEnd::a, PipeEnd::b}) {
    const PipeEndState& s = end(e);
    out += std::string(", ") + name_of(e) + ":";
    std::string flags;
    if (s.closed) flags += " closed";
    if (s.reset_pending) flags += " reset";
    // Only departures from the way Pipe() made the end are shown.
    const bool made_readable = duplex || e == PipeEnd::a;
    const bool made_writable = duplex || e == PipeEnd::b;
    if (s.readable != made_readable) flags += s.readable ? " readable" : " write-only";
    if (s.writable != made_writable) flags += s.writable ? " writable" : " read-only";
    Value::List inbox;
    for (const PipeMessage& m : s.inbox) {
      inbox.push_back(m.payload);
    }
    out += flags + " inbox=" + Value::list(std::move(inbox)).repr();
  }
  return out + ")";
}

PipeOp PipeOp::send_bytes(PipeEnd end, std::string data) {
  PipeOp op = op_of(Kind::send_bytes, end);
  op.payload = Value::bytes(std::move(data));
  return op;
}

PipeOp PipeOp::send(PipeEnd end, Value obj) {
  PipeOp op = op_of(Kind::send, end);
  op.payload = std::move(obj);
  return op;
}

PipeOp PipeOp::recv_bytes(PipeEnd end, std::optional<std::int64_t> maxlength) {
  PipeOp op = op_of(Kind::recv_bytes, end);
  op.maxlength = maxlength;
  return op;
}

PipeOp PipeOp::recv(PipeEnd end) { return op_of(Kind::recv, end); }

PipeOp PipeOp::poll(PipeEnd end, std::optional<double> timeout) {
  PipeOp op = op_of(Kind::poll, end);
  op.timeout = timeout;
  return op;
}

PipeOp PipeOp::close(PipeEnd end) { return op_of(Kind::close, end); }
PipeOp PipeOp::closed(PipeEnd end) { return op_of(Kind::closed, end); }
PipeOp PipeOp::readable(PipeEnd end) { return op_of(Kind::readable, end); }
PipeOp PipeOp::writable(PipeEnd end) { return op_of(Kind::writable, end); }

std::string PipeOp::to_string() const {
  const std::string self = name_of(end);
  switch (kind) {
    case Kind::send_bytes:
      return self + ".send_bytes(" + payload.repr() + ")";
    case Kind::send:
      return self + ".send(" + payload.repr() + ")";
    case Kind::recv_bytes:
      if (!maxlength) return self + ".recv_bytes()";
      return self + ".recv_bytes(maxlength=" + std::to_string(*maxlength) + ")";
    case Kind::recv:
      return self + ".recv()";
    case Kind::poll:
      if (timeout && *timeout == 0.0) return self + ".poll()";
      return self + ".poll(" + detail::py_optional_float(timeout) + ")";
    case Kind::close:
      return self + ".close()";
    case Kind::closed:
      return self + ".closed";
    case Kind::readable:
      return self + ".readable";
    case Kind::writable:
      return self + ".writable";
  }
  return self + ".?()";
}

Outcome<PipeState> step(const PipeState& s, const PipeOp& op) {
  const PipeEndState& self = s.end(op.end);
  switch (op.kind) {
    case PipeOp::Kind::closed:
      return O::single(Result::returns(Value::boolean(self.closed)), s);
    case PipeOp::Kind::readable:
      return O::single(Result::returns(Value::boolean(self.readable)), s);
    case PipeOp::Kind::writable:
      return O::single(Result::returns(Value::boolean(self.writable)), s);
    case PipeOp::Kind::close: {
      PipeState next = s;
      close_end(next, op.end);
      return O::single(Result::returns(), std::move(next));
    }
    default:
      break;
  }
  if (self.closed) return raises(errors::os_error(errors::kHandleClosed), s);
  switch (op.kind) {
    case PipeOp::Kind::send_bytes:
    case PipeOp::Kind::send:
      return step_send(s, op);
    case PipeOp::Kind::recv_bytes:
    case PipeOp::Kind::recv:
      return step_recv(s, op);
    case PipeOp::Kind::poll:
      return step_poll(s, op);
    default:
      break;
  }
  return O::illegal("unknown Pipe operation");
}

}  // namespace mpconform::spec
