#include "options.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace kurz::load {

namespace {

bool to_double(const std::string& text, double& out) {
  if (text.empty()) return false;
  char* end = nullptr;
  out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size() && std::isfinite(out);
}

bool to_long(const std::string& text, long& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string usage() {
  return R"(usage: bench/load --base-url URL --mode saturate|rate [--rate R] [--duration S] [--warmup S]
                  [--connections C] [--mix redirect=90,create=3,stats=4,qr=3] [--links N]
                  [--out FILE.json] [options]

Load for kurz (or any HTTP server on that URL): a weighted mix of redirects (GET /{code}, never
followed) over codes with a Zipf-like popularity, creates (POST /api/links, unique URLs), stats
(GET /api/stats/{code}) and QR codes (GET /qr/{code}.svg and .png, alternating).

Modes:
  saturate   how much it takes: wrk (closed loop, C connections) does the sending. By default
             (--check sample) with bench/wrk/lean.lua, the least work per request: requests
             prepared once, no Lua per answer; statuses are wrk's count (>= 400 or not), the
             latency is wrk's own histogram, and the redirects' Location is checked on a sample
             of codes in a verification pass before the load. With --check every, with
             bench/wrk/mix.lua, every answer goes through Lua:
             wrk cannot tell the script which connection an answer belongs to, so each
             request carries an X-Request-Id of this run, which kurz echoes (HAProxy passes it
             through): the script times each request from wrk's send to its answer with
             CLOCK_MONOTONIC, per kind. For a server that does not echo it (nginx), statuses and
             counts stay exact, answers are "unmatched", per-kind latency is null, and the total
             latency is wrk's own, which is not one sample per request (wrk 4.1 here records
             22127 samples for 12982 requests at -c1): read only its throughput then.
  rate       a fixed rate, open loop (kurz-load): requests leave on a schedule whatever the
             answers do, each latency is measured from its SCHEDULED send time (the wrk2 method:
             a stall shows in the percentiles instead of being hidden by coordinated omission).

Options:
  --base-url URL      http://host[:port][/prefix] (required; no https)
  --mode MODE         saturate or rate (required)
  --rate R            requests per second (required for rate mode)
  --duration S        seconds measured (10)
  --warmup S          seconds of the same load before measuring, not recorded (1)
  --connections C     keep-alive HTTP/1.1 connections (64)
  --threads T         sending threads (wrk: min(cores, C); rate mode: 1 per 20000 req/s, at most
                      cores; cores: the CPUs this process may use, so taskset counts)
  --mix SPEC          kind=weight list; kinds left out weigh 0 (redirect=90,create=3,stats=4,qr=3)
  --links N           links created through POST /api/links before measuring (1000). The target must
                      allow that many creates (RATE_LIMIT_CREATES=0, or --api-key): a 429 while
                      seeding stops with an error. --links 0 seeds nothing and uses the codes load0 .. load999, for a
                      server that answers every path (nginx `return 302`): redirects are then not
                      checked.
  --api-key KEY       send X-API-Key: KEY with every create (seeding and the create mix): kurz
                      exempts requests with its API_KEY from RATE_LIMIT_CREATES, so a load test
                      can seed through a shared balancer (marathon-lb) without lifting the limit
  --codes FILE        use these codes instead of seeding: one per line, `code [target-url]`, most
                      popular first; with a target, each redirect's Location is checked
  --save-codes FILE   write the codes used (same format, rank order) to FILE
  --zipf S            popularity exponent: rank r gets weight 1/(r+1)^S (1.0)
  --timeout S         a request unanswered after S seconds fails as a timeout (5)
  --max-queue N       rate mode: requests due but waiting for a free connection, at most N; more are
                      dropped and reported (default: 2 s worth of requests, at least 1000)
  --seed N            random seed for the mix and the codes (1)
  --out FILE          write the results as JSON to FILE (else a summary on stdout)
  --quiet             no progress lines on stderr
  --wrk PATH          the wrk binary (wrk)
  --check MODE        saturate mode: sample (default: lean.lua, Location checked on a sample
                      of codes before the load) or every (mix.lua: every answer's status, kind,
                      latency and Location)
  --path PATH         saturate: every request is GET PATH (e.g. /qr/abc.png, /) under the base
                      URL's prefix, prepared once; --mix is ignored, nothing is checked
  --check-sample N    codes checked in the verification pass of --check sample (100; 0: none)
  --lua PATH          the wrk script of --check every (bench/wrk/mix.lua)
  --lean-lua PATH     the wrk script of --check sample (bench/wrk/lean.lua)
  -h, --help          this text

Progress: one line a second on stderr: elapsed, sent, answers that second, errors, and the p99
of that second's answers (saturate: errors are 5xx only until wrk reports its socket errors).
JSON (--out): mode, rate, duration_s, requests (answered, = the sum of status), errors, rps
(answers per second inside the measured window), status (count by code), latency_ms {p50, p90,
p99, p999, max, mean}, kinds {redirect, create, stats, qr: sent, requests, status, latency_ms},
error_detail (connect, read, closed, write, timeout, dropped, http_5xx: errors is their sum),
redirects {checked, wrong, wrong_target, not_found, wrong_share} (a redirect is wrong when it
answers 404 or another target than the one seeded), links, and in rate mode scheduled and
popularity (redirects to the hottest codes). Creates refused with 429 (a per-client rate limit)
count under their status, not as errors.
Exit: 0 measured; 1 the target failed (unreachable, seeding refused, wrk failed); 2 bad usage.
)";
}

ParseResult parse_options(const std::vector<std::string>& args) {
  Options o;
  bool have_mode = false;
  bool have_links = false;
  auto fail = [](std::string message) { return ParseResult{std::nullopt, std::move(message)}; };
  for (size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i];
    std::string value;
    bool inline_value = false;
    if (name.rfind("--", 0) == 0) {
      const auto equals = name.find('=');
      if (equals != std::string::npos) {
        value = name.substr(equals + 1);
        name = name.substr(0, equals);
        inline_value = true;
      }
    }
    if (name == "-h" || name == "--help") {
      o.help = true;
      return ParseResult{o, ""};
    }
    if (name == "--quiet") {
      o.quiet = true;
      continue;
    }
    static const char* const kWithValue[] = {
        "--base-url", "--mode",         "--rate",     "--duration", "--warmup",     "--connections",
        "--threads",  "--mix",          "--links",    "--codes",    "--save-codes", "--zipf",
        "--timeout",  "--max-queue",    "--seed",     "--out",      "--wrk",        "--lua",
        "--check",    "--check-sample", "--lean-lua", "--path",     "--api-key"};
    bool known = false;
    for (const char* k : kWithValue) known = known || name == k;
    if (!known) return fail("unknown option '" + args[i] + "'");
    if (!inline_value) {
      if (i + 1 >= args.size()) return fail(name + " needs a value");
      value = args[++i];
    }
    double number = 0;
    long integer = 0;
    if (name == "--base-url") {
      o.base_url = value;
    } else if (name == "--mode") {
      if (value == "saturate") {
        o.mode = Mode::kSaturate;
      } else if (value == "rate") {
        o.mode = Mode::kRate;
      } else {
        return fail("--mode must be saturate or rate, got '" + value + "'");
      }
      have_mode = true;
    } else if (name == "--rate") {
      if (!to_double(value, number) || number <= 0 || number > 10'000'000)
        return fail("--rate must be a number of requests per second above 0, got '" + value + "'");
      o.rate = number;
    } else if (name == "--duration" || name == "--warmup" || name == "--timeout") {
      const bool zero_ok = name == "--warmup";
      if (!to_double(value, number) || number < 0 || (!zero_ok && number == 0) || number > 86400)
        return fail(name + " must be a number of seconds " + (zero_ok ? "from 0" : "above 0") +
                    " up to 86400, got '" + value + "'");
      (name == "--duration" ? o.duration_s
       : name == "--warmup" ? o.warmup_s
                            : o.timeout_s) = number;
    } else if (name == "--connections" || name == "--threads") {
      if (!to_long(value, integer) || integer < 1 || integer > 100000)
        return fail(name + " must be an integer from 1 to 100000, got '" + value + "'");
      (name == "--connections" ? o.connections : o.threads) = static_cast<int>(integer);
    } else if (name == "--mix") {
      std::string error;
      auto mix = Mix::parse(value, error);
      if (!mix) return fail(error);
      o.mix = *mix;
    } else if (name == "--links") {
      if (!to_long(value, integer) || integer < 0 || integer > 10'000'000)
        return fail("--links must be an integer from 0 to 10000000, got '" + value + "'");
      o.links = integer;
      have_links = true;
    } else if (name == "--max-queue") {
      if (!to_long(value, integer) || integer < 1 || integer > 100'000'000)
        return fail("--max-queue must be an integer from 1 to 100000000, got '" + value + "'");
      o.max_queue = integer;
    } else if (name == "--seed") {
      if (!to_long(value, integer) || integer < 0)
        return fail("--seed must be a non-negative integer, got '" + value + "'");
      o.seed = static_cast<unsigned long long>(integer);
    } else if (name == "--zipf") {
      if (!to_double(value, number) || number < 0 || number > 10)
        return fail("--zipf must be a number from 0 to 10, got '" + value + "'");
      o.zipf_s = number;
    } else if (name == "--codes") {
      o.codes_file = value;
    } else if (name == "--api-key") {
      if (value.empty() || value.find_first_of("\r\n") != std::string::npos)
        return fail("--api-key must be a non-empty single line");
      o.api_key = value;
    } else if (name == "--save-codes") {
      o.save_codes = value;
    } else if (name == "--out") {
      o.out = value;
    } else if (name == "--wrk") {
      o.wrk = value;
    } else if (name == "--lua") {
      o.lua = value;
    } else if (name == "--path") {
      if (value.empty() || value[0] != '/' || value.find_first_of(" \r\n\t") != std::string::npos)
        return fail("--path must start with / and have no spaces, got '" + value + "'");
      o.path = value;
    } else if (name == "--lean-lua") {
      o.lean_lua = value;
    } else if (name == "--check") {
      if (value == "sample") {
        o.check = Check::kSample;
      } else if (value == "every") {
        o.check = Check::kEvery;
      } else {
        return fail("--check must be sample or every, got '" + value + "'");
      }
    } else if (name == "--check-sample") {
      if (!to_long(value, integer) || integer < 0 || integer > 1'000'000)
        return fail("--check-sample must be an integer from 0 to 1000000, got '" + value + "'");
      o.check_sample = integer;
    }
    if (value.empty()) return fail(name + " needs a non-empty value");
  }
  if (o.base_url.empty()) return fail("--base-url is required");
  if (!have_mode) return fail("--mode is required (saturate or rate)");
  if (o.mode == Mode::kRate && o.rate <= 0) return fail("--mode rate needs --rate R");
  if (o.mode == Mode::kSaturate && o.rate > 0)
    return fail("--rate is for --mode rate (saturate sends as fast as the server answers)");
  if (!o.path.empty() && (o.mode != Mode::kSaturate || o.check != Check::kSample))
    return fail("--path is for --mode saturate with --check sample");
  if (!o.codes_file.empty() && have_links && o.links > 0)
    return fail("--codes and --links N > 0 exclude each other (--codes seeds nothing)");
  return ParseResult{o, ""};
}

}  // namespace kurz::load
