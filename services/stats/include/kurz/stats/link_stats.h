#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kurz::stats {

// Clicks on one UTC day, "YYYY-MM-DD".
struct DayCount {
  std::string date;
  std::uint64_t clicks = 0;
  friend bool operator==(const DayCount& a, const DayCount& b) {
    return a.date == b.date && a.clicks == b.clicks;
  }
};

// Clicks from one referrer host or user agent.
struct NamedCount {
  std::string name;
  std::uint64_t clicks = 0;
  friend bool operator==(const NamedCount& a, const NamedCount& b) {
    return a.name == b.name && a.clicks == b.clicks;
  }
};

// What is known about the clicks on one link.
struct LinkStats {
  std::string code;
  std::uint64_t total = 0;              // every click ever counted
  std::vector<DayCount> days;           // ascending by date; only days with clicks, recent ones
  std::vector<NamedCount> referrers;    // most clicks first, ties by name; top N
  std::vector<NamedCount> user_agents;  // most clicks first, ties by name; top N
};

struct TopLink {
  std::string code;
  std::uint64_t clicks = 0;
  friend bool operator==(const TopLink& a, const TopLink& b) {
    return a.code == b.code && a.clicks == b.clicks;
  }
};

// The ranking every store uses: most clicks first, ties by name ascending; at most `top_n`.
std::vector<NamedCount> top_names(std::vector<NamedCount> all, std::size_t top_n);

}  // namespace kurz::stats
