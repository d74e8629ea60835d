#pragma once

#include "providers/http_transport.hpp"
#include "providers/provider.hpp"
#include "providers/vendors.hpp"

#include <caf/expected.hpp>

#include <functional>
#include <string>

namespace orchflow {

/// Finds where a request goes and decrypts its key, just before sending.
using target_resolver
    = std::function<caf::expected<vendor_target>(const llm_request&)>;

/// A real vendor behind the provider interface: builds the request with the
/// pure builder, sends it on the shared curl-multi transport (never
/// blocking the caller) and reads the answer with the pure parser. The key
/// exists in memory only while a request is built and in flight.
class vendor_provider : public llm_provider {
public:
  vendor_provider(std::string kind, http_transport& transport,
                  target_resolver resolve, vendor_limits limits);

  void complete(const llm_request& req,
                std::function<void(provider_reply)> done) override;

private:
  std::string kind_;
  http_transport& transport_;
  target_resolver resolve_;
  vendor_limits limits_;
};

} // namespace orchflow
