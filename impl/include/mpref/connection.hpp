#pragma once
// mpref/connection.hpp: Pipe, Connection and wait (CPython: multiprocessing/connection.py).
//
// A Connection owns one file descriptor: an AF_UNIX SOCK_STREAM socket (duplex Pipe) or one
// end of a pipe(2) (simplex Pipe). Copies of the handle in one process share it (close() closes
// it for all of them; the last copy destroyed closes it too); a forked child gets its own
// duplicate of the descriptor, exactly like a CPython Connection inherited across fork. EOF is
// seen only when every copy of the peer descriptor, in every process, is closed: close the ends
// a child does not use, as in Python.
//
// Wire format (CPython's, byte for byte): a 4-byte big-endian signed length then the payload,
// or, for payloads over 0x7fffffff bytes, 0xFFFFFFFF then an 8-byte big-endian length. Message
// boundaries are kept; empty messages are legal. The descriptors are close-on-exec.
//
// SIGPIPE: sends never kill the process. Sockets use MSG_NOSIGNAL; pipe writes block SIGPIPE
// in the calling thread for the duration of the write and discard the one they caused. A peer
// that is gone gives BrokenPipeError.
//
// Timeouts (poll, wait): nullopt waits forever, zero or negative returns at once.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "mpref/errors.hpp"
#include "mpref/reduction.hpp"

namespace mpref {

class Connection {
 public:
  /// Wraps `fd`, taking ownership. Throws ValueError('invalid handle') for fd < 0;
  /// ValueError('at least one of `readable` and `writable` must be True').
  explicit Connection(int fd, bool readable = true, bool writable = true);

  /// Sends buf[offset, offset + size) as one message (size nullopt: to the end). offset and
  /// size count bytes. Blocks with no timeout while the OS buffer is full.
  /// Throws, in CPython's order: OSError('handle is closed'); OSError('connection is
  /// read-only'); ValueError('offset is negative' | 'buffer length < offset' | 'size is
  /// negative' | 'buffer length < offset + size'); BrokenPipeError when every copy of the peer
  /// is closed (also for an empty message); OSError(errno) for other write errors.
  void send_bytes(std::span<const std::byte> buf, std::int64_t offset = 0,
                  std::optional<std::int64_t> size = std::nullopt);
  /// Convenience: the characters of `text` as bytes.
  void send_bytes(std::string_view text, std::int64_t offset = 0,
                  std::optional<std::int64_t> size = std::nullopt) {
    send_bytes(std::as_bytes(std::span<const char>(text.data(), text.size())), offset, size);
  }

  /// Receives one message, blocking until it arrives.
  /// Throws: OSError('handle is closed'); OSError('connection is write-only'); ValueError
  /// ('negative maxlength'); EOFError() when every copy of the peer is closed and no data is
  /// left; OSError('got end of file during message') when the peer closed mid-message;
  /// OSError('bad message length') when the message is longer than maxlength: its payload stays
  /// unread and this end becomes write-only (duplex) or is closed (simplex), as in CPython.
  Bytes recv_bytes(std::optional<std::int64_t> maxlength = std::nullopt);

  /// Receives one message into buffer at byte `offset` and returns its length.
  /// Throws: as recv_bytes(); ValueError('negative offset'); ValueError('offset too large')
  /// when offset > buffer.size(); BufferTooShort when the message does not fit after offset:
  /// the message is consumed and BufferTooShort::message() holds all of it.
  std::size_t recv_bytes_into(std::span<std::byte> buffer, std::int64_t offset = 0);

  /// Sends obj's Codec encoding as one message (CPython: pickles it, synchronously).
  template <Encodable T>
  void send(const T& obj) {
    detail::with_encoded(obj, [&](std::span<const std::byte> b) { send_bytes(b); });
  }
  /// Receives one message and decodes it as T (ValueError when it is not a valid encoding).
  template <Encodable T>
  T recv() {
    if constexpr (std::is_same_v<T, Bytes>) {
      return recv_bytes();
    } else {
      Bytes b = recv_bytes();
      return Codec<T>::decode(std::span<const std::byte>(b));
    }
  }

  /// Whether a message (or EOF) can be received without blocking; consumes nothing. Default:
  /// do not wait. nullopt: wait with no bound; <= 0: at once. True at EOF.
  /// Throws: OSError('handle is closed'); OSError('connection is write-only').
  bool poll(std::optional<double> timeout = 0.0);

  /// Closes the descriptor (for every handle copy in this process). Repeatable.
  void close() noexcept;
  [[nodiscard]] bool closed() const noexcept;
  /// The descriptor. Throws OSError('handle is closed').
  [[nodiscard]] int fileno() const;
  /// Keep their values after close().
  [[nodiscard]] bool readable() const noexcept;
  [[nodiscard]] bool writable() const noexcept;

 private:
  struct State;
  void check_closed() const;
  void check_readable() const;
  void check_writable() const;
  [[noreturn]] void bad_message_length();
  std::uint64_t recv_header();
  void recv_exact(std::byte* out, std::uint64_t size);
  void send_message(std::span<const std::byte> payload);

  std::shared_ptr<State> s_;
};

/// multiprocessing.Pipe(duplex): duplex -> two readable and writable ends of a socketpair;
/// simplex -> (reader, writer) of a pipe(2). Throws OSError when the descriptors cannot be made.
std::pair<Connection, Connection> Pipe(bool duplex = true);

/// multiprocessing.connection.wait: the connections among `objects` that can be received from
/// without blocking (data or EOF), in their order; empty on time-out. nullopt waits forever,
/// <= 0 returns at once. Throws OSError('handle is closed') for a closed connection.
std::vector<Connection> wait(std::span<const Connection> objects,
                             std::optional<double> timeout = std::nullopt);
/// The same for raw descriptors (e.g. a process sentinel); ready means readable, hung up or
/// in error.
std::vector<int> wait(std::span<const int> fds, std::optional<double> timeout = std::nullopt);

}  // namespace mpref
