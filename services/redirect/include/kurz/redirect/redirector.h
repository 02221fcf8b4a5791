#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "kurz/common/click.h"
#include "kurz/common/clock.h"
#include "kurz/common/error.h"
#include "kurz/links/link_store.h"

namespace kurz::redirect {

// Bounds on what one click event carries from the request headers.
inline constexpr std::size_t kMaxReferrerBytes = 512;
inline constexpr std::size_t kMaxUserAgentBytes = 512;

// The redirect hot path: code → target URL, recording a click for every successful resolve.
// Thread-safe when the reader and the sink are; holds no state of its own.
class Redirector {
 public:
  Redirector(const links::LinkReader& links, common::ClickSink& clicks, const common::Clock& clock)
      : links_(links), clicks_(clicks), clock_(clock) {}

  // The target URL of `code`. Errors: NotFound "not_found" (unknown, deleted, or impossible code:
  // the store is not even asked), Gone "gone" (expired at the clock's now). Only a successful
  // resolve records a ClickEvent; its referrer and user agent (raw header values, possibly empty
  // or invalid UTF-8) are made valid UTF-8 and truncated at a character boundary to the limits
  // above.
  common::Result<std::string> resolve(std::string_view code, std::string_view referrer,
                                      std::string_view user_agent);

 private:
  const links::LinkReader& links_;
  common::ClickSink& clicks_;
  const common::Clock& clock_;
};

}  // namespace kurz::redirect
