#pragma once

#include <string>
#include <string_view>

namespace orchflow {

/// Returns `prefix` followed by `chars` random characters from a CSPRNG
/// (OpenSSL), in lowercase base32. Ids are unpredictable, never sequential.
std::string random_id(std::string_view prefix, size_t chars = 20);

/// Returns a new client API key: `orch_` plus 256 random bits.
std::string new_api_key();

/// Returns the lowercase hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

/// Compares two equally long secrets in constant time.
bool constant_time_equal(std::string_view x, std::string_view y);

} // namespace orchflow
