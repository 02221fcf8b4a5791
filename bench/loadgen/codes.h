#pragma once
// The codes the load goes to, most popular first: seeded through the API, read from a file
// (`code [target-url]` per line), or synthetic (load0 .. load999, for a server that answers every
// path). A known target lets every redirect's Location be checked.
#include <optional>
#include <string>
#include <vector>

namespace kurz::load {

struct Link {
  std::string code;
  std::string target;  // empty: unknown, redirects to it are not checked
};

std::vector<Link> synthetic_codes(size_t count);
// Empty optional and a message on an unreadable file, a bad line or no codes at all.
std::optional<std::vector<Link>> read_codes(const std::string& path, std::string& error);
bool write_codes(const std::string& path, const std::vector<Link>& links, std::string& error);
// A code that is safe to put in a path: [A-Za-z0-9_-] only.
bool plain_code(const std::string& code);

}  // namespace kurz::load
