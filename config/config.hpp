#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace orchflow {

/// Every option of the server, with its default. `config/orchflow.example.json`
/// documents the same set; environment variables override the file and
/// command-line flags override both.
struct server_config {
  /// Address to bind (ORCHFLOW_LISTEN / --listen HOST:PORT).
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 8000;
  /// RocksDB data directory (ORCHFLOW_DATA_DIR / --data-dir).
  std::string data_dir = "./data";
  /// self_hosted or hosted (ORCHFLOW_MODE).
  std::string mode = "self_hosted";
  /// Provider used by runs without provider_id (ORCHFLOW_DEFAULT_PROVIDER).
  std::string default_provider = "builtin";
  /// Model of the default provider (ORCHFLOW_DEFAULT_MODEL).
  std::string default_model = "builtin";
  /// Default model of each vendor, used when a registered provider names
  /// none (model names are configuration: vendors retire them).
  std::string model_gemini = "gemini-2.0-flash-lite";
  std::string model_openai = "gpt-4o-mini";
  std::string model_anthropic = "claude-3-5-haiku-20241022";
  std::string model_ollama = "llama3";
  /// Connect and total timeouts of one vendor call.
  int llm_connect_timeout_ms = 10000;
  int llm_timeout_ms = 120000;
  /// Output token cap sent to vendors.
  int llm_max_output_tokens = 4096;
  /// Beast I/O threads (ORCHFLOW_HTTP_THREADS).
  int http_threads = 1;
  /// CAF scheduler threads (ORCHFLOW_WORKER_THREADS).
  int worker_threads = 2;
  /// Largest accepted request body (ORCHFLOW_MAX_BODY_BYTES).
  size_t max_body_bytes = 1024 * 1024;
  /// Idle keep-alive / slow-request timeout in seconds.
  int http_timeout_s = 30;
  /// Transport attempts per LLM call before the call fails.
  int llm_max_attempts = 3;
  /// First retry delay of an LLM call; doubles per attempt, with jitter.
  int llm_backoff_ms = 500;
  /// Upper bound of one retry delay.
  int llm_backoff_cap_ms = 30000;
  /// Retries after a failed self-evaluation before a human takes over.
  int eval_max_retries = 2;
  /// Delivery attempts per webhook notification before it is abandoned.
  int webhook_max_attempts = 10;
  /// First webhook retry delay; doubles per attempt up to 10 minutes.
  int webhook_backoff_ms = 1000;
  /// Timeout of one webhook POST.
  int webhook_timeout_ms = 10000;
  /// Stop the actors of runs that only wait for humans; a command wakes
  /// them from the log. Keeps a million waiting runs cheap.
  bool passivate_waiting_runs = true;
  /// Sync the WAL before acknowledging (never turn off in production).
  bool sync = true;
  /// trace, debug, info, warn, error (ORCHFLOW_LOG_LEVEL).
  std::string log_level = "info";
};

/// Builds the configuration from defaults, an optional JSON file
/// (--config FILE or ORCHFLOW_CONFIG), the environment and the flags.
/// Throws std::invalid_argument with a sentence naming the bad option.
server_config load_config(int argc, char** argv);

/// The default model of a vendor kind ("" if it has none, e.g.
/// openai_compatible, whose model must be given).
std::string default_model_for(const server_config& cfg,
                              const std::string& kind);

/// Parses `HOST:PORT`. Throws std::invalid_argument.
void parse_listen(const std::string& text, server_config& cfg);

/// The text printed by --help.
std::string usage_text();

} // namespace orchflow
