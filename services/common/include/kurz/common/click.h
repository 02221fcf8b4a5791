#pragma once

#include <string>

#include "kurz/common/clock.h"

namespace kurz::common {

// One followed short link. `referrer` and `user_agent` are as the client sent them (possibly
// empty), already truncated by the producer to a bounded size and valid UTF-8.
struct ClickEvent {
  TimePoint at;
  std::string code;
  std::string referrer;
  std::string user_agent;
};

// Where click events go (in process memory, a Redis stream, ...).
// Implementations must be thread-safe, and record() must be cheap and must not block on the
// network: it runs on the redirect hot path. It never fails from the caller's point of view;
// an implementation that can lose events must count them (metrics) instead of reporting.
class ClickSink {
 public:
  virtual ~ClickSink() = default;
  virtual void record(ClickEvent event) = 0;
};

}  // namespace kurz::common
