// The identity and version rules every rafthttp request is checked against (etcd 3.4's "cluster
// compatibility check", spec §3.3-3.4 and §10), as pure functions so they can be tested alone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace raftkit::rafthttp {

/// What raftkit announces: versions etcd 3.4 accepts from a peer (spec §10.3).
inline constexpr std::string_view kServerVersion = "3.4.23";
inline constexpr std::string_view kMinClusterVersion = "3.0.0";

/// A member or cluster id as etcd prints it: lower-case hex, no "0x", no leading zeros ("0" for 0).
std::string FormatId(uint64_t id);
/// Parses an id as etcd does: hex digits of either case, leading zeros allowed, no "0x", 1..16
/// digits. nullopt otherwise.
std::optional<uint64_t> ParseId(std::string_view s);

/// A strict semantic version MAJOR.MINOR.PATCH[-pre][+build] (only the numbers are kept).
struct Semver {
  uint64_t major = 0;
  uint64_t minor = 0;
  uint64_t patch = 0;
  friend bool operator==(const Semver&, const Semver&) = default;
};
/// nullopt for anything that is not a strict semver ("3.4", "v3.4.0", "03.4.0", "3.4.0-").
std::optional<Semver> ParseSemver(std::string_view s);

/// The outcome of the compatibility check of a request's headers.
enum class Compat {
  kOk,
  /// X-Server-Version or X-Min-Cluster-Version is present but not a semver. etcd's handler panics
  /// and the connection is dropped without a response; raftkit's handlers do the same (close the
  /// connection, log a line), so a sender sees exactly what etcd would show it.
  kMalformedVersion,
  kIncompatibleVersion,  ///< 412 "incompatible version"
  kClusterIdMismatch,    ///< 412 "cluster ID mismatch"
};

/// The check of spec §3.3, in its order: versions first (an absent header counts as "2.0.0"), then
/// the cluster id header compared as a string with FormatId(local_cluster_id).
Compat CheckCompatibility(std::optional<std::string_view> server_version,
                          std::optional<std::string_view> min_cluster_version,
                          std::optional<std::string_view> cluster_id, uint64_t local_cluster_id);

/// The response body etcd writes for a rejection ("incompatible version", "cluster ID mismatch"),
/// without the trailing newline; empty for kOk.
std::string_view CompatErrorText(Compat c);

enum class StreamType { kMessage, kMsgAppV2 };
/// The path segment of a stream type: "message" or "msgapp" (never "msgappv2", spec §1).
std::string_view StreamPathName(StreamType t);

/// Whether a peer that answered a stream GET with `server_version` (the response's
/// X-Server-Version; nullopt when absent) can carry a stream of type `t`, by the support table
/// Go's stream reader uses (spec §4.2): 2.0 supports none, 2.1 to 3.4 both; a version with a
/// MAJOR.MINOR at or above raftkit's own (3.4) is trusted. A malformed version is unsupported.
bool StreamSupported(std::optional<std::string_view> server_version, StreamType t);

}  // namespace raftkit::rafthttp
