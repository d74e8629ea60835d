#include "providers/vendor_provider.hpp"

#include "events/error.hpp"

namespace orchflow {

vendor_provider::vendor_provider(std::string kind, http_transport& transport,
                                 target_resolver resolve, vendor_limits limits)
    : kind_(std::move(kind)), transport_(transport),
      resolve_(std::move(resolve)), limits_(limits) {
  // nop
}

void vendor_provider::complete(const llm_request& req,
                               std::function<void(provider_reply)> done) {
  auto target = resolve_(req);
  if (!target) {
    provider_reply r;
    r.error = kind_ + " cannot be called: " + render(target.error());
    done(std::move(r));
    return;
  }
  auto call = build_vendor_call(*target, req, limits_);
  transport_.submit(std::move(call),
                    [kind = kind_, key = std::move(target->api_key),
                     done = std::move(done)](http_outcome out) {
                      done(parse_vendor_reply(kind, out, key));
                    });
}

} // namespace orchflow
