#pragma once
// Rate mode: the open-loop engine (epoll, non-blocking sockets, keep-alive HTTP/1.1).
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
