// etcd's contrib/raftexample on the wire, for `raftkit-kv --compat raftexample`:
//   - a proposal is Go's encoding/gob of raftexample's `kv{Key, Val string}`, written by a fresh
//     gob.Encoder each time, so every entry starts with the type's definition;
//   - a snapshot is Go's encoding/json of the map[string]string.
// The gob format is Go's documented encoding (https://pkg.go.dev/encoding/gob); only what this one
// struct needs is implemented, and tests check it against Go's own encoder and decoder.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "raftkit/util/status.h"

namespace raftkit::kv {

/// The bytes Go's gob.NewEncoder(&buf).Encode(kv{key, val}) writes.
std::string EncodeRaftexampleKv(std::string_view key, std::string_view val);

/// Key and value of a gob stream holding one raftexample kv value (with its type definition
/// first, as raftexample writes it). kCorruption for anything else.
Result<std::pair<std::string, std::string>> DecodeRaftexampleKv(std::string_view data);

/// raftexample's snapshot: a JSON object of string values (keys sorted, as Go writes it).
std::string EncodeRaftexampleSnapshot(const std::map<std::string, std::string>& kv);
Result<std::map<std::string, std::string>> DecodeRaftexampleSnapshot(std::string_view data);

}  // namespace raftkit::kv
