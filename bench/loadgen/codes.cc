#include "codes.h"

#include <fstream>
#include <sstream>

namespace kurz::load {

std::vector<Link> synthetic_codes(size_t count) {
  std::vector<Link> links;
  links.reserve(count);
  for (size_t i = 0; i < count; ++i) links.push_back({"load" + std::to_string(i), ""});
  return links;
}

bool plain_code(const std::string& code) {
  if (code.empty() || code.size() > 200) return false;
  for (const char c : code) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::optional<std::vector<Link>> read_codes(const std::string& path, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "--codes: cannot read " + path;
    return std::nullopt;
  }
  std::vector<Link> links;
  std::string line;
  size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::istringstream fields(line);
    Link link;
    if (!(fields >> link.code) || link.code[0] == '#') continue;
    fields >> link.target;
    std::string extra;
    if (!plain_code(link.code) || (fields >> extra)) {
      error = "--codes: " + path + " line " + std::to_string(number) +
              ": expected `code [target-url]` with a code of letters, digits, - and _";
      return std::nullopt;
    }
    links.push_back(std::move(link));
  }
  if (links.empty()) {
    error = "--codes: no codes in " + path;
    return std::nullopt;
  }
  return links;
}

bool write_codes(const std::string& path, const std::vector<Link>& links, std::string& error) {
  std::ofstream out(path, std::ios::trunc);
  for (const auto& link : links) {
    out << link.code;
    if (!link.target.empty()) out << '\t' << link.target;
    out << '\n';
  }
  out.flush();
  if (!out) {
    error = "cannot write " + path;
    return false;
  }
  return true;
}

}  // namespace kurz::load
