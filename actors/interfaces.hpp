#pragma once

// Every actor interface of the engine, one comment per handler. Messages
// are local only (no CAF networking), so shared pointers and plain structs
// travel as "unsafe" message types.

#include "actors/reply.hpp"
#include "events/event.hpp"
#include "providers/http_transport.hpp"
#include "providers/provider.hpp"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/replies_to.hpp>
#include <caf/type_id.hpp>
#include <caf/typed_actor.hpp>

#include <string>

CAF_ADD_ATOM(orchflow, orchflow::atom, start, "start")
CAF_ADD_ATOM(orchflow, orchflow::atom, create, "create")
CAF_ADD_ATOM(orchflow, orchflow::atom, enroll, "enroll")
CAF_ADD_ATOM(orchflow, orchflow::atom, complete, "complete")
CAF_ADD_ATOM(orchflow, orchflow::atom, cancel, "cancel")
CAF_ADD_ATOM(orchflow, orchflow::atom, appended, "appended")
CAF_ADD_ATOM(orchflow, orchflow::atom, llm, "llm")
CAF_ADD_ATOM(orchflow, orchflow::atom, task_upd, "task_upd")
CAF_ADD_ATOM(orchflow, orchflow::atom, recover, "recover")
CAF_ADD_ATOM(orchflow, orchflow::atom, deliver, "deliver")
CAF_ADD_ATOM(orchflow, orchflow::atom, posted, "posted")
CAF_ADD_ATOM(orchflow, orchflow::atom, retry, "retry")
CAF_ADD_ATOM(orchflow, orchflow::atom, prv_add, "prv_add")
CAF_ADD_ATOM(orchflow, orchflow::atom, prv_off, "prv_off")
CAF_ADD_ATOM(orchflow, orchflow::atom, idle, "idle")
CAF_ADD_ATOM(orchflow, orchflow::atom, passivate, "passivate")
CAF_ADD_ATOM(orchflow, orchflow::atom, active, "active")
CAF_ADD_ATOM(orchflow, orchflow::atom, woken, "woken")

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orchflow::event_batch_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orchflow::reply_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orchflow::llm_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orchflow::run_spec)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orchflow::account_spec)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orchflow::webhook_delivery)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orchflow::provider_spec)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(orchflow::http_outcome)

namespace orchflow {

/// The TASK actor interface: one per started task of a run.
using task_actor = caf::typed_actor<
    // Starts the task, or resumes it after recovery.
    caf::reacts_to<atom::start>,
    // Delivers a human's output; answers 200 with the task or 409.
    caf::reacts_to<atom::complete, std::string, reply_ptr>,
    // Abandons the task: in-flight work is dropped, nothing is written.
    caf::reacts_to<atom::cancel>,
    // The event store committed this actor's oldest pending append.
    caf::reacts_to<atom::appended, event_batch_ptr>,
    // The oldest pending append failed; the actor stops.
    caf::reacts_to<atom::appended, caf::error>,
    // The gateway answered an LLM call.
    caf::reacts_to<atom::llm, llm_result>>;

/// The WEBHOOKS actor interface: the one writer of the `webhooks` stream;
/// delivers notifications at least once, retrying with backoff.
using webhook_actor = caf::typed_actor<
    // Delivers a queued notification (new, or pending at recovery).
    caf::reacts_to<atom::deliver, webhook_delivery>,
    // The transport answered a POST (delivery id, outcome).
    caf::reacts_to<atom::posted, std::string, http_outcome>,
    // Time to try a delivery again (delivery id).
    caf::reacts_to<atom::retry, std::string>,
    // The event store committed the oldest pending append.
    caf::reacts_to<atom::appended, event_batch_ptr>,
    // The oldest pending append failed.
    caf::reacts_to<atom::appended, caf::error>>;

/// The RUN actor interface: one per run that is not terminal.
using run_actor = caf::typed_actor<
    // Creates the run (first message after spawn) or resumes it.
    caf::reacts_to<atom::start>,
    // Routes a human's output for a task (task id, output, reply).
    caf::reacts_to<atom::complete, std::string, std::string, reply_ptr>,
    // Cancels the run; answers 200 or 409.
    caf::reacts_to<atom::cancel, reply_ptr>,
    // Stops the actor if the run still only waits for humans; else the run
    // tells the supervisor it stays (active).
    caf::reacts_to<atom::passivate>,
    // A task actor committed events of its stream (task id, events).
    caf::reacts_to<atom::task_upd, std::string, event_batch_ptr>,
    // The event store committed the oldest pending append.
    caf::reacts_to<atom::appended, event_batch_ptr>,
    // The oldest pending append failed; the actor stops and is recovered.
    caf::reacts_to<atom::appended, caf::error>,
    // The gateway answered a planning or finalization call.
    caf::reacts_to<atom::llm, llm_result>>;

/// The SUPERVISOR actor interface: registry, creation and recovery of runs,
/// and registration of accounts.
using supervisor_actor = caf::typed_actor<
    // Creates a run; answers 202 once run.created is durable.
    caf::reacts_to<atom::create, run_spec, reply_ptr>,
    // Registers an account; answers 201 with the raw key, shown once.
    caf::reacts_to<atom::enroll, account_spec, reply_ptr>,
    // Registers an LLM provider; answers 201 once its sealed key is durable.
    caf::reacts_to<atom::prv_add, provider_spec, reply_ptr>,
    // Deactivates a provider (account id, provider id, reply).
    caf::reacts_to<atom::prv_off, std::string, std::string, reply_ptr>,
    // Routes a human's output (run id, task id, output, reply).
    caf::reacts_to<atom::complete, std::string, std::string, std::string,
                   reply_ptr>,
    // Cancels a run (run id, reply).
    caf::reacts_to<atom::cancel, std::string, reply_ptr>,
    // Respawns a run actor that stopped on an error.
    caf::reacts_to<atom::recover, std::string>,
    // A run only waits for humans: it may be passivated (run id).
    caf::reacts_to<atom::idle, std::string>,
    // A run asked to passivate has work again and stays (run id).
    caf::reacts_to<atom::active, std::string>,
    // A passivated run's events, read back to wake it (run id, events).
    caf::reacts_to<atom::woken, std::string, event_batch_ptr>,
    // Reading a passivated run failed (run id, error).
    caf::reacts_to<atom::woken, std::string, caf::error>,
    // The event store committed the oldest pending append.
    caf::reacts_to<atom::appended, event_batch_ptr>,
    // The oldest pending append failed.
    caf::reacts_to<atom::appended, caf::error>>;

} // namespace orchflow
