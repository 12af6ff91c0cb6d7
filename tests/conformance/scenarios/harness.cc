#include <charconv>
#include <string>

#include "conformance/scenarios/handlers.h"

namespace raftkit::conformance {

uint64_t ParseU64(std::string_view s) {
  uint64_t v = 0;
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, v, 10);
  if (s.empty() || ec != std::errc() || p != end) {
    throw HarnessError("not an unsigned decimal: \"" + std::string(s) + "\"");
  }
  return v;
}

bool ParseBool(std::string_view s) {
  if (s == "1" || s == "t" || s == "T" || s == "true" || s == "TRUE" || s == "True") return true;
  if (s == "0" || s == "f" || s == "F" || s == "false" || s == "FALSE" || s == "False") {
    return false;
  }
  throw HarnessError("not a boolean: \"" + std::string(s) + "\"");
}

}  // namespace raftkit::conformance
