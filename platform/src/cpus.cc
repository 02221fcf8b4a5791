#include "kurz/platform/cpus.h"

#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace kurz::platform {
namespace {

namespace fs = std::filesystem;

// Reads at most `limit` bytes; empty if unreadable (callers treat that as "nothing here"). Grows
// the text as it reads: /proc files report no size, and a buffer of `limit` bytes up front (8 MiB
// for mountinfo) OOM-killed the monolith at start-up under an 8 MiB memory limit.
std::string read_file(const fs::path& path, std::size_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::string text;
  char chunk[4096];
  while (text.size() < limit && in.read(chunk, sizeof(chunk)).gcount() > 0) {
    text.append(chunk, std::min(static_cast<std::size_t>(in.gcount()), limit - text.size()));
  }
  return text;
}

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const auto end = text.find(separator, start);
    parts.emplace_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\n')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  text = trim(text);
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

bool contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// mountinfo escapes space, tab, newline and backslash as \ooo (octal).
std::string unescape_octal(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size()) {
      const auto digits = text.substr(i + 1, 3);
      if (std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '7'; })) {
        out +=
            static_cast<char>((digits[0] - '0') * 64 + (digits[1] - '0') * 8 + (digits[2] - '0'));
        i += 3;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

struct Mount {
  std::string root;         // the directory of the hierarchy mounted here ("/" or a cgroup)
  std::string mount_point;  // where, in this mount namespace
  std::string fs_type;
  std::vector<std::string> super_options;
};

// proc(5): id parent major:minor root mount-point options [optional fields...] - type source
// super-options. Malformed lines are skipped.
std::vector<Mount> parse_mountinfo(const std::string& text) {
  std::vector<Mount> mounts;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    const std::vector<std::string> fields{std::istream_iterator<std::string>(words),
                                          std::istream_iterator<std::string>()};
    if (fields.size() < 10) continue;  // six fields, "-", three fields
    const auto dash = std::find(fields.begin() + 6, fields.end(), std::string("-"));
    if (dash == fields.end() || fields.end() - dash < 4) continue;
    Mount mount;
    mount.root = unescape_octal(fields[3]);
    mount.mount_point = unescape_octal(fields[4]);
    mount.fs_type = *(dash + 1);
    mount.super_options = split(*(dash + 3), ',');
    if (mount.root.empty() || mount.root.front() != '/' || mount.mount_point.empty() ||
        mount.mount_point.front() != '/') {
      continue;
    }
    mounts.push_back(std::move(mount));
  }
  return mounts;
}

struct Membership {
  std::string v1_cpu_path;  // empty: not in a v1 hierarchy with the cpu controller
  std::string v2_path;      // empty: no "0::" line
};

// /proc/self/cgroup: hierarchy-id:controller,list:path (cgroup(7)); "0::path" is cgroup v2.
Membership parse_proc_cgroup(const std::string& text) {
  Membership membership;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const auto first = line.find(':');
    const auto second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string hierarchy = line.substr(0, first);
    const std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    if (path.empty() || path.front() != '/') continue;
    if (hierarchy == "0" && controllers.empty()) {
      membership.v2_path = std::move(path);
    } else if (contains(split(controllers, ','), "cpu")) {
      membership.v1_cpu_path = std::move(path);
    }
  }
  return membership;
}

bool has_dot_dot(const fs::path& path) {
  return std::any_of(path.begin(), path.end(), [](const fs::path& part) { return part == ".."; });
}

bool directory_exists(const fs::path& path) {
  std::error_code error;
  return fs::is_directory(path, error);
}

// The directory of cgroup `path` under `mount`, seen from `root`. The mount shows the hierarchy
// from mount.root down: on a host mount.root is "/" and the path joins as it is. In a container
// without a cgroup namespace, mount.root is the container's own cgroup ("/docker/<id>") and the
// path starts with it. With a cgroup namespace, the path is relative to the namespace's root,
// which is usually the mount's root ("/" in /proc/self/cgroup). A path outside the mount's view
// ("/../x" after a move out of the namespace) falls back to the mount point itself.
std::optional<fs::path> cgroup_directory(const fs::path& root, const Mount& mount,
                                         const std::string& path) {
  const fs::path mount_dir = root / fs::path(mount.mount_point).relative_path();
  std::vector<fs::path> candidates;
  if (!has_dot_dot(path)) {
    const std::string& base = mount.root;
    const bool below_base = base != "/" && (path == base || path.rfind(base + "/", 0) == 0);
    const std::string relative = below_base ? path.substr(base.size()) : path;
    candidates.push_back(mount_dir / fs::path(relative).relative_path());
  }
  candidates.push_back(mount_dir);
  for (const auto& candidate : candidates) {
    if (directory_exists(candidate)) return candidate.lexically_normal();
  }
  return std::nullopt;
}

std::optional<CpuQuota> read_v1(const fs::path& dir) {
  const auto quota = parse_int(read_file(dir / "cpu.cfs_quota_us", 64));
  const auto period = parse_int(read_file(dir / "cpu.cfs_period_us", 64));
  if (!quota || !period || *quota <= 0 || *period <= 0) return std::nullopt;  // -1: no limit
  return CpuQuota{*quota, *period, 1, false};
}

std::optional<CpuQuota> read_v2(const fs::path& dir) {
  const auto words = split(trim(read_file(dir / "cpu.max", 64)), ' ');
  if (words.size() != 2 || words[0] == "max") return std::nullopt;
  const auto quota = parse_int(words[0]);
  const auto period = parse_int(words[1]);
  if (!quota || !period || *quota <= 0 || *period <= 0) return std::nullopt;
  return CpuQuota{*quota, *period, 2, false};
}

bool tighter(const CpuQuota& a, const std::optional<CpuQuota>& b) {
  return !b || static_cast<long double>(a.quota_us) * b->period_us <
                   static_cast<long double>(b->quota_us) * a.period_us;
}

// From `dir` up to the mount's top, the tightest quota.
template <typename Read>
void walk_up(fs::path dir, const fs::path& top, Read read, std::optional<CpuQuota>& best) {
  for (int level = 0; level < 64; ++level) {
    if (auto quota = read(dir)) {
      quota->inherited = level > 0;
      if (tighter(*quota, best)) best = quota;
    }
    if (dir == top || !dir.has_relative_path() || dir.parent_path() == dir) return;
    dir = dir.parent_path();
  }
}

std::string format_cpus(double cpus) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", cpus);
  std::string out = text;
  while (out.back() == '0') out.pop_back();
  if (out.back() == '.') out.pop_back();
  return out;
}

std::string describe(const CpuQuota& quota) {
  return "cgroup v" + std::to_string(quota.cgroup_version) + " quota " +
         std::to_string(quota.quota_us) + "/" + std::to_string(quota.period_us) + " (" +
         format_cpus(quota.cpus()) + " CPU" + (quota.inherited ? ", on a parent cgroup)" : ")");
}

std::string describe_affinity(std::size_t cpus) {
  return "affinity " + std::to_string(cpus) + (cpus == 1 ? " CPU" : " CPUs");
}

}  // namespace

std::size_t CpuQuota::whole_cpus() const {
  if (quota_us <= 0 || period_us <= 0) return 1;
  const auto whole = quota_us / period_us + (quota_us % period_us != 0 ? 1 : 0);
  return static_cast<std::size_t>(std::max<std::int64_t>(1, whole));
}

std::optional<CpuQuota> cgroup_cpu_quota(const std::string& root_dir) {
  const fs::path root = root_dir.empty() ? fs::path("/") : fs::path(root_dir);
  const auto membership = parse_proc_cgroup(read_file(root / "proc/self/cgroup", 64 * 1024));
  const auto mounts = parse_mountinfo(read_file(root / "proc/self/mountinfo", 8 * 1024 * 1024));
  std::optional<CpuQuota> best;
  // v1 first (the cpu controller's hierarchy), then v2; on a hybrid host both may be mounted and
  // only one holds the cpu files, so both are read and the tightest wins.
  for (const auto& mount : mounts) {
    const bool v1 = mount.fs_type == "cgroup" && contains(mount.super_options, "cpu") &&
                    !membership.v1_cpu_path.empty();
    const bool v2 = mount.fs_type == "cgroup2" && !membership.v2_path.empty();
    if (!v1 && !v2) continue;
    const auto dir =
        cgroup_directory(root, mount, v1 ? membership.v1_cpu_path : membership.v2_path);
    if (!dir) continue;
    const auto top = (root / fs::path(mount.mount_point).relative_path()).lexically_normal();
    if (v1) {
      walk_up(*dir, top, read_v1, best);
    } else {
      walk_up(*dir, top, read_v2, best);
    }
  }
  return best;
}

std::size_t affinity_cpus() {
  // cpu_set_t holds 1024 CPUs; larger machines need a bigger set (EINVAL says so).
  for (int size = 1024; size <= 1 << 18; size *= 2) {
    cpu_set_t* set = CPU_ALLOC(size);
    if (set == nullptr) break;
    const std::size_t bytes = CPU_ALLOC_SIZE(size);
    CPU_ZERO_S(bytes, set);
    const int result = sched_getaffinity(0, bytes, set);
    const int error = errno;
    const int count = result == 0 ? CPU_COUNT_S(bytes, set) : 0;
    CPU_FREE(set);
    if (result == 0) return static_cast<std::size_t>(std::max(1, count));
    if (error != EINVAL) break;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

std::optional<double> parse_allocated_cpus(const std::string& text) {
  const auto trimmed = trim(text);
  double value = 0;
  const auto [end, error] = std::from_chars(trimmed.data(), trimmed.data() + trimmed.size(), value);
  if (error != std::errc() || end != trimmed.data() + trimmed.size() || trimmed.empty() ||
      !std::isfinite(value) || value <= 0 || value > 1e6) {
    return std::nullopt;
  }
  return value;
}

CpuBudget cpu_budget(std::size_t affinity, const std::optional<CpuQuota>& quota,
                     std::optional<double> marathon_cpus) {
  // Every limit with its count; on a tie the earlier one is named as the reason.
  std::vector<std::pair<std::size_t, std::string>> limits;
  if (quota) limits.emplace_back(quota->whole_cpus(), describe(*quota));
  if (marathon_cpus) {
    limits.emplace_back(static_cast<std::size_t>(std::max(1.0, std::ceil(*marathon_cpus))),
                        "Marathon cpus " + format_cpus(*marathon_cpus));
  }
  affinity = std::max<std::size_t>(1, affinity);
  limits.emplace_back(affinity, describe_affinity(affinity));
  const auto decisive = std::min_element(
      limits.begin(), limits.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  CpuBudget budget{decisive->first, decisive->second};
  for (auto it = limits.begin(); it != limits.end(); ++it) {
    if (it != decisive) budget.source += ", " + it->second;
  }
  if (!quota) budget.source += ", no cgroup CPU quota";
  return budget;
}

CpuBudget cpu_budget(std::optional<double> marathon_cpus) {
  return cpu_budget(affinity_cpus(), cgroup_cpu_quota("/"), marathon_cpus);
}

}  // namespace kurz::platform
