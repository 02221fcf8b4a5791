#pragma once
// What a run measured, in both modes, and its two renderings: the JSON of --out and the human
// summary. `requests` counts answered requests (the sum of `status`); `errors` counts what got no
// HTTP answer (connect, read and write failures, timeouts, requests dropped at the queue cap)
// plus 5xx answers; 4xx answers (404, 429) are counted under their status only.
#include <array>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "histogram.h"
#include "mix.h"
#include "options.h"
#include "url.h"

namespace kurz::load {

struct KindResult {
  uint64_t sent = 0;
  std::map<int, uint64_t> status;
  Histogram latency;
  bool latency_known = true;
  uint64_t failed = 0;        // no HTTP answer (rate mode; wrk does not say which kind)
  uint64_t checked = 0;       // redirects whose Location was compared with the seeded target
  uint64_t wrong_target = 0;  // 302 to another target
  uint64_t not_found = 0;     // 404 for a seeded code

  uint64_t answered() const;
  void merge(const KindResult& other);
};

struct Result {
  std::string mode;
  double rate = 0;  // 0: saturate
  double duration_s = 0;
  double warmup_s = 0;
  int connections = 0;
  int threads = 0;
  std::string base_url;
  Mix mix;
  std::string links_source;  // api, file, synthetic
  size_t links = 0;
  double zipf_s = 1;
  std::string latency_from;

  std::array<KindResult, kKinds> kinds;
  KindResult unmatched;  // saturate: answers without this run's X-Request-Id
  Histogram total;
  nlohmann::json total_latency_ms = nullptr;  // saturate: wrk's own figures instead of `total`
  uint64_t sent = 0;
  // saturate --check sample: answers wrk counted without a status code for us (lean.lua hands no
  // answer to Lua): below 400, and 400 or more (wrk's "status" errors). Part of requests().
  uint64_t unclassified_below_400 = 0;
  uint64_t unclassified_400_plus = 0;
  uint64_t scheduled = 0;           // rate mode
  uint64_t answered_in_window = 0;  // answers that arrived inside the measured window
  std::map<std::string, uint64_t> error_detail;
  std::vector<uint64_t> rank_hits;  // redirects per code rank (rate mode), most popular first
  std::vector<std::string> rank_codes;
  nlohmann::json extra = nlohmann::json::object();

  uint64_t requests() const;
  uint64_t errors() const;
  double rps() const;
};

// A result of `mode` ("rate" or "saturate") with the run's settings filled in from the options.
Result start_result(std::string mode, const Options& o, const BaseUrl& url, int threads);

nlohmann::json to_json(const Result& result);
std::string summary(const Result& result);
// "12s sent 2400 (200/s) answered 2398 errors 0 p99 2.10ms"
std::string progress_line(double elapsed_s, uint64_t sent, double rps, uint64_t errors,
                          double p99_ms, bool p99_known);

}  // namespace kurz::load
