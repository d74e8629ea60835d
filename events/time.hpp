#pragma once

#include <cstdint>
#include <string>

namespace orchflow {

/// Milliseconds since the Unix epoch (UTC), read from the system clock.
/// Only actors call this, and only to stamp a new event (DESIGN rule 2).
int64_t now_ms();

/// Formats milliseconds since the epoch as RFC 3339 UTC with milliseconds,
/// e.g. `2026-11-23T05:30:54.123Z`.
std::string format_rfc3339(int64_t ms);

} // namespace orchflow
