#include "config/config.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace orchflow {

namespace {

int to_int(const std::string& name, const std::string& text, int lo, int hi) {
  try {
    size_t pos = 0;
    auto x = std::stoll(text, &pos);
    if (pos == text.size() && x >= lo && x <= hi)
      return static_cast<int>(x);
  } catch (...) {
  }
  throw std::invalid_argument(name + " must be an integer between "
                              + std::to_string(lo) + " and "
                              + std::to_string(hi) + ", got '" + text + "'");
}

bool to_bool(const std::string& name, const std::string& text) {
  if (text == "true" || text == "1" || text == "yes")
    return true;
  if (text == "false" || text == "0" || text == "no")
    return false;
  throw std::invalid_argument(name + " must be true or false, got '" + text
                              + "'");
}

/// Applies one option given by its config-file name.
void set_option(server_config& cfg, const std::string& key,
                const std::string& val) {
  if (key == "listen")
    parse_listen(val, cfg);
  else if (key == "data_dir")
    cfg.data_dir = val;
  else if (key == "mode") {
    if (val != "self_hosted" && val != "hosted")
      throw std::invalid_argument("mode must be self_hosted or hosted");
    cfg.mode = val;
  } else if (key == "default_provider")
    cfg.default_provider = val;
  else if (key == "default_model")
    cfg.default_model = val;
  else if (key == "model_gemini")
    cfg.model_gemini = val;
  else if (key == "model_openai")
    cfg.model_openai = val;
  else if (key == "model_anthropic")
    cfg.model_anthropic = val;
  else if (key == "model_ollama")
    cfg.model_ollama = val;
  else if (key == "llm_connect_timeout_ms")
    cfg.llm_connect_timeout_ms = to_int(key, val, 100, 600000);
  else if (key == "llm_timeout_ms")
    cfg.llm_timeout_ms = to_int(key, val, 100, 3600000);
  else if (key == "llm_max_output_tokens")
    cfg.llm_max_output_tokens = to_int(key, val, 16, 1000000);
  else if (key == "http_threads")
    cfg.http_threads = to_int(key, val, 1, 64);
  else if (key == "worker_threads")
    cfg.worker_threads = to_int(key, val, 1, 256);
  else if (key == "max_body_bytes")
    cfg.max_body_bytes = to_int(key, val, 1024, 64 * 1024 * 1024);
  else if (key == "http_timeout_s")
    cfg.http_timeout_s = to_int(key, val, 1, 3600);
  else if (key == "llm_max_attempts")
    cfg.llm_max_attempts = to_int(key, val, 1, 10);
  else if (key == "llm_backoff_ms")
    cfg.llm_backoff_ms = to_int(key, val, 0, 600000);
  else if (key == "llm_backoff_cap_ms")
    cfg.llm_backoff_cap_ms = to_int(key, val, 0, 600000);
  else if (key == "eval_max_retries")
    cfg.eval_max_retries = to_int(key, val, 0, 10);
  else if (key == "webhook_max_attempts")
    cfg.webhook_max_attempts = to_int(key, val, 1, 100);
  else if (key == "webhook_backoff_ms")
    cfg.webhook_backoff_ms = to_int(key, val, 0, 3600000);
  else if (key == "webhook_timeout_ms")
    cfg.webhook_timeout_ms = to_int(key, val, 100, 600000);
  else if (key == "passivate_waiting_runs")
    cfg.passivate_waiting_runs = to_bool(key, val);
  else if (key == "sync")
    cfg.sync = to_bool(key, val);
  else if (key == "log_level")
    cfg.log_level = val;
  else
    throw std::invalid_argument("unknown option '" + key + "'");
}

void load_file(server_config& cfg, const std::string& path) {
  std::ifstream in{path};
  if (!in)
    throw std::invalid_argument("cannot read the config file " + path);
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw std::invalid_argument("the config file " + path
                                + " is not a JSON object");
  for (auto& [key, val] : j.items()) {
    if (key.rfind("_", 0) == 0)
      continue; // comments
    if (val.is_string())
      set_option(cfg, key, val.get<std::string>());
    else if (val.is_boolean() || val.is_number_integer())
      set_option(cfg, key, val.dump());
    else
      throw std::invalid_argument("option '" + key + "' in " + path
                                  + " must be a string, number or boolean");
  }
}

} // namespace

std::string default_model_for(const server_config& cfg,
                              const std::string& kind) {
  if (kind == "gemini")
    return cfg.model_gemini;
  if (kind == "openai")
    return cfg.model_openai;
  if (kind == "anthropic")
    return cfg.model_anthropic;
  if (kind == "ollama")
    return cfg.model_ollama;
  if (kind == "builtin")
    return "builtin";
  return {};
}

void parse_listen(const std::string& text, server_config& cfg) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    throw std::invalid_argument("listen address must be HOST:PORT, got '" + text
                                + "'");
  cfg.listen_host = text.substr(0, colon);
  cfg.listen_port = static_cast<uint16_t>(
      to_int("listen port", text.substr(colon + 1), 0, 65535));
}

std::string usage_text() {
  return "usage: orchflow [--listen HOST:PORT] [--data-dir DIR] "
         "[--config FILE] [--option KEY=VALUE]...\n"
         "Environment: ORCHFLOW_LISTEN, ORCHFLOW_DATA_DIR, ORCHFLOW_CONFIG, "
         "ORCHFLOW_<OPTION> (e.g. ORCHFLOW_DEFAULT_MODEL).\n"
         "Options and defaults: see config/orchflow.example.json.\n";
}

server_config load_config(int argc, char** argv) {
  server_config cfg;
  std::string file;
  if (auto* p = std::getenv("ORCHFLOW_CONFIG"))
    file = p;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string{argv[i]} == "--config")
      file = argv[i + 1];
  if (!file.empty())
    load_file(cfg, file);
  static const char* keys[] = {"listen",
                               "data_dir",
                               "mode",
                               "default_provider",
                               "default_model",
                               "model_gemini",
                               "model_openai",
                               "model_anthropic",
                               "model_ollama",
                               "llm_connect_timeout_ms",
                               "llm_timeout_ms",
                               "llm_max_output_tokens",
                               "http_threads",
                               "worker_threads",
                               "max_body_bytes",
                               "http_timeout_s",
                               "llm_max_attempts",
                               "llm_backoff_ms",
                               "llm_backoff_cap_ms",
                               "eval_max_retries",
                               "webhook_max_attempts",
                               "webhook_backoff_ms",
                               "webhook_timeout_ms",
                               "passivate_waiting_runs",
                               "sync",
                               "log_level"};
  for (auto* key : keys) {
    std::string env = "ORCHFLOW_";
    for (const char* c = key; *c; ++c)
      env += static_cast<char>(std::toupper(static_cast<unsigned char>(*c)));
    if (auto* val = std::getenv(env.c_str()))
      set_option(cfg, key, val);
  }
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc)
        throw std::invalid_argument(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--listen")
      parse_listen(next(), cfg);
    else if (arg == "--data-dir")
      cfg.data_dir = next();
    else if (arg == "--config")
      next();
    else if (arg == "--option") {
      auto kv = next();
      auto eq = kv.find('=');
      if (eq == std::string::npos)
        throw std::invalid_argument("--option needs KEY=VALUE");
      set_option(cfg, kv.substr(0, eq), kv.substr(eq + 1));
    } else
      throw std::invalid_argument("unknown argument '" + arg + "'");
  }
  return cfg;
}

} // namespace orchflow
