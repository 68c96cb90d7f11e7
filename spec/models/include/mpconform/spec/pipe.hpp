#pragma once
// Sequential model of multiprocessing.Pipe and its two Connection objects (CPython 3.11,
// Lib/multiprocessing/connection.py).
//
// `a, b = Pipe()` (duplex: both ends read and write) or `a, b = Pipe(False)` (simplex: a is
// the read-only end, b the write-only end, C-PIPE-1). Each end has its own inbox: the FIFO of
// messages sent by the other end and not yet received. A message is either bytes
// (send_bytes) or a pickled object (send); the model keeps the object and does not mix the
// two: receiving a pickled message with recv_bytes(), or bytes with recv(), is illegal.
//
// The model treats each end as one object. In a real program fork duplicates the descriptors,
// and EOF needs every copy of the peer closed (C-EOF-2): the harness must only step
// close(end) once all copies of that end are closed. Not modelled: OS buffer capacity (send
// blocks while it is full, C-BLOCK-1), send_bytes offset/size, recv_bytes_into, half-written
// messages (OSError('got end of file during message'), C-EOF-3), pickling errors.
#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "mpconform/spec/outcome.hpp"
#include "mpconform/spec/value.hpp"

namespace mpconform::spec {

enum class PipeEnd { a = 0, b = 1 };

inline PipeEnd peer_of(PipeEnd e) { return e == PipeEnd::a ? PipeEnd::b : PipeEnd::a; }

struct PipeMessage {
  bool pickled = false;  // sent with send(obj); else send_bytes and payload is bytes
  Value payload;
  friend bool operator==(const PipeMessage&, const PipeMessage&) = default;
};

struct PipeEndState {
  bool closed = false;
  bool readable = true;  // stays as it was after close (C-CLOSE-5)
  bool writable = true;
  // Messages sent to this end and not received yet. An end that stopped reading (bad message
  // length) keeps them: they still sit in its socket buffer and matter when it is closed.
  std::deque<PipeMessage> inbox;
  // Duplex only: the peer was closed with unread data in its buffer, so the socket was reset;
  // the next receive here that finds no message raises ConnectionResetError (once).
  bool reset_pending = false;
  friend bool operator==(const PipeEndState&, const PipeEndState&) = default;
};

struct PipeState {
  // Pipe(duplex): duplex -> both ends readable and writable; simplex -> a read-only,
  // b write-only.
  static PipeState make(bool duplex = true);

  bool duplex = true;
  std::array<PipeEndState, 2> ends;

  const PipeEndState& end(PipeEnd e) const { return ends[static_cast<std::size_t>(e)]; }
  PipeEndState& end(PipeEnd e) { return ends[static_cast<std::size_t>(e)]; }

  // "Pipe(duplex, a: inbox=[b'x'], b: closed)".
  std::string to_string() const;
  friend bool operator==(const PipeState&, const PipeState&) = default;
};

struct PipeOp {
  enum class Kind {
    send_bytes,  // end.send_bytes(payload): payload is bytes
    send,        // end.send(payload): any value, pickled
    recv_bytes,  // end.recv_bytes(maxlength)
    recv,        // end.recv()
    poll,        // end.poll(timeout); default timeout 0 (not None)
    close,       // end.close()
    closed,      // end.closed   -> bool
    readable,    // end.readable -> bool
    writable,    // end.writable -> bool
  };
  Kind kind = Kind::poll;
  PipeEnd end = PipeEnd::a;
  Value payload;                          // send, send_bytes
  std::optional<std::int64_t> maxlength;  // recv_bytes; nullopt = None
  std::optional<double> timeout = 0.0;    // poll; nullopt = None (wait forever)

  static PipeOp send_bytes(PipeEnd end, std::string data);
  static PipeOp send(PipeEnd end, Value obj);
  static PipeOp recv_bytes(PipeEnd end, std::optional<std::int64_t> maxlength = {});
  static PipeOp recv(PipeEnd end);
  static PipeOp poll(PipeEnd end, std::optional<double> timeout = 0.0);
  static PipeOp close(PipeEnd end);
  static PipeOp closed(PipeEnd end);
  static PipeOp readable(PipeEnd end);
  static PipeOp writable(PipeEnd end);

  // "a.send_bytes(b'hi')", "b.recv_bytes(maxlength=2)", "b.poll(None)", "a.closed".
  std::string to_string() const;
  friend bool operator==(const PipeOp&, const PipeOp&) = default;
};

// step(state, op). Checks run in CPython's order: closed end, then direction, then arguments.
//  - any op but close/closed/readable/writable on a closed end -> OSError('handle is closed')
//    (C-CLOSE-1, C-CLOSE-4). close() -> None, repeatable; the end's unread inbox is discarded.
//    Closing a duplex end whose inbox is not empty resets the socketpair (AF_UNIX): the peer's next
//    receive that finds no message raises ConnectionResetError('[Errno 104] Connection reset
//    by peer'), once; later ones raise EOFError. The peer's sends raise BrokenPipeError as
//    usual and do not consume the reset. (Observed on CPython 3.11 / Linux; not in the
//    reference notes.)
//  - send/send_bytes on a non-writable end -> OSError('connection is read-only');
//    recv/recv_bytes/poll on a non-readable end -> OSError('connection is write-only') (C-RW-1/2).
//  - send/send_bytes when the peer end is closed -> BrokenPipeError('[Errno 32] Broken pipe'),
//    also for b'' (C-EPIPE-1/2); else None and the message is appended to the peer's inbox.
//    Empty messages are kept as messages (C-SEND-3).
//  - recv_bytes(maxlength): maxlength < 0 -> ValueError('negative maxlength'). Then: inbox
//    non-empty -> the first message, removed; but a message longer than maxlength ->
//    OSError('bad message length'), the message stays unread and the end stops reading: a
//    duplex end becomes write-only (readable=False), a simplex end is closed (C-MAXLEN-2..4).
//    Inbox empty: peer closed -> ConnectionResetError if a reset is pending (see close), else
//    EOFError() (C-EOF-4); peer open -> blocks.
//  - recv(): as recv_bytes without maxlength, returning the object.
//  - poll(timeout) -> True if a message is waiting or the peer is closed (EOF is readable,
//    C-EOF-1); else False, or blocks when timeout is None. Zero and negative timeouts do not
//    wait (C-POLL-1, C-POLL-4). Consumes nothing.
//  - closed/readable/writable -> the flags, also after close.
// Illegal: recv_bytes() of a pickled message, recv() of a bytes message, send_bytes() of a
// non-bytes payload.
Outcome<PipeState> step(const PipeState& state, const PipeOp& op);

struct PipeModel {
  using State = PipeState;
  using Op = PipeOp;
  static Outcome<State> step(const State& s, const Op& op) { return spec::step(s, op); }
};

}  // namespace mpconform::spec
