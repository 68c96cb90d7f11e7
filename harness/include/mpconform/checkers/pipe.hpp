#pragma once
// mpconform/checkers/pipe.hpp: one direction of a Pipe (Connection.send -> Connection.recv).
//
// Reads send/recv ops on one direction (Op::object: the messages written to one end), and the
// close ops on that object (a process closing its copy of the write end), plus exit ops and
// gone ops (a process's exit closes its copies). Message values must be unique (make_tag).
// Rules:
//  1. nothing invented, nothing duplicated (C-SEND-12);
//  2. FIFO in real time (C-SEND-12): send is synchronous, so when send(a) returned before
//     send(b) was invoked, recv(b) must not return before recv(a) was invoked (and a, never
//     received, cannot be overtaken unless an info recv could have taken it);
//  3. EOF comes after the data (C-EOF-5): a recv that raised EOFError while a message was
//     definitely pending (sent before the recv was invoked, received only after it returned
//     or never) is illegal;
//  4. EOF only after every writer closed (C-EOF-2): a recv that raised EOFError before some
//     writer could have closed its copy (its earliest close, exit or gone op was invoked after
//     the recv returned) is illegal. Writers are `writers` or, when empty, every process
//     that sent or closed on this object; a writer with no close, exit or gone op at all
//     makes the verdict Unknown;
//  5. nothing lost (with `drained`: the reader read until EOF): every ok send was received,
//     except as many as there are info recvs (C-SEND-12).
#include <cstdint>
#include <vector>

#include "mpconform/history.hpp"
#include "mpconform/verdict.hpp"

namespace mpconform {

struct PipeCheckOptions {
  std::uint32_t object = 0;             // the direction's Op::object
  std::vector<std::uint32_t> writers;   // processes holding a copy of the write end
  bool drained = false;
};

Verdict check_pipe(const History& history, const PipeCheckOptions& options = {});

}  // namespace mpconform
