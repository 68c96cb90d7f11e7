#pragma once
// All sequential models. Each is a pure step function `Outcome<State> step(const State&,
// const Op&)` (outcome.hpp), with check() and explain() for validating observed histories.
#include "mpconform/spec/error.hpp"           // PyError, errors::*
#include "mpconform/spec/joinable_queue.hpp"  // JoinableQueue
#include "mpconform/spec/lock.hpp"            // Lock
#include "mpconform/spec/outcome.hpp"         // Result, Outcome, check, explain, Model
#include "mpconform/spec/pipe.hpp"            // Pipe / Connection
#include "mpconform/spec/process.hpp"         // Process life cycle, exit codes
#include "mpconform/spec/queue.hpp"           // Queue
#include "mpconform/spec/rlock.hpp"           // RLock
#include "mpconform/spec/semaphore.hpp"       // Semaphore, BoundedSemaphore
#include "mpconform/spec/sharedctypes.hpp"    // Value, Array (registers)
#include "mpconform/spec/simple_queue.hpp"    // SimpleQueue
#include "mpconform/spec/surface.hpp"         // Surface (cpp / python API)
#include "mpconform/spec/value.hpp"           // Value, PyInt
