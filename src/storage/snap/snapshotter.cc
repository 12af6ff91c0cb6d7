// Snapshot files. The layout is in format.h and docs/formats/snapshot.md; this file is the write
// protocol, the streaming reader and the recovery rules.
#include "raftkit/storage/snap/snapshotter.h"

#include <algorithm>
#include <limits>
#include <string>
#include <tuple>
#include <utility>

#include <fmt/format.h>

#include "raftkit/raftpb/codec.h"
#include "raftkit/util/crc32c.h"
#include "raftkit/util/panic.h"
#include "storage/snap/format.h"

namespace raftkit::storage::snap {

namespace {

Status Corruption(std::string_view path, std::string_view what) {
  return Status(ErrorCode::kCorruption, fmt::format("snapshot {}: {}", path, what));
}

// Reads exactly `n` bytes into `*out`, at most `chunk` per call, so that even the metadata (up to
// 64 MiB) is never requested from the file in one piece. The file's size was checked against the
// header when it was opened, so running out of bytes means the file changed under us: corruption.
Status ReadExactly(SequentialFile* file, std::string_view path, uint64_t n, size_t chunk,
                   std::string* out) {
  out->clear();
  std::string scratch;
  while (out->size() < n) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(chunk, n - out->size()));
    RAFTKIT_RETURN_IF_ERROR(file->Read(want, &scratch));
    if (scratch.empty()) {
      return Corruption(
          path, fmt::format("unexpected end of file ({} of {} bytes read)", out->size(), n));
    }
    out->append(scratch);
  }
  return Status::Ok();
}

// Groups appends into writes of exactly `chunk` bytes (the last one shorter), whatever the sizes
// of the pieces handed to it, so the file sees bounded, uniform writes.
class ChunkWriter {
 public:
  ChunkWriter(WritableFile* file, size_t chunk) : file_(file), chunk_(chunk) {
    buf_.reserve(chunk);
  }

  Status Append(std::string_view data) {
    while (!data.empty()) {
      if (buf_.empty() && data.size() >= chunk_) {
        // A whole chunk is at hand: write it without copying.
        RAFTKIT_RETURN_IF_ERROR(file_->Append(data.substr(0, chunk_)));
        data.remove_prefix(chunk_);
        continue;
      }
      const size_t take = std::min(chunk_ - buf_.size(), data.size());
      buf_.append(data.substr(0, take));
      data.remove_prefix(take);
      if (buf_.size() == chunk_) RAFTKIT_RETURN_IF_ERROR(Flush());
    }
    return Status::Ok();
  }

  Status Flush() {
    if (buf_.empty()) return Status::Ok();
    Status st = file_->Append(buf_);
    buf_.clear();
    return st;
  }

 private:
  WritableFile* file_;
  size_t chunk_;
  std::string buf_;
};

// Hands out an in-memory buffer, for Save().
class StringSource final : public DataSource {
 public:
  explicit StringSource(std::string_view data) : rest_(data) {}
  Status Next(size_t max, std::string* out) override {
    const size_t n = std::min(max, rest_.size());
    out->assign(rest_.substr(0, n));
    rest_.remove_prefix(n);
    return Status::Ok();
  }

 private:
  std::string_view rest_;
};

// The reader behind OpenReader(). Invariant: the header, the metadata and the file size have been
// verified; `remaining_` data bytes and the trailer are still unread, and `crc_` covers metadata
// and every data byte handed out so far.
class FileReader final : public SnapshotReader {
 public:
  FileReader(std::string path, std::unique_ptr<SequentialFile> file, FileHeader header,
             uint32_t crc, size_t chunk)
      : path_(std::move(path)),
        file_(std::move(file)),
        header_(std::move(header)),
        remaining_(header_.data_size),
        crc_(crc),
        chunk_(chunk) {}

  [[nodiscard]] const FileHeader& header() const override { return header_; }

  Status Next(std::string* out) override {
    out->clear();
    if (!error_.ok()) return error_;
    if (done_) return Status::Ok();
    if (remaining_ > 0) {
      const uint64_t n = std::min<uint64_t>(chunk_, remaining_);
      if (Status st = ReadExactly(file_.get(), path_, n, chunk_, out); !st.ok()) {
        return Fail(std::move(st), out);
      }
      crc_ = crc32c::Extend(crc_, out->data(), out->size());
      remaining_ -= n;
    }
    // The trailer is checked together with the last chunk rather than on the following call, so a
    // caller learns of damage no later than it receives the final byte.
    if (remaining_ == 0) {
      done_ = true;
      std::string trailer;
      Status st = ReadExactly(file_.get(), path_, format::kTrailerSize, chunk_, &trailer);
      if (st.ok()) st = format::CheckTrailer(trailer, crc_);
      if (!st.ok()) {
        if (st.code() == ErrorCode::kCorruption) st = Corruption(path_, st.message());
        return Fail(std::move(st), out);
      }
    }
    return Status::Ok();
  }

 private:
  Status Fail(Status st, std::string* out) {
    out->clear();
    error_ = std::move(st);
    return error_;
  }

  std::string path_;
  std::unique_ptr<SequentialFile> file_;
  FileHeader header_;
  uint64_t remaining_;
  uint32_t crc_;
  size_t chunk_;
  bool done_ = false;
  Status error_;
};

// Reads a reader to its end, appending the data to `*data` if non-null (otherwise only verifying).
Status Drain(SnapshotReader* reader, std::string* data) {
  std::string chunk;
  while (true) {
    RAFTKIT_RETURN_IF_ERROR(reader->Next(&chunk));
    if (chunk.empty()) return Status::Ok();
    if (data != nullptr) data->append(chunk);
  }
}

// The directory containing `path` ("." for a bare name, "/" for a top-level one).
std::string ParentDir(std::string_view path) {
  while (path.size() > 1 && path.back() == '/')
    path.remove_suffix(1);
  const size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

bool NewerFirst(const FileInfo& a, const FileInfo& b) {
  return std::tie(a.term, a.index) > std::tie(b.term, b.index);
}

}  // namespace

Snapshotter::Snapshotter(Options options) : options_(std::move(options)) {
  RAFTKIT_CHECK(options_.env != nullptr, "Snapshotter needs an Env");
  RAFTKIT_CHECK(options_.chunk_size > 0, "Snapshotter chunk_size must be positive");
  RAFTKIT_CHECK(!options_.dir.empty(), "Snapshotter needs a directory");
}

std::string Snapshotter::FileName(Term term, Index index) {
  return fmt::format("{:016x}-{:016x}{}", term.value(), index.value(), format::kSuffix);
}

std::optional<std::pair<Term, Index>> Snapshotter::ParseFileName(std::string_view name) {
  return format::ParseName(name, format::kSuffix);
}

Status Snapshotter::EnsureDir() {
  if (options_.env->Exists(options_.dir)) return Status::Ok();
  RAFTKIT_RETURN_IF_ERROR(options_.env->CreateDirs(options_.dir));
  // The directory's own entry must be durable too, or every snapshot written into it could vanish
  // with it in a power failure. (Only the last level: parents created here are the caller's.)
  return options_.env->SyncDir(ParentDir(options_.dir));
}

std::string Snapshotter::PathOf(std::string_view name) const {
  return JoinPath(options_.dir, name);
}

Status Snapshotter::Save(const raftpb::Snapshot& snap) {
  StringSource source(snap.data.view());
  return SaveStream(snap.metadata, snap.data.size(), &source);
}

Status Snapshotter::SaveStream(const raftpb::SnapshotMetadata& metadata, uint64_t data_size,
                               DataSource* source) {
  if (metadata.index == Index(0)) {
    return Status(ErrorCode::kInvalidArgument, "refusing to save an empty snapshot (index 0)");
  }
  const std::string meta = raftpb::Encode(metadata);
  if (meta.size() > format::kMaxMetadataSize) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("snapshot metadata of {} bytes is over the limit of {}", meta.size(),
                              format::kMaxMetadataSize));
  }
  constexpr uint64_t kFixed = format::kHeaderSize + format::kTrailerSize;
  if (data_size > std::numeric_limits<uint64_t>::max() - kFixed - meta.size()) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("snapshot data size {} does not fit in a file", data_size));
  }
  RAFTKIT_RETURN_IF_ERROR(EnsureDir());
  const std::string name = FileName(metadata.term, metadata.index);
  const std::string path = PathOf(name);
  const std::string tmp = path + std::string(format::kTmpSuffix);
  if (Status st = WriteTemp(tmp, meta, data_size, source); !st.ok()) {
    // Best effort: after an I/O error the env may refuse this too; List() removes the leftover.
    if (options_.env->Exists(tmp)) static_cast<void>(options_.env->Remove(tmp));
    return st;
  }
  // The content is durable under the temporary name; the rename publishes it whole, and the
  // directory sync makes the publication itself survive a power failure. Until then a crash
  // leaves the previous state of the directory (the .tmp, if durable, is removed by List()).
  RAFTKIT_RETURN_IF_ERROR(options_.env->Rename(tmp, path));
  return options_.env->SyncDir(options_.dir);
}

Status Snapshotter::WriteTemp(const std::string& tmp, std::string_view meta, uint64_t data_size,
                              DataSource* source) {
  const size_t chunk = options_.chunk_size;
  auto file = options_.env->OpenWritable(tmp, /*truncate=*/true);
  if (!file.ok()) return file.status();
  ChunkWriter out(file->get(), chunk);
  RAFTKIT_RETURN_IF_ERROR(
      out.Append(format::EncodeHeader({static_cast<uint32_t>(meta.size()), data_size})));
  RAFTKIT_RETURN_IF_ERROR(out.Append(meta));
  uint32_t crc = crc32c::Value(meta);

  uint64_t written = 0;
  std::string piece;
  while (written < data_size) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(chunk, data_size - written));
    RAFTKIT_RETURN_IF_ERROR(source->Next(want, &piece));
    if (piece.empty()) {
      return Status(ErrorCode::kInvalidArgument,
                    fmt::format("snapshot source ended after {} of {} bytes", written, data_size));
    }
    if (piece.size() > want) {
      return Status(ErrorCode::kInvalidArgument,
                    fmt::format("snapshot source yielded {} bytes when asked for at most {} "
                                "({} of {} written)",
                                piece.size(), want, written, data_size));
    }
    crc = crc32c::Extend(crc, piece.data(), piece.size());
    RAFTKIT_RETURN_IF_ERROR(out.Append(piece));
    written += piece.size();
  }
  // A source that still has bytes describes a different state than `data_size` claims; saving a
  // prefix of it would be a silently wrong snapshot.
  RAFTKIT_RETURN_IF_ERROR(source->Next(chunk, &piece));
  if (!piece.empty()) {
    return Status(
        ErrorCode::kInvalidArgument,
        fmt::format("snapshot source yields more than the {} bytes announced", data_size));
  }
  RAFTKIT_RETURN_IF_ERROR(out.Append(format::EncodeTrailer(crc)));
  RAFTKIT_RETURN_IF_ERROR(out.Flush());
  RAFTKIT_RETURN_IF_ERROR((*file)->Sync());
  return (*file)->Close();
}

Result<std::vector<FileInfo>> Snapshotter::List() {
  RAFTKIT_RETURN_IF_ERROR(EnsureDir());
  auto names = options_.env->ListDir(options_.dir);
  if (!names.ok()) return names.status();
  std::vector<FileInfo> files;
  bool removed = false;
  for (const std::string& name : *names) {
    if (format::ParseName(name, std::string(format::kSuffix) + std::string(format::kTmpSuffix))) {
      // An interrupted Save: its content may be incomplete, and it was never published.
      RAFTKIT_RETURN_IF_ERROR(options_.env->Remove(PathOf(name)));
      removed = true;
      continue;
    }
    const auto parsed = ParseFileName(name);
    if (!parsed) continue;
    auto size = options_.env->FileSize(PathOf(name));
    if (!size.ok()) return size.status();
    files.push_back(FileInfo{name, parsed->first, parsed->second, *size});
  }
  if (removed) RAFTKIT_RETURN_IF_ERROR(options_.env->SyncDir(options_.dir));
  std::sort(files.begin(), files.end(), NewerFirst);
  return files;
}

Result<std::unique_ptr<SnapshotReader>> Snapshotter::OpenReader(const std::string& name) {
  const auto parsed = ParseFileName(name);
  if (!parsed) {
    return Status(ErrorCode::kInvalidArgument,
                  fmt::format("'{}' is not a snapshot file name", name));
  }
  const std::string path = PathOf(name);
  const size_t chunk = options_.chunk_size;
  auto size = options_.env->FileSize(path);
  if (!size.ok()) return size.status();
  if (*size < format::kHeaderSize + format::kTrailerSize) {
    return Corruption(path, fmt::format("file of {} bytes is too short", *size));
  }
  auto file = options_.env->OpenSequential(path);
  if (!file.ok()) return file.status();

  std::string buf;
  RAFTKIT_RETURN_IF_ERROR(ReadExactly(file->get(), path, format::kHeaderSize, chunk, &buf));
  auto lengths = format::DecodeHeader(buf, *size);
  if (!lengths.ok()) return Corruption(path, lengths.status().message());

  RAFTKIT_RETURN_IF_ERROR(ReadExactly(file->get(), path, lengths->metadata_size, chunk, &buf));
  auto metadata = raftpb::DecodeSnapshotMetadata(buf);
  if (!metadata.ok()) {
    return Corruption(path, "metadata does not decode: " + metadata.status().message());
  }
  // A name that disagrees with the content would make List() order (and Purge() keep) the wrong
  // snapshot, so the file is not trusted.
  if (metadata->term != parsed->first || metadata->index != parsed->second) {
    return Corruption(path,
                      fmt::format("name says term {} index {}, metadata says term {} index {}",
                                  parsed->first, parsed->second, metadata->term, metadata->index));
  }
  const uint32_t crc = crc32c::Value(buf);
  FileHeader header{std::move(metadata).value(), lengths->data_size};
  return std::unique_ptr<SnapshotReader>(
      std::make_unique<FileReader>(path, std::move(file).value(), std::move(header), crc, chunk));
}

Result<raftpb::Snapshot> Snapshotter::Load(const std::string& name) {
  auto reader = OpenReader(name);
  if (!reader.ok()) return reader.status();
  std::string data;
  RAFTKIT_RETURN_IF_ERROR(Drain(reader->get(), &data));
  raftpb::Snapshot snap;
  snap.metadata = (*reader)->header().metadata;
  snap.data = Bytes(std::move(data));
  return snap;
}

Result<FileInfo> Snapshotter::Newest(const Accept& accept, std::vector<std::string>* broken,
                                     raftpb::Snapshot* load) {
  auto files = List();
  if (!files.ok()) return files.status();
  for (const FileInfo& f : *files) {
    std::string data;
    auto reader = OpenReader(f.name);
    Status st = reader.status();
    if (reader.ok()) {
      // The predicate sees verified metadata; the data of a rejected file is not read at all.
      if (accept && !accept((*reader)->header().metadata)) continue;
      st = Drain(reader->get(), load != nullptr ? &data : nullptr);
      if (st.ok()) {
        if (load != nullptr) {
          load->metadata = (*reader)->header().metadata;
          load->data = Bytes(std::move(data));
        }
        return f;
      }
    }
    // Only damage is set aside; an I/O error says nothing about the file and is the caller's.
    if (st.code() != ErrorCode::kCorruption) return st;
    RAFTKIT_RETURN_IF_ERROR(
        options_.env->Rename(PathOf(f.name), PathOf(f.name + std::string(format::kBrokenSuffix))));
    RAFTKIT_RETURN_IF_ERROR(options_.env->SyncDir(options_.dir));
    if (broken != nullptr) broken->push_back(f.name);
  }
  return Status(ErrorCode::kNotFound, fmt::format("no usable snapshot in {}", options_.dir));
}

Result<raftpb::Snapshot> Snapshotter::LoadNewest(const Accept& accept,
                                                 std::vector<std::string>* broken) {
  raftpb::Snapshot snap;
  auto found = Newest(accept, broken, &snap);
  if (!found.ok()) return found.status();
  return snap;
}

Result<FileInfo> Snapshotter::FindNewest(const Accept& accept, std::vector<std::string>* broken) {
  return Newest(accept, broken, nullptr);
}

Status Snapshotter::Purge(size_t keep) {
  auto files = List();
  if (!files.ok()) return files.status();
  auto names = options_.env->ListDir(options_.dir);
  if (!names.ok()) return names.status();
  std::vector<FileInfo> broken;
  const std::string broken_suffix =
      std::string(format::kSuffix) + std::string(format::kBrokenSuffix);
  for (const std::string& name : *names) {
    if (const auto parsed = format::ParseName(name, broken_suffix)) {
      broken.push_back(FileInfo{name, parsed->first, parsed->second, 0});
    }
  }
  std::sort(broken.begin(), broken.end(), NewerFirst);

  bool removed = false;
  for (const std::vector<FileInfo>* list : {&*files, &broken}) {
    for (size_t i = keep; i < list->size(); ++i) {
      RAFTKIT_RETURN_IF_ERROR(options_.env->Remove(PathOf((*list)[i].name)));
      removed = true;
    }
  }
  if (removed) RAFTKIT_RETURN_IF_ERROR(options_.env->SyncDir(options_.dir));
  return Status::Ok();
}

Result<raftpb::Snapshot> DecodeSnapshotFile(std::string_view bytes) {
  const auto bad = [](std::string_view what) {
    return Status(ErrorCode::kCorruption, fmt::format("snapshot file image: {}", what));
  };
  if (bytes.size() < format::kHeaderSize + format::kTrailerSize) {
    return bad(fmt::format("{} bytes is too short", bytes.size()));
  }
  auto lengths = format::DecodeHeader(bytes.substr(0, format::kHeaderSize), bytes.size());
  if (!lengths.ok()) return bad(lengths.status().message());
  // DecodeHeader proved bytes.size() == 32 + M + D + 8, so these slices are in range.
  const std::string_view meta = bytes.substr(format::kHeaderSize, lengths->metadata_size);
  const std::string_view data =
      bytes.substr(format::kHeaderSize + lengths->metadata_size, lengths->data_size);
  const std::string_view trailer = bytes.substr(bytes.size() - format::kTrailerSize);
  const uint32_t crc = crc32c::Extend(crc32c::Value(meta), data.data(), data.size());
  if (Status st = format::CheckTrailer(trailer, crc); !st.ok()) return bad(st.message());
  auto metadata = raftpb::DecodeSnapshotMetadata(meta);
  if (!metadata.ok()) return bad("metadata does not decode: " + metadata.status().message());
  raftpb::Snapshot snap;
  snap.metadata = std::move(metadata).value();
  snap.data = Bytes(data);
  return snap;
}

}  // namespace raftkit::storage::snap
