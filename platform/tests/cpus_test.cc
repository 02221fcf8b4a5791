#include "kurz/platform/cpus.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace kurz::platform {
namespace {

namespace fs = std::filesystem;

// A fake filesystem root: /proc/self/{cgroup,mountinfo} and cgroup files, in a temp directory.
class FakeRoot {
 public:
  FakeRoot() {
    std::string pattern = (fs::temp_directory_path() / "kurz-cpus-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
  }
  ~FakeRoot() {
    std::error_code error;
    fs::remove_all(dir_, error);
  }
  FakeRoot(const FakeRoot&) = delete;
  FakeRoot& operator=(const FakeRoot&) = delete;

  void write(const std::string& path, const std::string& text) const {
    const auto full = dir_ / fs::path(path).relative_path();
    fs::create_directories(full.parent_path());
    std::ofstream(full, std::ios::binary) << text;
  }
  void mkdir(const std::string& path) const {
    fs::create_directories(dir_ / fs::path(path).relative_path());
  }
  std::string root() const { return dir_.string(); }
  std::optional<CpuQuota> quota() const { return cgroup_cpu_quota(root()); }

 private:
  fs::path dir_;
};

// The lines of a real mountinfo, shortened to what matters.
const std::string kV2Mount =
    "30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n";
const std::string kV1CpuMount =
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:9 - cgroup "
    "cgroup rw,cpu,cpuacct\n";
const std::string kOtherMounts =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "31 22 0:28 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755\n"
    "33 31 0:30 / /sys/fs/cgroup/cpuset rw,nosuid shared:10 - cgroup cgroup rw,cpuset\n"
    "34 31 0:31 / /sys/fs/cgroup/memory rw,nosuid shared:11 - cgroup cgroup rw,memory\n";

void v1_cpu(const FakeRoot& fake, const std::string& dir, const std::string& quota,
            const std::string& period = "100000\n") {
  fake.write("/sys/fs/cgroup/cpu,cpuacct" + dir + "/cpu.cfs_quota_us", quota);
  fake.write("/sys/fs/cgroup/cpu,cpuacct" + dir + "/cpu.cfs_period_us", period);
}

TEST(CpusTest, V2WithQuota) {
  FakeRoot fake;
  fake.write("/proc/self/mountinfo", kOtherMounts + kV2Mount);
  fake.write("/proc/self/cgroup", "0::/system.slice/kurz.service\n");
  fake.write("/sys/fs/cgroup/cpu.max", "max 100000\n");  // the root has none
  fake.write("/sys/fs/cgroup/system.slice/kurz.service/cpu.max", "25000 100000\n");
  const auto quota = fake.quota();
  ASSERT_TRUE(quota);
  EXPECT_EQ(quota->quota_us, 25000);
  EXPECT_EQ(quota->period_us, 100000);
  EXPECT_EQ(quota->cgroup_version, 2);
  EXPECT_FALSE(quota->inherited);
  const auto budget = cpu_budget(2, quota);
  EXPECT_EQ(budget.cpus, 1u);
  EXPECT_EQ(budget.source, "cgroup v2 quota 25000/100000 (0.25 CPU), affinity 2 CPUs");
}

TEST(CpusTest, V2MaxIsNoLimit) {
  FakeRoot fake;
  fake.write("/proc/self/mountinfo", kOtherMounts + kV2Mount);
  fake.write("/proc/self/cgroup", "0::/user.slice\n");
  fake.write("/sys/fs/cgroup/user.slice/cpu.max", "max 100000\n");
  EXPECT_FALSE(fake.quota());
  const auto budget = cpu_budget(2, fake.quota());
  EXPECT_EQ(budget.cpus, 2u);
  EXPECT_EQ(budget.source, "affinity 2 CPUs, no cgroup CPU quota");
}

TEST(CpusTest, V1WithQuota) {
  FakeRoot fake;
  fake.write("/proc/self/mountinfo", kOtherMounts + kV1CpuMount);
  fake.write("/proc/self/cgroup", "5:cpuset:/\n4:cpu,cpuacct:/kurz\n3:memory:/kurz\n");
  v1_cpu(fake, "", "-1\n");
  v1_cpu(fake, "/kurz", "150000\n");
  const auto quota = fake.quota();
  ASSERT_TRUE(quota);
  EXPECT_EQ(quota->cgroup_version, 1);
  EXPECT_EQ(quota->quota_us, 150000);
  EXPECT_EQ(cpu_budget(8, quota).cpus, 2u);  // 1.5 rounded up
  EXPECT_EQ(cpu_budget(8, quota).source,
            "cgroup v1 quota 150000/100000 (1.5 CPU), affinity 8 CPUs");
}

TEST(CpusTest, V1MinusOneIsNoLimit) {
  FakeRoot fake;
  fake.write("/proc/self/mountinfo", kOtherMounts + kV1CpuMount);
  fake.write("/proc/self/cgroup", "4:cpu,cpuacct:/kurz\n");
  v1_cpu(fake, "", "-1\n");
  v1_cpu(fake, "/kurz", "-1\n");
  EXPECT_FALSE(fake.quota());
}

// The controllers may be mounted separately ("cpu" alone) and listed in another order.
TEST(CpusTest, V1CpuAloneAndOtherOrder) {
  FakeRoot fake;
  fake.write("/proc/self/mountinfo",
             "40 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n"
             "41 31 0:30 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct\n");
  fake.write("/proc/self/cgroup", "2:cpuacct:/other\n1:cpu:/a\n");
  fake.write("/sys/fs/cgroup/cpu/a/cpu.cfs_quota_us", "50000");
  fake.write("/sys/fs/cgroup/cpu/a/cpu.cfs_period_us", "100000");
  fake.write("/sys/fs/cgroup/cpuacct/other/cpu.cfs_quota_us", "1000");  // not the cpu hierarchy
  fake.write("/sys/fs/cgroup/cpuacct/other/cpu.cfs_period_us", "100000");
  const auto quota = fake.quota();
  ASSERT_TRUE(quota);
  EXPECT_EQ(quota->quota_us, 50000);
}

// A limit on a parent (a Kubernetes pod cgroup) holds the children too.
TEST(CpusTest, NestedPathTakesTheTightestAncestor) {
  FakeRoot fake;
  fake.write("/proc/self/mountinfo", kOtherMounts + kV2Mount);
  fake.write("/proc/self/cgroup", "0::/kubepods.slice/pod-a.slice/cri-1.scope\n");
  fake.write("/sys/fs/cgroup/kubepods.slice/cpu.max", "400000 100000\n");
  fake.write("/sys/fs/cgroup/kubepods.slice/pod-a.slice/cpu.max", "50000 100000\n");
  fake.write("/sys/fs/cgroup/kubepods.slice/pod-a.slice/cri-1.scope/cpu.max", "max 100000\n");
  auto quota = fake.quota();
  ASSERT_TRUE(quota);
  EXPECT_EQ(quota->quota_us, 50000);
  EXPECT_TRUE(quota->inherited);
  EXPECT_EQ(cpu_budget(4, quota).source,
            "cgroup v2 quota 50000/100000 (0.5 CPU, on a parent cgroup), affinity 4 CPUs");

  // The process's own cgroup tighter than the pod's: its own wins.
  fake.write("/sys/fs/cgroup/kubepods.slice/pod-a.slice/cri-1.scope/cpu.max", "20000 100000\n");
  quota = fake.quota();
  ASSERT_TRUE(quota);
  EXPECT_EQ(quota->quota_us, 20000);
  EXPECT_FALSE(quota->inherited);

  // Different periods compare by the fraction, not the raw quota.
  fake.write("/sys/fs/cgroup/kubepods.slice/pod-a.slice/cri-1.scope/cpu.max", "30000 50000\n");
  quota = fake.quota();
  ASSERT_TRUE(quota);
  EXPECT_EQ(quota->quota_us, 50000);  // 0.5 beats 0.6
}

// Docker with a cgroup namespace (cgroup v2's default): the path is "/", the mount shows the
// container's own cgroup at the mount point.
TEST(CpusTest, ContainerStyleRootPath) {
  FakeRoot fake;
  fake.write("/proc/self/mountinfo",
             "700 690 0:26 / /sys/fs/cgroup ro,nosuid - cgroup2 cgroup rw,nsdelegate\n");
  fake.write("/proc/self/cgroup", "0::/\n");
  fake.write("/sys/fs/cgroup/cpu.max", "25000 100000\n");
  const auto quota = fake.quota();
  ASSERT_TRUE(quota);
  EXPECT_EQ(quota->quota_us, 25000);
  EXPECT_EQ(cpu_budget(2, quota).cpus, 1u);
}

// Docker on cgroup v1 without a cgroup namespace: /proc/self/cgroup shows the host's path, and the
// mount's root is that same cgroup, mounted at the mount point.
TEST(CpusTest, ContainerMountRootIsTheContainersCgroup) {
  FakeRoot fake;
  fake.write("/proc/self/mountinfo",
             "801 800 0:29 /docker/0123abcd /sys/fs/cgroup/cpu,cpuacct ro,nosuid - cgroup cgroup "
             "rw,cpu,cpuacct\n");
  fake.write("/proc/self/cgroup", "4:cpu,cpuacct:/docker/0123abcd\n");
  v1_cpu(fake, "", "25000\n");
  auto quota = fake.quota();
  ASSERT_TRUE(quota);
  EXPECT_EQ(quota->quota_us, 25000);
  EXPECT_FALSE(quota->inherited);

  // A sub-cgroup of the container's.
  fake.write("/proc/self/cgroup", "4:cpu,cpuacct:/docker/0123abcd/worker\n");
  v1_cpu(fake, "/worker", "200000\n");
  quota = fake.quota();
  ASSERT_TRUE(quota);
  EXPECT_EQ(quota->quota_us, 25000);  // the container's, above it
  EXPECT_TRUE(quota->inherited);
}

// A path the mount cannot show (moved out of the namespace: "/../x", or a different prefix):
// the mount point itself.
TEST(CpusTest, UnreachablePathFallsBackToTheMountPoint) {
  FakeRoot fake;
  fake.write("/proc/self/mountinfo",
             "801 800 0:26 /docker/abc /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n");
  fake.write("/proc/self/cgroup", "0::/../elsewhere\n");
  fake.write("/sys/fs/cgroup/cpu.max", "75000 100000\n");
  auto quota = fake.quota();
  ASSERT_TRUE(quota);
  EXPECT_EQ(quota->quota_us, 75000);

  fake.write("/proc/self/cgroup", "0::/not/under/the/mount\n");
  quota = fake.quota();
  ASSERT_TRUE(quota);
  EXPECT_EQ(quota->quota_us, 75000);
}

// This machine's shape: cgroup v1 for the controllers plus an empty unified hierarchy.
TEST(CpusTest, HybridHostReadsTheV1Controller) {
  FakeRoot fake;
  fake.write(
      "/proc/self/mountinfo",
      kOtherMounts + kV1CpuMount + "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n");
  fake.write("/proc/self/cgroup", "4:cpu,cpuacct:/kurz-test\n0::/\n");
  fake.mkdir("/sys/fs/cgroup/unified");
  v1_cpu(fake, "/kurz-test", "25000\n");
  const auto quota = fake.quota();
  ASSERT_TRUE(quota);
  EXPECT_EQ(quota->cgroup_version, 1);
  EXPECT_EQ(quota->quota_us, 25000);
}

TEST(CpusTest, EscapedMountPoint) {
  FakeRoot fake;
  fake.write("/proc/self/mountinfo", "30 24 0:26 / /mnt/my\\040cgroups rw - cgroup2 none rw\n");
  fake.write("/proc/self/cgroup", "0::/a\n");
  fake.write("/mnt/my cgroups/a/cpu.max", "100000 100000\n");
  const auto quota = fake.quota();
  ASSERT_TRUE(quota);
  EXPECT_EQ(quota->whole_cpus(), 1u);
}

TEST(CpusTest, AffinitySmallerThanQuota) {
  const CpuQuota quota{300000, 100000, 2, false};
  const auto budget = cpu_budget(1, quota);
  EXPECT_EQ(budget.cpus, 1u);
  EXPECT_EQ(budget.source, "affinity 1 CPU, cgroup v2 quota 300000/100000 (3 CPU)");
}

TEST(CpusTest, CappedAtAffinity) {
  const CpuQuota quota{800000, 100000, 1, false};
  EXPECT_EQ(cpu_budget(2, quota).cpus, 2u);
  EXPECT_EQ(cpu_budget(16, quota).cpus, 8u);
  EXPECT_EQ(cpu_budget(0, std::nullopt).cpus, 1u);  // at least one
}

TEST(CpusTest, RoundsUp) {
  EXPECT_EQ((CpuQuota{25000, 100000, 1, false}.whole_cpus()), 1u);
  EXPECT_EQ((CpuQuota{1, 1000000, 2, false}.whole_cpus()), 1u);
  EXPECT_EQ((CpuQuota{100000, 100000, 2, false}.whole_cpus()), 1u);
  EXPECT_EQ((CpuQuota{100001, 100000, 2, false}.whole_cpus()), 2u);
  EXPECT_EQ((CpuQuota{150000, 100000, 1, false}.whole_cpus()), 2u);
  EXPECT_EQ((CpuQuota{200000, 100000, 1, false}.whole_cpus()), 2u);
  EXPECT_EQ((CpuQuota{33333, 100000, 1, false}.cpus()), 0.33333);
}

// Mesos without --cgroups_enable_cfs: shares only, no quota; Marathon's cpus say the allocation.
TEST(CpusTest, MarathonCpus) {
  auto budget = cpu_budget(2, std::nullopt, 0.5);
  EXPECT_EQ(budget.cpus, 1u);
  EXPECT_EQ(budget.source, "Marathon cpus 0.5, affinity 2 CPUs, no cgroup CPU quota");
  budget = cpu_budget(2, std::nullopt, 1.0);
  EXPECT_EQ(budget.cpus, 1u);
  budget = cpu_budget(8, std::nullopt, 1.5);
  EXPECT_EQ(budget.cpus, 2u);
  budget = cpu_budget(2, std::nullopt, 4.0);
  EXPECT_EQ(budget.cpus, 2u);
  EXPECT_EQ(budget.source, "affinity 2 CPUs, Marathon cpus 4, no cgroup CPU quota");
  // With --cgroups_enable_cfs the quota says the same; it is named first.
  budget = cpu_budget(2, CpuQuota{50000, 100000, 1, false}, 0.5);
  EXPECT_EQ(budget.cpus, 1u);
  EXPECT_EQ(budget.source,
            "cgroup v1 quota 50000/100000 (0.5 CPU), Marathon cpus 0.5, affinity 2 CPUs");

  EXPECT_EQ(parse_allocated_cpus("0.5"), 0.5);
  EXPECT_EQ(parse_allocated_cpus("2"), 2.0);
  EXPECT_EQ(parse_allocated_cpus(" 1.0\n"), 1.0);
  for (const char* bad : {"", "0", "-1", "abc", "nan", "inf", "1e300", "0.5cpu", "0,5"}) {
    EXPECT_FALSE(parse_allocated_cpus(bad)) << bad;
  }
}

// Unreadable, missing or malformed files: no quota (so the affinity decides), never a crash.
TEST(CpusTest, GarbageFallsBackToAffinity) {
  {
    FakeRoot empty;  // nothing at all
    EXPECT_FALSE(empty.quota());
  }
  EXPECT_FALSE(cgroup_cpu_quota("/nonexistent/kurz/root"));
  const std::string bad_values[] = {"lots\n",
                                    "",
                                    "25000",
                                    "25000 0\n",
                                    "0 100000\n",
                                    "-5 100000\n",
                                    "25000 100000 7\n",
                                    "25000 -1\n",
                                    "99999999999999999999999 100000\n",
                                    std::string("\0\1\2", 3)};
  for (const auto& bad : bad_values) {
    FakeRoot fake;
    fake.write("/proc/self/mountinfo", kV2Mount);
    fake.write("/proc/self/cgroup", "0::/a\n");
    fake.write("/sys/fs/cgroup/a/cpu.max", bad);
    EXPECT_FALSE(fake.quota()) << bad;
  }
  const std::string bad_v1[][2] = {{"abc", "100000"}, {"25000", "abc"}, {"25000", "0"},
                                   {"25000", ""},     {"-2", "100000"}, {"2.5e4", "100000"}};
  for (const auto& [quota, period] : bad_v1) {
    FakeRoot fake;
    fake.write("/proc/self/mountinfo", kV1CpuMount);
    fake.write("/proc/self/cgroup", "4:cpu,cpuacct:/\n");
    v1_cpu(fake, "", quota, period);
    EXPECT_FALSE(fake.quota()) << quota << " " << period;
  }
  const std::string bad_mountinfo[] = {
      "",
      "garbage\n",
      "1 2 3\n",
      "- - - - - - - - - -\n",
      "30 24 0:26 relative /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
      "30 24 0:26 / /sys/fs/cgroup rw cgroup2 cgroup2 rw\n",  // no separator
      "30 24 0:26 / /sys/fs/cgroup rw -\n",
      "\\\\\\ \\0 \\777 \\\n"};
  for (const auto& mountinfo : bad_mountinfo) {
    FakeRoot fake;
    fake.write("/proc/self/mountinfo", mountinfo);
    fake.write("/proc/self/cgroup", "0::/\n");
    fake.write("/sys/fs/cgroup/cpu.max", "25000 100000\n");
    EXPECT_FALSE(fake.quota()) << mountinfo;
  }
  const std::string bad_cgroup[] = {"", "0::\n", "0::relative\n", "nonsense\n", "::::\n"};
  for (const auto& cgroup : bad_cgroup) {
    FakeRoot fake;
    fake.write("/proc/self/mountinfo", kV2Mount);
    fake.write("/proc/self/cgroup", cgroup);
    fake.write("/sys/fs/cgroup/cpu.max", "25000 100000\n");
    EXPECT_FALSE(fake.quota()) << cgroup;
  }
  EXPECT_EQ(cpu_budget(2, std::nullopt).cpus, 2u);
}

// The real process: at least one, never more than the affinity mask allows.
TEST(CpusTest, ThisProcess) {
  const auto budget = cpu_budget();
  EXPECT_GE(budget.cpus, 1u);
  EXPECT_LE(budget.cpus, affinity_cpus());
  EXPECT_FALSE(budget.source.empty());
}

}  // namespace
}  // namespace kurz::platform
