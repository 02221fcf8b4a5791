#include "process_collector.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace kurz::platform {
namespace {

prometheus::MetricFamily gauge(std::string name, std::string help, double value,
                               prometheus::MetricType type = prometheus::MetricType::Gauge) {
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  return prometheus::MetricFamily{std::move(name), std::move(help), type, {metric}};
}

double boot_time_seconds() {
  std::ifstream stat("/proc/stat");
  std::string key;
  while (stat >> key) {
    if (key == "btime") {
      double value = 0;
      stat >> value;
      return value;
    }
    stat.ignore(1 << 16, '\n');
  }
  return 0;
}

double count_open_fds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  double count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - 1;  // the descriptor opendir itself holds
}

}  // namespace

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  std::vector<prometheus::MetricFamily> families;
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces), starting at field 3 ("state").
  const auto close_paren = stat.rfind(')');
  if (close_paren != std::string::npos) {
    std::istringstream fields(stat.substr(close_paren + 2));
    std::string field;
    double values[24] = {};
    for (int i = 0; i < 24 && fields >> field; ++i) {
      values[i] = i == 0 ? 0 : std::strtod(field.c_str(), nullptr);
    }
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    // Indices are field numbers minus 3: utime 14, stime 15, num_threads 20, starttime 22,
    // vsize 23, rss 24.
    families.push_back(gauge("process_cpu_seconds_total", "Total user and system CPU time.",
                             (values[11] + values[12]) / ticks, prometheus::MetricType::Counter));
    families.push_back(gauge("process_threads", "Number of OS threads.", values[17]));
    families.push_back(gauge("process_start_time_seconds",
                             "Start time of the process since the Unix epoch, in seconds.",
                             boot_time_seconds() + values[19] / ticks));
    families.push_back(
        gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", values[20]));
    families.push_back(gauge("process_resident_memory_bytes", "Resident memory size in bytes.",
                             values[21] * page));
  }
  families.push_back(
      gauge("process_open_fds", "Number of open file descriptors.", count_open_fds()));
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    families.push_back(gauge("process_max_fds", "Maximum number of open file descriptors.",
                             static_cast<double>(limit.rlim_cur)));
  }
  return families;
}

}  // namespace kurz::platform
