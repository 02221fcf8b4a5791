#pragma once
// Saturation: wrk (closed loop) sends the mix through bench/wrk/mix.lua; kurz-load seeds, starts
// wrk (warm-up, then the measured run), prints progress from the shared counters once a second,
// and folds wrk's totals and the script's per-kind counts into a Result.
#include <optional>
#include <string>
#include <vector>

#include "codes.h"
#include "options.h"
#include "result.h"
#include "url.h"

namespace kurz::load {

std::optional<Result> run_saturate(const Options& options, const BaseUrl& url,
                                   const std::vector<Link>& links, const std::string& run_id,
                                   std::string& error);

}  // namespace kurz::load
