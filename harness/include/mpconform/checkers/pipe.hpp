#pragma once
// mpconform/checkers/pipe.hpp: one direction of a Pipe (Connection.send -> Connection.recv).
//
// Reads send/recv ops on one direction (Op::object: the messages written to one end), and the
// close ops on that object (a process closing its copy of the write end), plus exit ops and
// gone ops (a process's exit closes its copies). Message values must be unique (make_tag).
// A send that never returned (its process was killed in it) took effect, if at all, before
// its process died: when an ok gone op observed that death, the rules read the send as
// returning at the gone op's return (so a later send is behind it, rule 2).
// Rules:
//  1. nothing invented, nothing duplicated (C-SEND-12);
//  2. FIFO in real time (C-SEND-12): send is synchronous, so when send(a) returned before
//     send(b) was invoked, recv(b) must not return before recv(a) was invoked (and a, never
//     received, cannot be overtaken unless an info recv could have taken it);
//  3. EOF comes after the data (C-EOF-5): a recv that raised EOFError while a message was
//     definitely pending is illegal. Every ok send precedes EOF: its sender's copy of the
//     write end closes after it (by close, exit or death), and EOF needs every copy closed. So
//     an ok message (or an info send's message that was received: it took effect) received
//     only after the EOF recv returned makes that EOF illegal, even when the send overlapped
//     it; so do more ok messages never received than info recvs invoked before the EOF
//     returned (each could have taken one);
//  4. EOF only after every writer closed (C-EOF-2): a recv that raised EOFError before some
//     writer could have closed its copy (its earliest close or exit op was invoked after the
//     recv returned, and no gone op saw it dead: a gone op means it may have died any time
//     after it invoked its last op) is illegal. Writers are `writers` and every process that
//     sent or closed on this object (it holds a copy, listed or not); a writer with no close,
//     exit or gone op at all makes the verdict Unknown;
//  5. nothing lost (with `drained`: the reader read until EOF): every ok send was received,
//     except as many as there are info recvs (C-SEND-12);
//  6. a close op on this object that failed is illegal: close() returns None and can be
//     repeated (C-CLOSE-1); an ok send invoked after its own process's ok close returned is
//     illegal: a closed Connection raises OSError (C-CLOSE-4; each process holds one copy of
//     the write end); a send that raised BrokenPipeError and returned before a recv or poll
//     that proves a read end open (ok, EOFError or poll False: none raised OSError) was invoked
//     is illegal (C-EPIPE-1: BrokenPipeError needs every copy of the read end closed, and a
//     closed end is never reopened). A BrokenPipeError after the last such proof is accepted:
//     the read end's closing (the reader's close or death) is not an op of this direction.
//     Sends that raised another error (OSError from a closed copy) are not judged;
//  7. what info recvs could have taken (C-SEND-12; C-EOF-5 when the deadline is an EOF): each
//     ok message nobody received that had to leave the pipe (before the recv of a message it
//     is ahead of returned, before the earliest EOF returned, or at all when `drained`) needs
//     an info recv of its own that could have taken it: invoked by that deadline, returning
//     no earlier than the send was invoked, and no earlier than the invoke of any recv that
//     got a message ahead of it (FIFO: it would have taken it out of order).
//     Decided by a maximum matching; skipped when (messages x info recvs x the smaller of the
//     two) exceeds 1e8.
//  8. a poll notices what it waits for (poll: ok = returned True, fail Timeout = returned
//     False). EOF is certain once every writer's copy certainly closed: its ok close on this
//     object returned, or an ok gone op saw the writer dead (an exit op does not count: the
//     copies close after it returns). A poll that returned False although EOF was certain
//     before it was invoked is illegal, whatever its timeout (C-EOF-1: EOF counts as
//     readable). A poll with a positive timeout that returned False is illegal when, for longer
//     than the `notice` tier during [invoke, min(return, invoke + timeout)], EOF was certain
//     (C-EOF-1) or some message was certainly pending (C-POLL-2): its ok send returned, and it
//     was received only by a recv invoked later, or never received with no info recv invoked
//     by then (as the queue checker's rule 6). The tier is the rule's one assumption: a waiting
//     poll wakes within it once the pipe is readable.
// Not judged: the order in which several info recvs took the messages they may have taken; a
// poll that does not wait (poll(0)) and returned False while a message was certainly pending
// during the whole call (the exact search, mpconform/linearizability.hpp, rejects it).
#include <cstdint>
#include <vector>

#include "mpconform/history.hpp"
#include "mpconform/tiers.hpp"
#include "mpconform/verdict.hpp"

namespace mpconform {

struct PipeCheckOptions {
  std::uint32_t object = 0;             // the direction's Op::object
  std::vector<std::uint32_t> writers;   // processes holding a copy of the write end
  bool drained = false;
  // Rule 8: how soon a waiting poll sees a message or EOF (the reference wakes it at once).
  Tier notice = tiers::instant;
};

/// Checks the pipe rules above. Pure; O(n log n) but for rule 7 (budgeted). Reads the tier
/// (MPCONFORM_TIME_SCALE) when called.
Verdict check_pipe(const History& history, const PipeCheckOptions& options = {});

}  // namespace mpconform
