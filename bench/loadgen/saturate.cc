#include "saturate.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cores.h"
#include "seed.h"
#include "shared_counts.h"
#include "stop_flag.h"

extern char** environ;

namespace kurz::load {

namespace {

using Clock = std::chrono::steady_clock;

// A temporary directory, removed with what is in it.
class TempDir {
 public:
  bool create(std::string& error) {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/kurz-load.XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      error = "cannot create a temporary directory: " + std::string(std::strerror(errno));
      return false;
    }
    path_ = pattern;
    return true;
  }
  ~TempDir() {
    if (path_.empty()) return;
    for (const char* name : {"codes", "counts", "wrk-summary.json", "wrk-out.txt"})
      unlink((path_ + "/" + name).c_str());
    rmdir(path_.c_str());
  }
  std::string file(const char* name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string format_seconds(double s) {
  // wrk takes whole seconds (or 1m, 2h); round up so that it never runs shorter than asked.
  return std::to_string(std::max<long long>(1, static_cast<long long>(std::ceil(s)))) + "s";
}

struct WrkRun {
  pid_t pid = -1;
};

bool spawn_wrk(const std::vector<std::string>& args, const std::vector<std::string>& env_extra,
               const std::string& output, WrkRun& run, std::string& error) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "KURZ_LOAD_", 10) != 0) env.emplace_back(*e);
  }
  env.insert(env.end(), env_extra.begin(), env_extra.end());
  std::vector<char*> argv, envp;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  const int rc =
      posix_spawnp(&run.pid, args[0].c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    error = "cannot start " + args[0] + ": " + std::strerror(rc) +
            (rc == ENOENT ? " (install wrk: apt-get install wrk, or pass --wrk PATH)" : "");
    return false;
  }
  return true;
}

void stop_child(pid_t pid) {
  kill(pid, SIGTERM);
  for (int i = 0; i < 50; ++i) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

// Waits for wrk; calls tick() about once a second. False with a message on a deadline, a signal
// or a failed exit.
template <typename Tick>
bool wait_wrk(const WrkRun& run, double deadline_s, const std::string& output, Tick tick,
              std::string& error) {
  const auto started = Clock::now();
  auto next_tick = started + std::chrono::seconds(1);
  for (;;) {
    int status = 0;
    const pid_t done = waitpid(run.pid, &status, WNOHANG);
    if (done == run.pid) {
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
      std::string text = read_file(output);
      if (text.size() > 2000) text = text.substr(text.size() - 2000);
      error = "wrk failed (" +
              (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                 : "signal " + std::to_string(WTERMSIG(status))) +
              "): " + text;
      return false;
    }
    if (stop_requested()) {
      stop_child(run.pid);
      error = "interrupted";
      return false;
    }
    const auto now = Clock::now();
    if (std::chrono::duration<double>(now - started).count() > deadline_s) {
      stop_child(run.pid);
      error = "wrk did not finish within " + std::to_string(static_cast<int>(deadline_s)) +
              " s: stopped it";
      return false;
    }
    if (now >= next_tick) {
      tick(std::chrono::duration<double>(now - started).count());
      next_tick += std::chrono::seconds(1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Histogram kind_histogram(const SharedCounts& counts, int kind) {
  Histogram h;
  double max_us = 0;
  for (size_t slot = 0; slot < SlotLayout::kMaxSlots; ++slot) {
    const size_t base = SlotLayout::kHistogram + static_cast<size_t>(kind) * Histogram::kBuckets;
    for (int b = 0; b < Histogram::kBuckets; ++b) {
      const double n = counts.at(slot, base + static_cast<size_t>(b));
      if (n > 0) h.add(b, static_cast<uint64_t>(n));
    }
    max_us = std::max(max_us, counts.at(slot, SlotLayout::kMax + static_cast<size_t>(kind)));
  }
  h.note_max(max_us);
  return h;
}

std::map<int, uint64_t> status_counts(const SharedCounts& counts, size_t group) {
  std::map<int, uint64_t> out;
  for (size_t code = 0; code < SlotLayout::kStatusCodes; ++code) {
    const double n = counts.sum(SlotLayout::kStatus + group * SlotLayout::kStatusCodes + code);
    if (n > 0) out[static_cast<int>(code)] = static_cast<uint64_t>(n);
  }
  return out;
}

// The verification pass of --check sample: GET each of up to `sample` codes with a known target
// once (the most popular ones first, then spread over the ranks) and compare the answer with
// the seeded target. Counts go to the redirect kind (checked, wrong_target, not_found).
bool verify_sample(const Address& address, const RequestBuilder& builder,
                   const std::vector<Link>& links, long sample, double timeout_s, KindResult& out,
                   std::string& error) {
  std::vector<size_t> ranks;
  for (size_t i = 0; i < links.size(); ++i)
    if (!links[i].target.empty()) ranks.push_back(i);
  if (sample <= 0 || ranks.empty()) return true;
  std::vector<size_t> picked;
  const size_t want = std::min(ranks.size(), static_cast<size_t>(sample));
  const size_t head = want / 2;
  for (size_t i = 0; i < head; ++i) picked.push_back(ranks[i]);
  const size_t rest = want - head;
  for (size_t i = 0; i < rest; ++i)
    picked.push_back(ranks[head + (ranks.size() - head) * i / rest]);
  BlockingClient client(address, timeout_s);
  for (const size_t rank : picked) {
    const auto& link = links[rank];
    std::string why;
    auto reply = client.exchange(builder.get("/" + link.code), why);
    if (!reply) reply = client.exchange(builder.get("/" + link.code), why);
    if (!reply) {
      error = "verification pass: GET /" + link.code + ": " + why;
      return false;
    }
    ++out.checked;
    if (reply->status == 404) {
      ++out.not_found;
    } else if (reply->status != 302 || reply->location != link.target) {
      ++out.wrong_target;
    }
  }
  return true;
}

}  // namespace

std::optional<Result> run_saturate(const Options& o, const BaseUrl& url, const Address& address,
                                   const RequestBuilder& builder, const std::vector<Link>& links,
                                   const std::string& run_id, std::string& error) {
  const bool lean = o.check == Check::kSample;
  KindResult verified;
  if (lean && o.mix.weight[0] > 0 && o.path.empty()) {
    if (!verify_sample(address, builder, links, o.check_sample, o.timeout_s, verified, error))
      return std::nullopt;
    if (!o.quiet && verified.checked > 0)
      std::fprintf(stderr,
                   "kurz-load: verification pass: %llu redirects checked, %llu wrong target, "
                   "%llu not found\n",
                   static_cast<unsigned long long>(verified.checked),
                   static_cast<unsigned long long>(verified.wrong_target),
                   static_cast<unsigned long long>(verified.not_found));
  }
  TempDir dir;
  if (!dir.create(error)) return std::nullopt;
  if (!write_codes(dir.file("codes"), links, error)) return std::nullopt;
  SharedCounts counts;
  if (!counts.create(dir.file("counts"), error)) return std::nullopt;

  const int cores = usable_cores();
  const int threads = std::min<int>(
      {o.threads > 0 ? o.threads : cores, o.connections, static_cast<int>(SlotLayout::kMaxSlots)});
  const std::string summary_path = dir.file("wrk-summary.json");
  const std::vector<std::string> env = {
      "KURZ_LOAD_SHM=" + counts.path(),
      "KURZ_LOAD_LAYOUT=" + SlotLayout::describe(),
      "KURZ_LOAD_CODES=" + dir.file("codes"),
      "KURZ_LOAD_MIX=" + std::to_string(o.mix.weight[0]) + "," + std::to_string(o.mix.weight[1]) +
          "," + std::to_string(o.mix.weight[2]) + "," + std::to_string(o.mix.weight[3]),
      "KURZ_LOAD_ZIPF=" + std::to_string(o.zipf_s),
      "KURZ_LOAD_PREFIX=" + url.prefix,
      "KURZ_LOAD_RUN=" + run_id,
      "KURZ_LOAD_SEED=" + std::to_string(o.seed),
      "KURZ_LOAD_HOST=" + url.host_header(),
      "KURZ_LOAD_WRK_OUT=" + summary_path,
      "KURZ_LOAD_PATH=" + o.path,
      "KURZ_LOAD_API_KEY=" + o.api_key,
  };
  auto wrk_args = [&](double seconds) {
    return std::vector<std::string>{o.wrk,
                                    "-t" + std::to_string(threads),
                                    "-c" + std::to_string(o.connections),
                                    "-d" + format_seconds(seconds),
                                    "--timeout",
                                    format_seconds(o.timeout_s),
                                    "-s",
                                    lean ? o.lean_lua : o.lua,
                                    url.text + "/"};
  };
  const double slack = o.timeout_s + 15;

  if (o.warmup_s > 0) {
    if (!o.quiet)
      std::fprintf(stderr, "kurz-load: warming up for %s with wrk ...\n",
                   format_seconds(o.warmup_s).c_str());
    WrkRun warm;
    if (!spawn_wrk(wrk_args(o.warmup_s), env, dir.file("wrk-out.txt"), warm, error))
      return std::nullopt;
    if (!wait_wrk(
            warm, std::ceil(o.warmup_s) + slack, dir.file("wrk-out.txt"), [](double) {}, error))
      return std::nullopt;
    counts.clear();
  }

  double last_answered = 0;
  Histogram last_seen;
  auto matched_histogram = [&] {
    Histogram all;
    for (int k = 0; k < kKinds; ++k) all.merge(kind_histogram(counts, k));
    return all;
  };
  auto tick = [&](double elapsed) {
    if (o.quiet) return;
    // lean.lua sees no answers: in a closed loop, requests sent track the answers.
    const double answered = counts.sum(lean ? SlotLayout::kSent : SlotLayout::kAnswered);
    const Histogram now_seen = matched_histogram();
    const Histogram second = Histogram::difference(now_seen, last_seen);
    uint64_t server_errors = 0;
    for (size_t g = 0; g < SlotLayout::kStatusGroups; ++g) {
      for (const auto& [code, n] : status_counts(counts, g))
        if (code >= 500) server_errors += n;
    }
    std::fprintf(stderr, "%s\n",
                 progress_line(elapsed, static_cast<uint64_t>(counts.sum(SlotLayout::kSent)),
                               answered - last_answered, server_errors,
                               second.percentile_us(99) / 1000, second.count() > 0)
                     .c_str());
    last_answered = answered;
    last_seen = now_seen;
  };
  if (!o.quiet)
    std::fprintf(stderr,
                 "kurz-load: measuring for %s with wrk (%d threads, %d connections, %s) ...\n",
                 format_seconds(o.duration_s).c_str(), threads, o.connections,
                 lean ? "lean.lua, checks on a sample" : "mix.lua, every answer checked");
  WrkRun measured;
  if (!spawn_wrk(wrk_args(o.duration_s), env, dir.file("wrk-out.txt"), measured, error))
    return std::nullopt;
  // The markers let a caller sample the system over the measured window only.
  if (!o.quiet) std::fprintf(stderr, "kurz-load: measured window: start\n");
  if (!wait_wrk(measured, std::ceil(o.duration_s) + slack, dir.file("wrk-out.txt"), tick, error))
    return std::nullopt;
  if (!o.quiet) std::fprintf(stderr, "kurz-load: measured window: end\n");

  const auto summary = nlohmann::json::parse(read_file(summary_path), nullptr, false);
  if (summary.is_discarded() || !summary.is_object()) {
    error = "wrk wrote no summary: " + read_file(dir.file("wrk-out.txt"));
    return std::nullopt;
  }
  Result r = start_result("saturate", o, url, threads);
  r.duration_s = summary.value("duration_us", 0.0) / 1e6;  // wrk's own measured window
  for (int k = 0; k < kKinds; ++k) {
    auto& kind = r.kinds[static_cast<size_t>(k)];
    kind.sent = static_cast<uint64_t>(counts.sum(SlotLayout::kSentKind + static_cast<size_t>(k)));
    kind.status = status_counts(counts, static_cast<size_t>(k));
    kind.latency = kind_histogram(counts, k);
  }
  auto& redirect = r.kinds[0];
  if (lean) {
    redirect.checked = verified.checked;
    redirect.wrong_target = verified.wrong_target;
    redirect.not_found = verified.not_found;
  } else {
    redirect.checked = static_cast<uint64_t>(counts.sum(SlotLayout::kChecked));
    redirect.wrong_target = static_cast<uint64_t>(counts.sum(SlotLayout::kWrongTarget));
    redirect.not_found = static_cast<uint64_t>(counts.sum(SlotLayout::kNotFound));
  }
  r.unmatched.status = status_counts(counts, kKinds);
  r.unmatched.latency_known = false;
  // Per-kind latency covers the answers matched to their request by X-Request-Id; it is left out
  // when more than 1 % of the answers did not carry it (a server that does not echo it).
  const double answers = counts.sum(SlotLayout::kAnswered);
  const double unmatched = counts.sum(SlotLayout::kUnmatched);
  const bool per_kind_known = !lean && answers > 0 && unmatched <= 0.01 * answers;
  for (auto& kind : r.kinds) kind.latency_known = per_kind_known;
  r.sent = static_cast<uint64_t>(counts.sum(SlotLayout::kSent));
  const double wrk_requests = summary.value("requests", 0.0);
  r.answered_in_window = static_cast<uint64_t>(wrk_requests);
  const auto& e = summary["errors"];
  r.error_detail = {{"connect", e.value("connect", 0ULL)},
                    {"read", e.value("read", 0ULL)},
                    {"write", e.value("write", 0ULL)},
                    {"timeout", e.value("timeout", 0ULL)}};
  uint64_t server_errors = 0;
  for (size_t g = 0; g < SlotLayout::kStatusGroups; ++g) {
    for (const auto& [code, n] : status_counts(counts, g))
      if (code >= 500) server_errors += n;
  }
  if (lean) {
    // wrk counts answers with a status >= 400; it does not say which.
    const auto status_errors = static_cast<uint64_t>(e.value("status", 0ULL));
    const auto all = static_cast<uint64_t>(wrk_requests);
    r.unclassified_400_plus = std::min(status_errors, all);
    r.unclassified_below_400 = all - r.unclassified_400_plus;
    r.error_detail["http_4xx_5xx"] = r.unclassified_400_plus;
  } else {
    r.error_detail["http_5xx"] = server_errors;
  }
  const auto& lat = summary["latency_us"];
  r.extra["wrk"] = {{"requests", wrk_requests},
                    {"threads", threads},
                    {"bytes", summary.value("bytes", 0.0)},
                    {"latency_us", lat}};
  auto ms = [](double us) { return std::round(us) / 1000; };
  // The total: the script's own per-request timing (CLOCK_MONOTONIC) where the answers were
  // matched. wrk's own histogram is not one sample per request (Debian's wrk 4.1 recorded 22127
  // samples for 12982 requests in a -c1 run, the extra ones at its maximum), which inflates its
  // mean and tail: it is kept under "wrk" and used only when nothing was matched.
  if (per_kind_known) {
    for (const auto& kind : r.kinds) r.total.merge(kind.latency);
    r.latency_from =
        "each request's send time on its connection (closed loop, wrk; timed by mix.lua)";
  } else {
    r.total_latency_ms = {
        {"p50", ms(lat.value("p50", 0.0))}, {"p90", ms(lat.value("p90", 0.0))},
        {"p99", ms(lat.value("p99", 0.0))}, {"p999", ms(lat.value("p999", 0.0))},
        {"max", ms(lat.value("max", 0.0))}, {"mean", std::round(lat.value("mean", 0.0)) / 1000}};
    r.latency_from = "wrk's own histogram (closed loop; not one sample per request)";
    if (lean) r.latency_from = "wrk's own histogram (closed loop, lean.lua)";
  }
  r.extra["check"] = lean ? "sample" : "every";
  if (lean) r.extra["verified_codes"] = verified.checked;
  r.extra["per_kind_latency"] =
      lean ? "unknown: --check sample hands no answer to Lua (wrk's totals; redirects checked "
             "on a sample before the load)"
      : per_kind_known ? "from the answers matched by X-Request-Id"
                       : "unknown: the server does not echo X-Request-Id (totals are exact)";
  return r;
}

}  // namespace kurz::load
