// The replicated key-value state of raftkit-kv: a sorted map changed only by committed commands.
//
// Keys and values are arbitrary bytes, so commands, results and snapshots use a small binary
// format (4-byte big-endian lengths):
//   command  'P' key value            put                   result 'Y' prev?
//            'C' key value expect     compare-and-set       result 'Y' prev?  or  'N' current?
//            'D' key                  delete                result 'Y' prev?
//   prev?/current?: '0' (no such key) or '1' value
//   snapshot: (key value)*
// With Format::kRaftexample the commands and snapshots are etcd raftexample's instead (a gob
// kv{Key, Val} per put, a JSON object as snapshot; raftexample_codec.h): puts only.
#pragma once

#include <cstddef>
#include <istream>
#include <map>
#include <optional>
#include <ostream>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "raftkit/server/server.h"

namespace raftkit::kv {

/// The outcome of a command as its proposer sees it.
struct CommandResult {
  bool ok = true;                    ///< false: a compare-and-set found another value
  std::optional<std::string> value;  ///< the previous value (ok) or the current one (not ok)
};

class KvStore final : public server::StateMachine {
 public:
  enum class Format { kNative, kRaftexample };
  explicit KvStore(Format format = Format::kNative) : format_(format) {}

  Result<std::string> Apply(Index index, std::string_view data) override;
  Status WriteSnapshot(std::ostream& out) override;
  Status RestoreSnapshot(std::istream& in) override;
  /// The same, in memory.
  Result<std::string> Snapshot();
  Status Restore(std::string_view snapshot);

  /// Reads of the local state (linearizable when preceded by Server::LinearizableRead).
  [[nodiscard]] std::optional<std::string> Get(const std::string& key) const;
  [[nodiscard]] std::vector<std::pair<std::string, std::string>> List(const std::string& prefix,
                                                                      size_t limit) const;
  [[nodiscard]] size_t size() const;

  /// The command for a put (a compare-and-set with `expect`) or a delete, in this store's format.
  /// kInvalidArgument for what raftexample's format cannot express (compare-and-set, delete).
  [[nodiscard]] Result<std::string> PutCommand(std::string_view key, std::string_view value,
                                               const std::optional<std::string>& expect) const;
  [[nodiscard]] Result<std::string> DeleteCommand(std::string_view key) const;
  /// What Apply returned for a command (either format).
  static Result<CommandResult> ParseResult(std::string_view result);
  [[nodiscard]] Format format() const { return format_; }

 private:
  const Format format_;
  mutable std::shared_mutex mu_;
  std::map<std::string, std::string> kv_;
};

}  // namespace raftkit::kv
