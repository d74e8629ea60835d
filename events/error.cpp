#include "events/error.hpp"

#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace orchflow {

const char* to_string(ec x) {
  switch (x) {
  case ec::unspecified:
    return "unspecified";
  case ec::storage_failure:
    return "storage_failure";
  case ec::version_conflict:
    return "version_conflict";
  case ec::not_found:
    return "not_found";
  case ec::invalid_argument:
    return "invalid_argument";
  case ec::wrong_state:
    return "wrong_state";
  case ec::provider_failure:
    return "provider_failure";
  case ec::corrupt_record:
    return "corrupt_record";
  case ec::run_closed:
    return "run_closed";
  case ec::unavailable:
    return "unavailable";
  }
  return "unknown";
}

std::string render(const caf::error& err) {
  if (!err)
    return "no error";
  std::string result;
  if (err.category() == caf::atom("orchflow"))
    result = to_string(static_cast<ec>(err.code()));
  else
    result = caf::to_string(err);
  if (!err.context().empty()) {
    // Our contexts are lists of strings; join them into one sentence.
    auto& ctx = err.context();
    std::string detail;
    for (size_t i = 0; i < ctx.size(); ++i) {
      if (ctx.match_element<std::string>(i)) {
        if (!detail.empty())
          detail += ": ";
        detail += ctx.get_as<std::string>(i);
      }
    }
    if (!detail.empty())
      return detail;
  }
  return result;
}

} // namespace orchflow
