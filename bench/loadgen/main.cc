// kurz-load: the load generator behind bench/load. Rate mode is its own open-loop engine;
// saturate mode drives wrk with bench/wrk/mix.lua. See usage() in options.cc.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "codes.h"
#include "engine.h"
#include "options.h"
#include "result.h"
#include "saturate.h"
#include "seed.h"
#include "stop_flag.h"
#include "url.h"

#ifndef KURZ_LOAD_LUA_DEFAULT
#define KURZ_LOAD_LUA_DEFAULT "bench/wrk/mix.lua"
#endif
#ifndef KURZ_LOAD_LEAN_LUA_DEFAULT
#define KURZ_LOAD_LEAN_LUA_DEFAULT "bench/wrk/lean.lua"
#endif

namespace {

using namespace kurz::load;

int usage_error(const std::string& message) {
  std::fprintf(stderr, "kurz-load: error: %s\nRun bench/load --help for the options.\n",
               message.c_str());
  return 2;
}

int failure(const std::string& message) {
  std::fprintf(stderr, "kurz-load: error: %s\n", message.c_str());
  return stop_requested() ? 130 : 1;
}

int run(const std::vector<std::string>& args) {
  const auto parsed = parse_options(args);
  if (!parsed.options) return usage_error(parsed.error);
  Options o = *parsed.options;
  if (o.help) {
    std::fputs(usage().c_str(), stdout);
    return 0;
  }
  std::string error;
  const auto url = BaseUrl::parse(o.base_url, error);
  if (!url) return usage_error(error);
  if (o.lua.empty()) {
    const char* from_env = std::getenv("KURZ_LOAD_LUA");
    o.lua = from_env && *from_env ? from_env : KURZ_LOAD_LUA_DEFAULT;
  }
  if (o.lean_lua.empty()) {
    const char* from_env = std::getenv("KURZ_LOAD_LEAN_LUA");
    o.lean_lua = from_env && *from_env ? from_env : KURZ_LOAD_LEAN_LUA_DEFAULT;
  }
  if (o.mode == Mode::kSaturate && o.check == Check::kEvery && access(o.lua.c_str(), R_OK) != 0)
    return usage_error("--lua: cannot read the wrk script " + o.lua);
  if (o.mode == Mode::kSaturate && o.check == Check::kSample &&
      access(o.lean_lua.c_str(), R_OK) != 0)
    return usage_error("--lean-lua: cannot read the wrk script " + o.lean_lua);
  install_stop_handlers();

  const auto address = resolve(*url, error);
  if (!address) return failure(error);
  if (!check_reachable(*url, *address, o.timeout_s, error)) return failure(error);

  const std::string run_id = make_run_id();
  const RequestBuilder builder(*url, run_id, o.api_key);
  std::vector<Link> links;
  std::string source;
  const auto seed_started = std::chrono::steady_clock::now();
  if (!o.codes_file.empty()) {
    auto read = read_codes(o.codes_file, error);
    if (!read) return usage_error(error);
    links = std::move(*read);
    source = "file";
  } else if (o.links == 0) {
    links = synthetic_codes(1000);
    source = "synthetic";
  } else {
    auto seeded = seed_links(*address, builder, o.links, o.timeout_s, o.quiet, error);
    if (!seeded) return failure(error);
    links = std::move(*seeded);
    source = "api";
  }
  const double seed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - seed_started).count();
  if (!o.save_codes.empty() && !write_codes(o.save_codes, links, error)) return failure(error);
  if (stop_requested()) return failure("interrupted");

  std::optional<Result> result;
  if (o.mode == Mode::kSaturate) {
    result = run_saturate(o, *url, *address, builder, links, run_id, error);
  } else {
    result = run_rate(o, *url, *address, links, run_id, error);
  }
  if (!result) return failure(error);
  result->links_source = source;
  result->links = links.size();
  result->extra["seeding_s"] = source == "api" ? std::round(seed_s * 1000) / 1000 : 0.0;

  if (!o.out.empty()) {
    std::ofstream out(o.out, std::ios::trunc);
    out << to_json(*result).dump(2) << "\n";
    out.flush();
    if (!out) return failure("cannot write " + o.out);
    if (!o.quiet) std::fprintf(stderr, "kurz-load: results written to %s\n", o.out.c_str());
  } else {
    std::fputs(summary(*result).c_str(), stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    return run(args);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kurz-load: error: %s\n", e.what());
    return 1;
  }
}
