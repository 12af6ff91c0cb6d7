#include "storage/wal/segment.h"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

namespace raftkit::storage::wal::internal {

std::string SegmentFileName(uint64_t seq, Index first_index) {
  return fmt::format("{:016x}-{:016x}{}", seq, first_index.value(), kSegmentSuffix);
}

namespace {

bool ParseHex16(std::string_view s, uint64_t* out) {
  if (s.size() != 16) return false;
  uint64_t v = 0;
  for (const char c : s) {
    uint64_t digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return false;  // upper case too: names are written in one spelling only
    }
    v = (v << 4) | digit;
  }
  *out = v;
  return true;
}

}  // namespace

bool ParseSegmentFileName(std::string_view name, SegmentId* out) {
  constexpr size_t kLength = 16 + 1 + 16 + kSegmentSuffix.size();
  if (name.size() != kLength || name[16] != '-' || !name.ends_with(kSegmentSuffix)) return false;
  uint64_t seq = 0;
  uint64_t first = 0;
  if (!ParseHex16(name.substr(0, 16), &seq) || !ParseHex16(name.substr(17, 16), &first)) {
    return false;
  }
  out->seq = seq;
  out->first_index = Index(first);
  out->name = std::string(name);
  return true;
}

Result<DirListing> ListSegments(Env* env, const std::string& dir) {
  auto names = env->ListDir(dir);
  if (!names.ok()) return names.status();
  DirListing out;
  for (const std::string& name : *names) {
    if (!name.ends_with(kSegmentSuffix)) continue;
    SegmentId id;
    if (ParseSegmentFileName(name, &id)) {
      out.segments.push_back(std::move(id));
    } else {
      out.bad_names.push_back(name);
    }
  }
  std::sort(out.segments.begin(), out.segments.end(), [](const SegmentId& a, const SegmentId& b) {
    return a.seq != b.seq ? a.seq < b.seq : a.name < b.name;
  });
  std::sort(out.bad_names.begin(), out.bad_names.end());
  return out;
}

Status SegmentWindow::Open(Env* env, const std::string& path) {
  auto file = env->OpenSequential(path);
  if (!file.ok()) return file.status();
  file_ = std::move(file).value();
  buf_.clear();
  base_ = 0;
  eof_ = false;
  return Status::Ok();
}

Status SegmentWindow::Ensure(uint64_t from, uint64_t to) {
  constexpr uint64_t kChunk = 1 << 20;
  if (eof_ || base_ + buf_.size() >= to) return Status::Ok();
  // Drop the parsed bytes only when reading more, so that what moves is at most one record.
  if (from > base_) {
    buf_.erase(0, std::min<uint64_t>(from - base_, buf_.size()));
    base_ = from;
  }
  while (base_ + buf_.size() < to) {
    // Whole records at least, but never one huge read for EnsureAll.
    const uint64_t want = std::clamp<uint64_t>(to - base_ - buf_.size(), kChunk, 16 * kChunk);
    RAFTKIT_RETURN_IF_ERROR(file_->Read(want, &chunk_));
    if (chunk_.empty()) {
      eof_ = true;
      break;
    }
    buf_.append(chunk_);
  }
  return Status::Ok();
}

Status SegmentWindow::EnsureAll(uint64_t from) {
  return Ensure(from, std::numeric_limits<uint64_t>::max());
}

Status ReadWholeFile(Env* env, const std::string& path, std::string* out) {
  out->clear();
  auto file = env->OpenSequential(path);
  if (!file.ok()) return file.status();
  auto size = env->FileSize(path);
  if (size.ok()) out->reserve(*size);
  constexpr size_t kChunk = 1 << 20;
  std::string chunk;
  for (;;) {
    RAFTKIT_RETURN_IF_ERROR((*file)->Read(kChunk, &chunk));
    if (chunk.empty()) break;
    out->append(chunk);
  }
  return Status::Ok();
}

}  // namespace raftkit::storage::wal::internal
