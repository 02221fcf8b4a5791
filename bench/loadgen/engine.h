#pragma once
// Rate mode: the open-loop engine. Requests are due on a fixed schedule (request i of the run at
// start + i / rate) whatever the answers do; a due request waits in a bounded queue until one of
// the keep-alive connections is free, and its latency runs from its SCHEDULED time to its answer
// (the wrk2 method: a stalled server shows in the percentiles instead of being hidden by
// coordinated omission). One epoll loop per thread, non-blocking sockets, HTTP/1.1 keep-alive,
// one request in flight per connection. Timeouts, refused connects, server closes and resets are
// counted and the connection reopened (with back-off); requests beyond the queue cap are dropped
// and counted; a hard deadline (warm-up + duration + timeout + 1 s) ends every run.
#include <optional>
#include <string>
#include <vector>

#include "codes.h"
#include "options.h"
#include "result.h"
#include "url.h"

namespace kurz::load {

std::optional<Result> run_rate(const Options& options, const BaseUrl& url, const Address& address,
                               const std::vector<Link>& links, const std::string& run_id,
                               std::string& error);

}  // namespace kurz::load
