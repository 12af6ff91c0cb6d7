#include "transport/rafthttp/compat.h"

#include <charconv>

#include <fmt/format.h>

namespace raftkit::rafthttp {

std::string FormatId(uint64_t id) {
  return fmt::format("{:x}", id);
}

std::optional<uint64_t> ParseId(std::string_view s) {
  if (s.empty() || s.size() > 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  return v;
}

namespace {

// A numeric identifier of semver: digits, no leading zero unless it is "0".
std::optional<uint64_t> ParseNumber(std::string_view s) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// Dot-separated identifiers of [0-9A-Za-z-], none empty; numeric ones without leading zeros when
// `strict_numbers` (pre-release), any for build metadata.
bool ValidIdentifiers(std::string_view s, bool strict_numbers) {
  if (s.empty()) return false;
  size_t start = 0;
  while (true) {
    const size_t dot = s.find('.', start);
    const std::string_view id =
        s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (id.empty()) return false;
    bool all_digits = true;
    for (char c : id) {
      const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      if (!alnum && c != '-') return false;
      if (c < '0' || c > '9') all_digits = false;
    }
    if (strict_numbers && all_digits && id.size() > 1 && id[0] == '0') return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

}  // namespace

std::optional<Semver> ParseSemver(std::string_view s) {
  std::string_view core = s;
  std::string_view pre, build;
  if (const size_t plus = core.find('+'); plus != std::string_view::npos) {
    build = core.substr(plus + 1);
    core = core.substr(0, plus);
    if (!ValidIdentifiers(build, false)) return std::nullopt;
  }
  if (const size_t dash = core.find('-'); dash != std::string_view::npos) {
    pre = core.substr(dash + 1);
    core = core.substr(0, dash);
    if (!ValidIdentifiers(pre, true)) return std::nullopt;
  }
  const size_t d1 = core.find('.');
  if (d1 == std::string_view::npos) return std::nullopt;
  const size_t d2 = core.find('.', d1 + 1);
  if (d2 == std::string_view::npos) return std::nullopt;
  auto major = ParseNumber(core.substr(0, d1));
  auto minor = ParseNumber(core.substr(d1 + 1, d2 - d1 - 1));
  auto patch = ParseNumber(core.substr(d2 + 1));
  if (!major || !minor || !patch) return std::nullopt;
  return Semver{*major, *minor, *patch};
}

namespace {

constexpr Semver kLocal{3, 4, 0};     // raftkit speaks etcd 3.4's protocol
constexpr Semver kLocalMin{3, 0, 0};  // and accepts peers from 3.0 on
const Semver kAbsent{2, 0, 0};        // what Go assumes for a missing header

bool MinorLess(const Semver& a, const Semver& b) {
  return a.major != b.major ? a.major < b.major : a.minor < b.minor;
}

}  // namespace

Compat CheckCompatibility(std::optional<std::string_view> server_version,
                          std::optional<std::string_view> min_cluster_version,
                          std::optional<std::string_view> cluster_id, uint64_t local_cluster_id) {
  Semver server = kAbsent;
  Semver minc = kAbsent;
  if (server_version) {
    auto v = ParseSemver(*server_version);
    if (!v) return Compat::kMalformedVersion;
    server = *v;
  }
  if (min_cluster_version) {
    auto v = ParseSemver(*min_cluster_version);
    if (!v) return Compat::kMalformedVersion;
    minc = *v;
  }
  if (MinorLess(server, kLocalMin) || MinorLess(kLocal, minc)) return Compat::kIncompatibleVersion;
  if (!cluster_id || *cluster_id != FormatId(local_cluster_id)) return Compat::kClusterIdMismatch;
  return Compat::kOk;
}

std::string_view CompatErrorText(Compat c) {
  switch (c) {
    case Compat::kOk:
      return "";
    case Compat::kMalformedVersion:
      return "malformed version header";
    case Compat::kIncompatibleVersion:
      return "incompatible version";
    case Compat::kClusterIdMismatch:
      return "cluster ID mismatch";
  }
  return "";
}

std::string_view StreamPathName(StreamType t) {
  return t == StreamType::kMessage ? "message" : "msgapp";
}

bool StreamSupported(std::optional<std::string_view> server_version, StreamType /*t*/) {
  Semver v = kAbsent;
  if (server_version) {
    auto parsed = ParseSemver(*server_version);
    if (!parsed) return false;
    v = *parsed;
  }
  // At or above our own MAJOR.MINOR: trusted. Below it, Go's table lists 2.0 (no stream) and
  // 2.1, 2.2, 2.3, 3.0 ... 3.3 (both types); a MAJOR.MINOR missing from the table (1.x, 2.4+) is
  // unsupported.
  if (!MinorLess(v, kLocal)) return true;
  if (v.major == 2) return v.minor >= 1 && v.minor <= 3;
  if (v.major == 3) return true;  // 3.0 ... 3.3
  return false;
}

}  // namespace raftkit::rafthttp
