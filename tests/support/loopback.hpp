#pragma once

// Small socket helpers shared by the test servers and the test client.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace orchflow::test {

/// Lowercases ASCII letters.
std::string lowercase(std::string x);

/// Header fields of an HTTP head (status or request line first, skipped),
/// names lowercased, values without leading spaces.
std::map<std::string, std::string> parse_headers(std::string_view head);

/// A listening socket on 127.0.0.1:`port` (0: any free port); `bound` gets
/// the port. Throws std::runtime_error naming `who` if that fails.
int listen_loopback(uint16_t port, int backlog, uint16_t& bound,
                    const char* who);

} // namespace orchflow::test
