#include "fuzz_support.h"

#include <algorithm>

#include "kurz/links/url.h"

namespace kurz::fuzz {

void check_reply(const platform::Reply& reply) {
  require(reply.status >= 200 && reply.status <= 599, "status in 200..599");
  require(header_safe(reply.content_type), "content type without CR, LF, NUL");
  for (const auto& [name, value] : reply.headers) {
    require(!name.empty() && header_safe(name) && header_safe(value), "header without CR, LF, NUL");
    if (name == "Location") {
      // A target's URI may be longer than a target (percent-encoding), never otherwise different.
      const auto head = value.substr(0, std::min(value.size(), links::kMaxUrlBytes));
      require(value.rfind("/api/links/", 0) == 0 ||
                  (value.size() <= links::kMaxUriBytes && !links::validate_url(head)),
              "Location is the API path or a valid http(s) URL");
      for (const unsigned char c : value) {
        require(c > 0x20 && c < 0x7F, "Location is a URI: printable ASCII only");
      }
    }
  }
}

}  // namespace kurz::fuzz
