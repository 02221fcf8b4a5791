#pragma once
// How many CPUs this process may really use, for sizing thread pools (HTTP_THREADS' default and
// what derives from it). std::thread::hardware_concurrency() counts the machine's cores; a
// container limited to 0.25 CPU on a 64-core host would run 64 reactors that mostly wait for
// their CFS quota. This reads the two limits the kernel applies:
//   - the scheduling affinity mask (sched_getaffinity: taskset, cpuset cgroups, --cpuset-cpus);
//   - the CFS bandwidth quota of the process's cgroup: cgroup v1 cpu.cfs_quota_us and
//     cpu.cfs_period_us (quota -1: none) under the v1 `cpu` controller's mount, cgroup v2 cpu.max
//     ("max 100000": none, "25000 100000": 0.25 CPU) under the cgroup2 mount. Both are found
//     through /proc/self/cgroup and /proc/self/mountinfo, as the JVM and Go's automaxprocs do.
//   - on Marathon, the app's `cpus` (MARATHON_APP_RESOURCE_CPUS): Mesos makes them a CFS quota
//     only when its agent runs with --cgroups_enable_cfs, and otherwise cpu.shares alone, which
//     limit nothing on an idle host; the variable is then the only trace of the allocation.
// The budget is min(affinity, ceil(quota / period), ceil(Marathon cpus)), at least 1.
//
// Parent cgroups: a quota set on an ancestor (a Kubernetes pod-level cgroup, a systemd slice)
// limits every child too, so the walk goes from the process's cgroup up to the top of the mount
// and the tightest quota wins. Ancestors above the mount root (the host's side of a container's
// cgroup namespace) are not visible and so not counted.
//
// Nothing here throws: unreadable or malformed files mean "no quota found", never a crash.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace kurz::platform {

// A CFS bandwidth limit: `quota_us` of CPU time every `period_us` (both > 0).
struct CpuQuota {
  std::int64_t quota_us = 0;
  std::int64_t period_us = 0;
  int cgroup_version = 0;  // 1 or 2
  bool inherited = false;  // set on a parent cgroup, not on the process's own

  double cpus() const { return static_cast<double>(quota_us) / static_cast<double>(period_us); }
  // ceil(quota / period), at least 1: 0.25 -> 1, 1.5 -> 2.
  std::size_t whole_cpus() const;
};

// The tightest CFS quota applying to this process, read from the files under `root` (the real
// filesystem: "/"; tests build a fake tree): root/proc/self/cgroup, root/proc/self/mountinfo and
// the cgroup directories under root/<mount point>. nullopt: no quota, or none readable.
std::optional<CpuQuota> cgroup_cpu_quota(const std::string& root);

// CPUs in this process's affinity mask (sched_getaffinity); hardware_concurrency() if that
// fails; at least 1.
std::size_t affinity_cpus();

struct CpuBudget {
  std::size_t cpus = 1;  // >= 1
  std::string source;    // why, for the ready log line and /info
};

// MARATHON_APP_RESOURCE_CPUS ("0.5", "1.0"): nullopt unless a positive finite number.
std::optional<double> parse_allocated_cpus(const std::string& text);

// min(affinity, quota rounded up, Marathon's cpus rounded up), at least 1, with the reason: the
// deciding limit first, then the others.
CpuBudget cpu_budget(std::size_t affinity, const std::optional<CpuQuota>& quota,
                     std::optional<double> marathon_cpus = std::nullopt);
// The same for this process: its affinity mask and the real filesystem's cgroups.
CpuBudget cpu_budget(std::optional<double> marathon_cpus = std::nullopt);

}  // namespace kurz::platform
