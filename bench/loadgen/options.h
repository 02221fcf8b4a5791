#pragma once
// Command-line options of kurz-load (and of bench/load, which passes them on). parse() never
// exits: it returns a message for a usage error, and main() prints it and exits 2.
#include <optional>
#include <string>
#include <vector>

#include "mix.h"

namespace kurz::load {

enum class Mode { kSaturate, kRate };
// Saturate mode: check every answer in Lua (mix.lua: statuses, per-kind latency, every redirect's
// Location), or do the least per request (lean.lua: prepared requests, no Lua per answer) and check
// the redirects on a sample of codes in a verification pass before the load.
enum class Check { kSample, kEvery };

struct Options {
  std::string base_url;
  Mode mode = Mode::kRate;
  double rate = 0;  // requests per second (rate mode)
  double duration_s = 10;
  double warmup_s = 1;
  int connections = 64;
  int threads = 0;  // 0: wrk gets min(cores, connections) threads; kurz-load always 1 per core
  Mix mix;
  long links = 1000;       // links seeded through the API
  std::string codes_file;  // instead of seeding: codes (and targets) from this file
  std::string api_key;     // sent with every create (X-API-Key): kurz exempts it from its limit
  std::string save_codes;  // write the codes used (rank order) to this file
  double zipf_s = 1.0;
  double timeout_s = 5;
  long max_queue = 0;  // 0: max(1000, 2 s worth of requests)
  unsigned long long seed = 1;
  std::string out;
  bool quiet = false;
  std::string wrk = "wrk";
  std::string lua;       // bench/wrk/mix.lua (--check every)
  std::string lean_lua;  // bench/wrk/lean.lua (--check sample)
  Check check = Check::kSample;
  long check_sample = 100;
  std::string path;  // saturate: every request GETs this path (under the base URL's prefix)  //
                     // codes GET once each in the verification pass (--check sample)
  bool help = false;
};

struct ParseResult {
  std::optional<Options> options;
  std::string error;  // set when options is empty
};

ParseResult parse_options(const std::vector<std::string>& args);
std::string usage();

}  // namespace kurz::load
