#pragma once
// mpconform/checkers/tickets.hpp: the seed's ticket grab (a counter of tickets, on a file or
// a shared Value, decremented under a lock by buyer processes).
//
// Reads the buy/read ops on the counter (Op::object). buy: ok = sold, value = the ticket
// number (1..tickets; 0 when the scenario does not number tickets); fail SoldOut = refused.
// read: value = the counter read (as int64).
// Rules (clause: options.clause, default L-EXCL-1, "check and decrement under the lock are
// atomic"):
//  1. no ticket sold twice: two ok buys with the same non-zero ticket number, or a number
//     outside 1..tickets;
//  2. no buyer sold twice: two ok buys by the same process;
//  3. never oversold: more ok buys than tickets;
//  4. never refused while tickets remained: a buy refused when fewer than `tickets` buys (ok or
//     info) had been invoked before it returned;
//  5. sold == min(buyers, tickets) when every buyer's outcome is known (no info buys);
//  6. the count is never negative and never wrong: a read of n needs 0 <= n and
//     tickets - (buys possibly done before it returned) <= n <= tickets - (ok buys done
//     before it was invoked).
#include <cstdint>
#include <string>

#include "mpconform/history.hpp"
#include "mpconform/verdict.hpp"

namespace mpconform {

struct TicketCheckOptions {
  std::uint32_t object = 0;   // the counter's Op::object
  std::int64_t tickets = 0;   // tickets on sale at the start
  std::int64_t buyers = 0;    // buyer processes, each trying once (rule 5); 0 = do not check rule 5
  std::string clause = "L-EXCL-1";
};

Verdict check_tickets(const History& history, const TicketCheckOptions& options);

}  // namespace mpconform
