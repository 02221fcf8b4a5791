#include "result.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

namespace kurz::load {

Result start_result(std::string mode, const Options& o, const BaseUrl& url, int threads) {
  Result r;
  r.mode = std::move(mode);
  r.duration_s = o.duration_s;
  r.warmup_s = o.warmup_s;
  r.connections = o.connections;
  r.threads = threads;
  r.base_url = url.text;
  r.mix = o.mix;
  r.zipf_s = o.zipf_s;
  return r;
}

namespace {

double round3(double v) { return std::round(v * 1000) / 1000; }

nlohmann::json latency_json(const Histogram& h, bool known) {
  if (!known || h.count() == 0) return nullptr;
  return {
      {"p50", round3(h.percentile_us(50) / 1000)}, {"p90", round3(h.percentile_us(90) / 1000)},
      {"p99", round3(h.percentile_us(99) / 1000)}, {"p999", round3(h.percentile_us(99.9) / 1000)},
      {"max", round3(h.max_us() / 1000)},          {"mean", round3(h.mean_us() / 1000)}};
}

nlohmann::json status_json(const std::map<int, uint64_t>& status) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [code, count] : status) out[std::to_string(code)] = count;
  return out;
}

std::string ms(double us) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2fms", us / 1000);
  return text;
}

}  // namespace

uint64_t KindResult::answered() const {
  uint64_t sum = 0;
  for (const auto& [code, count] : status) sum += count;
  return sum;
}

void KindResult::merge(const KindResult& other) {
  sent += other.sent;
  for (const auto& [code, count] : other.status) status[code] += count;
  latency.merge(other.latency);
  latency_known = latency_known && other.latency_known;
  failed += other.failed;
  checked += other.checked;
  wrong_target += other.wrong_target;
  not_found += other.not_found;
}

uint64_t Result::requests() const {
  uint64_t sum = unmatched.answered() + unclassified_below_400 + unclassified_400_plus;
  for (const auto& k : kinds) sum += k.answered();
  return sum;
}

uint64_t Result::errors() const {
  uint64_t sum = 0;
  for (const auto& [name, count] : error_detail) sum += count;
  return sum;
}

double Result::rps() const {
  return duration_s > 0 ? static_cast<double>(answered_in_window) / duration_s : 0;
}

nlohmann::json to_json(const Result& r) {
  nlohmann::json out;
  out["tool"] = "kurz-load";
  out["mode"] = r.mode;
  out["rate"] = r.rate > 0 ? nlohmann::json(r.rate) : nlohmann::json(nullptr);
  out["duration_s"] = round3(r.duration_s);
  out["warmup_s"] = round3(r.warmup_s);
  out["base_url"] = r.base_url;
  out["connections"] = r.connections;
  out["threads"] = r.threads;
  out["mix"] = nlohmann::json::object();
  for (int i = 0; i < kKinds; ++i)
    out["mix"][kKindNames[static_cast<size_t>(i)]] = r.mix.weight[static_cast<size_t>(i)];
  out["links"] = {{"source", r.links_source}, {"count", r.links}, {"zipf_s", r.zipf_s}};
  out["requests"] = r.requests();
  out["errors"] = r.errors();
  out["rps"] = std::round(r.rps() * 10) / 10;
  out["sent"] = r.sent;
  if (r.rate > 0) out["scheduled"] = r.scheduled;
  out["error_detail"] = r.error_detail;
  std::map<int, uint64_t> status;
  for (const auto& k : r.kinds)
    for (const auto& [code, count] : k.status) status[code] += count;
  for (const auto& [code, count] : r.unmatched.status) status[code] += count;
  out["status"] = status_json(status);
  if (r.unclassified_below_400 + r.unclassified_400_plus > 0) {
    // Answers counted by wrk only (--check sample): their class, not their code.
    out["status_classes"] = {{"below_400", r.unclassified_below_400},
                             {"400_or_more", r.unclassified_400_plus}};
  }
  out["latency_ms"] =
      r.total_latency_ms.is_null() ? latency_json(r.total, true) : r.total_latency_ms;
  out["latency_from"] = r.latency_from;
  uint64_t checked = 0, wrong = 0, not_found = 0;
  out["kinds"] = nlohmann::json::object();
  for (int i = 0; i < kKinds; ++i) {
    const auto& k = r.kinds[static_cast<size_t>(i)];
    nlohmann::json kind = {{"sent", k.sent},
                           {"requests", k.answered()},
                           {"status", status_json(k.status)},
                           {"latency_ms", latency_json(k.latency, k.latency_known)}};
    if (r.rate > 0) kind["failed"] = k.failed;
    if (static_cast<Kind>(i) == Kind::kRedirect) {
      kind["checked"] = k.checked;
      kind["wrong_target"] = k.wrong_target;
      kind["not_found"] = k.not_found;
    }
    checked += k.checked;
    wrong += k.wrong_target;
    not_found += k.not_found;
    out["kinds"][kKindNames[static_cast<size_t>(i)]] = kind;
  }
  if (r.mode == "saturate") {
    out["unmatched"] = {{"requests", r.unmatched.answered()},
                        {"status", status_json(r.unmatched.status)}};
  }
  out["redirects"] = {{"checked", checked},
                      {"wrong", wrong + not_found},
                      {"wrong_target", wrong},
                      {"not_found", not_found},
                      {"wrong_share", checked > 0 ? round3(static_cast<double>(wrong + not_found) /
                                                           static_cast<double>(checked))
                                                  : 0.0}};
  if (!r.rank_hits.empty()) {
    uint64_t all = 0;
    for (const auto h : r.rank_hits) all += h;
    nlohmann::json hot = nlohmann::json::array();
    uint64_t top10 = 0;
    for (size_t i = 0; i < std::min<size_t>(10, r.rank_hits.size()); ++i) {
      hot.push_back({{"code", r.rank_codes[i]}, {"redirects", r.rank_hits[i]}});
      top10 += r.rank_hits[i];
    }
    out["popularity"] = {
        {"hot", hot},
        {"top1_share",
         all ? round3(static_cast<double>(r.rank_hits[0]) / static_cast<double>(all)) : 0.0},
        {"top10_share", all ? round3(static_cast<double>(top10) / static_cast<double>(all)) : 0.0}};
  }
  for (const auto& [key, value] : r.extra.items()) out[key] = value;
  return out;
}

std::string summary(const Result& r) {
  std::string out;
  char line[512];
  if (r.rate > 0) {
    std::snprintf(line, sizeof line, "kurz-load rate %.0f/s (open loop) for %.1f s against %s\n",
                  r.rate, r.duration_s, r.base_url.c_str());
  } else {
    std::snprintf(line, sizeof line,
                  "kurz-load saturate (wrk, %d connections) for %.1f s against %s\n", r.connections,
                  r.duration_s, r.base_url.c_str());
  }
  out += line;
  std::snprintf(line, sizeof line, "%llu requests answered, %.1f req/s, %llu errors",
                static_cast<unsigned long long>(r.requests()), r.rps(),
                static_cast<unsigned long long>(r.errors()));
  out += line;
  if (r.errors() > 0) {
    out += " (";
    bool first = true;
    for (const auto& [name, count] : r.error_detail) {
      if (count == 0) continue;
      out += (first ? "" : ", ") + name + " " + std::to_string(count);
      first = false;
    }
    out += ")";
  }
  out += "\nlatency from " + r.latency_from + "\n";
  std::snprintf(line, sizeof line, "%-10s %9s %9s %9s %9s %9s %9s  %s\n", "kind", "requests", "p50",
                "p90", "p99", "p99.9", "max", "status");
  out += line;
  auto row = [&](const char* name, uint64_t count, const Histogram& h, bool known,
                 const std::map<int, uint64_t>& status) {
    std::string codes;
    for (const auto& [code, n] : status)
      codes += std::to_string(code) + ":" + std::to_string(n) + " ";
    if (!known || h.count() == 0) {
      std::snprintf(line, sizeof line, "%-10s %9llu %9s %9s %9s %9s %9s  %s\n", name,
                    static_cast<unsigned long long>(count), "-", "-", "-", "-", "-", codes.c_str());
    } else {
      std::snprintf(line, sizeof line, "%-10s %9llu %9s %9s %9s %9s %9s  %s\n", name,
                    static_cast<unsigned long long>(count), ms(h.percentile_us(50)).c_str(),
                    ms(h.percentile_us(90)).c_str(), ms(h.percentile_us(99)).c_str(),
                    ms(h.percentile_us(99.9)).c_str(), ms(h.max_us()).c_str(), codes.c_str());
    }
    out += line;
  };
  std::map<int, uint64_t> all;
  for (const auto& k : r.kinds)
    for (const auto& [code, count] : k.status) all[code] += count;
  for (const auto& [code, count] : r.unmatched.status) all[code] += count;
  if (r.total_latency_ms.is_object()) {
    std::string codes;
    if (r.unclassified_below_400 > 0)
      codes += "<400:" + std::to_string(r.unclassified_below_400) + " ";
    if (r.unclassified_400_plus > 0)
      codes += ">=400:" + std::to_string(r.unclassified_400_plus) + " ";
    for (const auto& [code, n] : all) codes += std::to_string(code) + ":" + std::to_string(n) + " ";
    const auto& t = r.total_latency_ms;
    auto f = [&](const char* key) { return ms(t.value(key, 0.0) * 1000); };
    std::snprintf(line, sizeof line, "%-10s %9llu %9s %9s %9s %9s %9s  %s\n", "total",
                  static_cast<unsigned long long>(r.requests()), f("p50").c_str(), f("p90").c_str(),
                  f("p99").c_str(), f("p999").c_str(), f("max").c_str(), codes.c_str());
    out += line;
  } else {
    row("total", r.requests(), r.total, true, all);
  }
  for (int i = 0; i < kKinds; ++i) {
    const auto& k = r.kinds[static_cast<size_t>(i)];
    if (k.sent == 0 && k.answered() == 0) continue;
    row(kKindNames[static_cast<size_t>(i)], k.answered(), k.latency, k.latency_known, k.status);
  }
  if (r.unmatched.answered() > 0) {
    row("unmatched", r.unmatched.answered(), r.unmatched.latency, false, r.unmatched.status);
  }
  const auto& redirect = r.kinds[0];
  if (redirect.checked > 0) {
    std::snprintf(line, sizeof line, "redirects checked: %llu, wrong target %llu, not found %llu\n",
                  static_cast<unsigned long long>(redirect.checked),
                  static_cast<unsigned long long>(redirect.wrong_target),
                  static_cast<unsigned long long>(redirect.not_found));
    out += line;
  }
  return out;
}

std::string progress_line(double elapsed_s, uint64_t sent, double rps, uint64_t errors,
                          double p99_ms, bool p99_known) {
  char line[200];
  if (p99_known) {
    std::snprintf(line, sizeof line,
                  "kurz-load: %5.1fs sent %llu  %.0f req/s  errors %llu  p99 %.2fms", elapsed_s,
                  static_cast<unsigned long long>(sent), rps,
                  static_cast<unsigned long long>(errors), p99_ms);
  } else {
    std::snprintf(line, sizeof line, "kurz-load: %5.1fs sent %llu  %.0f req/s  errors %llu  p99 -",
                  elapsed_s, static_cast<unsigned long long>(sent), rps,
                  static_cast<unsigned long long>(errors));
  }
  return line;
}

}  // namespace kurz::load
