#pragma once
// Saturation: wrk (closed loop) sends the mix through bench/wrk/lean.lua (--check sample: requests
// prepared once, no Lua per answer; the redirects' Location checked on a sample of codes in a
// verification pass first) or bench/wrk/mix.lua (--check every: every answer through Lua);
// kurz-load seeds, starts wrk (warm-up, then the measured run), prints progress from the shared
// counters once a second, and folds wrk's totals and the script's per-kind counts into a Result.
#include <optional>
#include <string>
#include <vector>

#include "codes.h"
#include "options.h"
#include "requests.h"
#include "result.h"
#include "url.h"

namespace kurz::load {

std::optional<Result> run_saturate(const Options& options, const BaseUrl& url,
                                   const Address& address, const RequestBuilder& builder,
                                   const std::vector<Link>& links, const std::string& run_id,
                                   std::string& error);

}  // namespace kurz::load
