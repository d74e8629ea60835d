#pragma once

// The event catalogue: every type name ever written. Names are past tense and
// never reused; a changed payload gets a new schema version (see codec.cpp).

namespace orchflow::ev {

// -- account partition (`acct_x`) ---------------------------------------------

/// {account_id, name, email, key_hash}: the raw key is never stored.
constexpr const char* account_registered = "account.registered";

// -- provider partition (`prv_x`) ---------------------------------------------

/// {provider_id, account_id, provider, label, model, base_url, key_id,
///  nonce, ciphertext, key_hint}: the key only as AES-256-GCM ciphertext.
constexpr const char* provider_registered = "provider.registered";
/// {provider_id}: later runs may not name it; running calls stop using it.
constexpr const char* provider_deactivated = "provider.deactivated";

// -- run stream (`run_x`) -----------------------------------------------------

/// {run_id, account_id, task, agents[{name,system_prompt,model}],
///  ask_me_about[], human_gates[], require_approval, webhook_url, metadata,
///  provider, model}
constexpr const char* run_created = "run.created";
/// {}: the run actor started planning.
constexpr const char* run_planning_started = "run.planning_started";
/// {subtasks[{id,name,description}], repaired}
constexpr const char* run_subtasks_planned = "run.subtasks_planned";
/// {depends_on{id:[ids]}, notes[]}: the validated DAG.
constexpr const char* run_dependencies_inferred = "run.dependencies_inferred";
/// {tasks[{task_id,name,description,kind,agent,depends_on,question,
///  wait_reason}]}: the final task graph, human tasks included.
constexpr const char* run_agents_assigned = "run.agents_assigned";
/// {waiting_tasks[]}: nothing can progress until a human answers.
constexpr const char* run_waiting_human = "run.waiting_human";
/// {}: a human answered and work continues.
constexpr const char* run_resumed = "run.resumed";
/// {}: every task completed; the final synthesis started.
constexpr const char* run_finalizing = "run.finalizing";
/// {final_output}
constexpr const char* run_completed = "run.completed";
/// {error}
constexpr const char* run_failed = "run.failed";
/// {reason}
constexpr const char* run_cancelled = "run.cancelled";

// -- either stream ------------------------------------------------------------

/// {step, provider, model, attempt, latency_ms, input_tokens, output_tokens,
///  text}: a recorded LLM answer; replay never calls the vendor again.
constexpr const char* llm_call_completed = "llm.call_completed";
/// {step, provider, model, attempt, latency_ms, error, retryable}
constexpr const char* llm_call_failed = "llm.call_failed";

// -- task streams (`run_x/T1`)
// --------------------------------------------------

/// {attempt}
constexpr const char* task_started = "task.started";
/// {attempt, output}
constexpr const char* task_output_produced = "task.output_produced";
/// {attempt, passed, score, feedback}
constexpr const char* task_evaluated = "task.evaluated";
/// {attempt, feedback}: the next attempt carries the feedback.
constexpr const char* task_retry_scheduled = "task.retry_scheduled";
/// {reason, draft}: evaluation failed too often; a human takes over.
constexpr const char* task_escalated = "task.escalated";
/// {question, reason, draft}: reason is ask, gate, approval or escalation.
constexpr const char* task_waiting_human = "task.waiting_human";
/// {output}
constexpr const char* task_human_input_received = "task.human_input_received";
/// {output}
constexpr const char* task_completed = "task.completed";
/// {error}
constexpr const char* task_failed = "task.failed";

// -- webhooks
// -------------------------------------------------------------------

/// {delivery_id, url, event, payload} (run stream, in the same append as the
/// status change it reports): the outbox entry of a notification.
constexpr const char* webhook_queued = "webhook.queued";
/// {delivery_id, run_id, attempts, status} (stream `webhooks`).
constexpr const char* webhook_delivered = "webhook.delivered";
/// {delivery_id, run_id, attempt, error, retry_in_ms} (stream `webhooks`).
constexpr const char* webhook_attempt_failed = "webhook.attempt_failed";
/// {delivery_id, run_id, attempts, error}: retries exhausted (`webhooks`).
constexpr const char* webhook_abandoned = "webhook.abandoned";

/// The stream (and partition) of the webhook dispatcher.
constexpr const char* webhooks_stream = "webhooks";

} // namespace orchflow::ev
