#include "kurz/health/registry.h"

#include <exception>

namespace kurz::health {
namespace {
void append_escaped(std::string& out, const std::string& in) {
  static const char kHex[] = "0123456789abcdef";
  for (const char ch : in) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    } else {
      out.push_back(ch);
    }
  }
}
}  // namespace

void Registry::add(std::string name, Probe probe, Check check) {
  std::lock_guard lock(mutex_);
  entries_.push_back(Entry{std::move(name), probe, std::move(check)});
}

Report Registry::evaluate(Probe probe) const {
  std::vector<Entry> entries;
  {
    std::lock_guard lock(mutex_);
    entries = entries_;
  }
  Report report;
  for (const auto& entry : entries) {
    if (probe == Probe::Liveness && entry.probe != Probe::Liveness) continue;
    CheckResult result;
    try {
      result = entry.check();
    } catch (const std::exception& e) {
      result = CheckResult{false, std::string("check failed: ") + e.what()};
    } catch (...) {
      result = CheckResult{false, "check failed"};
    }
    report.ok = report.ok && result.ok;
    report.checks.emplace_back(entry.name, std::move(result));
  }
  return report;
}

std::string to_json(const Report& report) {
  std::string out = R"({"status":")";
  out += report.ok ? "ok" : "fail";
  out += R"(","checks":{)";
  bool first = true;
  for (const auto& [name, result] : report.checks) {
    if (!first) out.push_back(',');
    first = false;
    out.push_back('"');
    append_escaped(out, name);
    out += R"(":{"status":")";
    out += result.ok ? "ok" : "fail";
    out += R"(","detail":")";
    append_escaped(out, result.detail);
    out += "\"}";
  }
  out += "}}";
  return out;
}

}  // namespace kurz::health
