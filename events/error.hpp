#pragma once

#include <caf/error.hpp>
#include <caf/make_message.hpp> // required by CAF_ERROR_CODE_ENUM in 0.17.6

#include <cstdint>
#include <string>

namespace orchflow {

/// Error codes of the server. Zero means "no error".
enum class ec : uint8_t {
  /// Catch-all; avoid.
  unspecified = 1,
  /// RocksDB returned a non-OK status; the write may or may not be durable.
  storage_failure,
  /// Optimistic concurrency: the stream is not at the expected version. A bug.
  version_conflict,
  /// Unknown run, task, account or provider (or one the caller may not see).
  not_found,
  /// Malformed command or request.
  invalid_argument,
  /// The command does not fit the current state (e.g. task not waiting).
  wrong_state,
  /// The LLM provider failed (transport error or vendor error status).
  provider_failure,
  /// A stored record failed its checksum or could not be decoded.
  corrupt_record,
  /// The run is terminal; its task streams accept no more events.
  run_closed,
  /// The server is shutting down or still recovering.
  unavailable,
};

/// Returns the enumerator's name.
const char* to_string(ec x);

/// Renders an error as one human-readable sentence (category-aware).
std::string render(const caf::error& err);

} // namespace orchflow

CAF_ERROR_CODE_ENUM(orchflow::ec, "orchflow")
