#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orchflow {

// Non-throwing accessors: an exception escaping a CAF handler kills the
// actor, and stored or received JSON may be of any shape.

/// Returns `j[key]` if it is a string, else `fallback`.
inline std::string get_string(const nlohmann::json& j, std::string_view key,
                              std::string fallback = {}) {
  if (!j.is_object())
    return fallback;
  auto i = j.find(key);
  if (i == j.end() || !i->is_string())
    return fallback;
  return i->get_ref<const std::string&>();
}

/// Returns `j[key]` if it is a string, else nullopt.
inline std::optional<std::string> get_opt_string(const nlohmann::json& j,
                                                 std::string_view key) {
  if (!j.is_object())
    return std::nullopt;
  auto i = j.find(key);
  if (i == j.end() || !i->is_string())
    return std::nullopt;
  return i->get_ref<const std::string&>();
}

/// Returns `j[key]` if it is an integer, else `fallback`.
inline int64_t get_int(const nlohmann::json& j, std::string_view key,
                       int64_t fallback = 0) {
  if (!j.is_object())
    return fallback;
  auto i = j.find(key);
  if (i == j.end() || !i->is_number_integer())
    return fallback;
  return i->get<int64_t>();
}

/// Returns `j[key]` if it is a number, else `fallback`.
inline double get_double(const nlohmann::json& j, std::string_view key,
                         double fallback = 0) {
  if (!j.is_object())
    return fallback;
  auto i = j.find(key);
  if (i == j.end() || !i->is_number())
    return fallback;
  return i->get<double>();
}

/// Returns `j[key]` if it is a boolean, else `fallback`.
inline bool get_bool(const nlohmann::json& j, std::string_view key,
                     bool fallback = false) {
  if (!j.is_object())
    return fallback;
  auto i = j.find(key);
  if (i == j.end() || !i->is_boolean())
    return fallback;
  return i->get<bool>();
}

/// Returns the string elements of the array `j[key]`, skipping others.
inline std::vector<std::string> get_strings(const nlohmann::json& j,
                                            std::string_view key) {
  std::vector<std::string> result;
  if (!j.is_object())
    return result;
  auto i = j.find(key);
  if (i == j.end() || !i->is_array())
    return result;
  for (auto& x : *i)
    if (x.is_string())
      result.push_back(x.get_ref<const std::string&>());
  return result;
}

/// Serializes without ever throwing: invalid UTF-8 in strings becomes
/// U+FFFD. Use it wherever a throw would kill an actor or the writer.
inline std::string dump_safe(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

/// Returns `j[key]` if present, else null.
inline const nlohmann::json& get_json(const nlohmann::json& j,
                                      std::string_view key) {
  static const nlohmann::json null_value;
  if (!j.is_object())
    return null_value;
  auto i = j.find(key);
  return i == j.end() ? null_value : *i;
}

} // namespace orchflow
