// Snapshot files: a Raft snapshot's metadata and the application's state, durable and verifiable.
//
// Format and crash semantics: docs/formats/snapshot.md. In short, one file per snapshot named
// `<term:016x>-<index:016x>.snap`: a fixed header (magic, version, metadata length, data length,
// masked CRC32C of the header), the SnapshotMetadata (etcd's raftpb encoding), the data, and a
// trailer with the masked CRC32C of metadata + data. A snapshot is written to `<name>.tmp`,
// fdatasync'ed, renamed into place, and the directory is fsynced: a crash leaves either no file
// or a complete one (a leftover `.tmp` is removed on the next start).
//
// Large state never has to be in memory: SaveStream() reads the data from a source in chunks and
// OpenReader() hands it back in chunks, verifying the CRC when the last chunk has been read.
//
// Thread-safety: one Snapshotter per directory; its methods may be called from one thread at a
// time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "raftkit/raftpb/types.h"
#include "raftkit/storage/fs/env.h"
#include "raftkit/util/ids.h"
#include "raftkit/util/status.h"

namespace raftkit::storage::snap {

/// Produces the state bytes of a snapshot being saved.
class DataSource {
 public:
  virtual ~DataSource() = default;
  /// Appends up to `max` next bytes to `*out` (cleared first); an empty result means the end.
  virtual Status Next(size_t max, std::string* out) = 0;
};

/// The decoded fixed parts of a snapshot file.
struct FileHeader {
  raftpb::SnapshotMetadata metadata;
  uint64_t data_size = 0;
};

/// Streams the state bytes of a snapshot file back, verifying them.
class SnapshotReader {
 public:
  virtual ~SnapshotReader() = default;
  [[nodiscard]] virtual const FileHeader& header() const = 0;
  /// The next chunk of data (at most the chunk size) in `*out`; empty at the end. When the end is
  /// reached the CRC is checked: kCorruption (naming the file) if it does not match, in which
  /// case every byte handed out so far must be discarded by the caller.
  virtual Status Next(std::string* out) = 0;
};

struct Options {
  Env* env = PosixEnv();
  std::string dir;               ///< created if missing
  size_t chunk_size = 1u << 20;  ///< unit of streaming I/O
};

/// A snapshot file found in the directory.
struct FileInfo {
  std::string name;
  Term term;
  Index index;
  uint64_t size = 0;
};

class Snapshotter {
 public:
  explicit Snapshotter(Options options);

  /// The canonical file name of a snapshot: `<term:016x>-<index:016x>.snap`.
  static std::string FileName(Term term, Index index);
  /// The term and index a canonical file name encodes; nullopt for any other name.
  static std::optional<std::pair<Term, Index>> ParseFileName(std::string_view name);

  /// Saves `snap` (metadata and in-memory data) durably. Overwrites a file of the same name.
  /// kInvalidArgument for an empty snapshot (index 0) or encoded metadata over 64 MiB.
  /// `snap.unknown_fields` is not stored.
  Status Save(const raftpb::Snapshot& snap);
  /// Saves a snapshot whose `data_size` bytes of state come from `source`, chunk by chunk.
  /// kInvalidArgument if the source yields a different number of bytes (nothing is left behind);
  /// an error from the source is returned as is.
  Status SaveStream(const raftpb::SnapshotMetadata& metadata, uint64_t data_size,
                    DataSource* source);

  /// Valid-looking snapshot files (by name), newest (highest term, then index) first. Removes
  /// leftover `.tmp` files (`<canonical name>.tmp`, the only temporaries Save writes) and syncs
  /// the directory if it removed any.
  Result<std::vector<FileInfo>> List();

  /// Opens one snapshot file for streaming. kInvalidArgument if `name` is not a canonical file
  /// name; kCorruption if its header is damaged, its size does not match the header, or its
  /// metadata does not decode or does not match the name.
  Result<std::unique_ptr<SnapshotReader>> OpenReader(const std::string& name);
  /// Reads and verifies a whole snapshot file into memory.
  Result<raftpb::Snapshot> Load(const std::string& name);

  /// The newest snapshot that verifies completely and satisfies `accept(metadata)` (if given),
  /// loaded into memory. Files that fail verification are renamed to `<name>.broken` and listed
  /// in `*broken` (if non-null); they never crash the caller. kNotFound if none is left.
  Result<raftpb::Snapshot> LoadNewest(
      const std::function<bool(const raftpb::SnapshotMetadata&)>& accept = nullptr,
      std::vector<std::string>* broken = nullptr);
  /// Like LoadNewest but only verifies (streaming) and returns the file's header and name, so the
  /// caller can stream the data with OpenReader() instead of holding it in memory.
  Result<FileInfo> FindNewest(
      const std::function<bool(const raftpb::SnapshotMetadata&)>& accept = nullptr,
      std::vector<std::string>* broken = nullptr);

  /// Removes all but the newest `keep` snapshot files (and any `.broken` beyond `keep`).
  Status Purge(size_t keep);

  [[nodiscard]] const std::string& dir() const { return options_.dir; }

 private:
  using Accept = std::function<bool(const raftpb::SnapshotMetadata&)>;
  Status EnsureDir();
  [[nodiscard]] std::string PathOf(std::string_view name) const;
  Status WriteTemp(const std::string& tmp, std::string_view meta, uint64_t data_size,
                   DataSource* source);
  /// LoadNewest and FindNewest; loads the data into `*load` if non-null, else only verifies.
  Result<FileInfo> Newest(const Accept& accept, std::vector<std::string>* broken,
                          raftpb::Snapshot* load);

  Options options_;
};

/// Decodes and verifies a complete snapshot file image held in memory (the decoder the fuzz
/// target exercises). kCorruption with a description for any malformed input.
Result<raftpb::Snapshot> DecodeSnapshotFile(std::string_view bytes);

}  // namespace raftkit::storage::snap
