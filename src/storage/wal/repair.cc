// Scan, Repair, and the log cut they share with Open.
#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "raftkit/storage/wal/wal.h"
#include "storage/wal/reader.h"
#include "storage/wal/recovery.h"
#include "storage/wal/segment.h"

namespace raftkit::storage::wal {

namespace internal {

Status CutLog(Env* env, const std::string& dir, const ReadResult& r, const ReadDamage& d) {
  // Newest first, each removal made durable before the next: a crash in the middle leaves a
  // shorter log with no hole in its sequence, which the next Repair continues from.
  for (size_t j = r.segments.size(); j-- > d.segment + 1;) {
    RAFTKIT_RETURN_IF_ERROR(env->Remove(JoinPath(dir, r.segments[j].id.name)));
    RAFTKIT_RETURN_IF_ERROR(env->SyncDir(dir));
  }
  const std::string path = JoinPath(dir, r.segments[d.segment].id.name);
  if (d.removes_segment) {
    // Without its complete header the segment cannot be read on its own; the records of its first
    // batch are all that can be in it, and that batch is the one being dropped.
    RAFTKIT_RETURN_IF_ERROR(env->Remove(path));
    return env->SyncDir(dir);
  }
  auto file = env->OpenWritable(path, /*truncate=*/false);
  if (!file.ok()) return file.status();
  RAFTKIT_RETURN_IF_ERROR((*file)->Truncate(d.cut_offset));
  RAFTKIT_RETURN_IF_ERROR((*file)->Sync());
  return (*file)->Close();
}

Result<std::vector<Index>> DroppedEntryIndexes(Env* env, const std::string& dir,
                                               const ReadResult& r, const ReadDamage& d) {
  std::vector<Index> out;
  auto collect = [&](const std::vector<FoundRecord>& records) {
    for (const FoundRecord& f : records) {
      if (f.entry_index) out.push_back(*f.entry_index);
    }
  };
  std::string data;
  if (d.cut_offset == 0) {
    // The whole segment goes; damage found at its name means none of it was parsed.
    RAFTKIT_RETURN_IF_ERROR(
        ReadWholeFile(env, JoinPath(dir, r.segments[d.segment].id.name), &data));
    collect(ScanForRecords(data, 0));
  } else {
    collect(d.after);
  }
  for (size_t j = d.segment + 1; j < r.segments.size(); ++j) {
    RAFTKIT_RETURN_IF_ERROR(ReadWholeFile(env, JoinPath(dir, r.segments[j].id.name), &data));
    collect(ScanForRecords(data, 0));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string DescribeIndexes(const std::vector<Index>& indexes) {
  if (indexes.empty()) return "none";
  std::string out;
  for (size_t i = 0; i < indexes.size();) {
    size_t j = i;
    while (j + 1 < indexes.size() && indexes[j + 1] == indexes[j] + 1)
      ++j;
    if (!out.empty()) out += ", ";
    out += j == i ? fmt::format("{}", indexes[i]) : fmt::format("{}..{}", indexes[i], indexes[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace internal

using internal::ReadDamage;
using internal::ReadResult;

Result<std::optional<Damage>> Scan(Env* env, const std::string& dir,
                                   const std::function<void(const RecordInfo&)>& on_record) {
  internal::RecordVisitor visit;
  if (on_record) {
    visit = [&](const internal::RecordEvent& ev) {
      const internal::Record& r = *ev.record;
      RecordInfo info;
      info.file = ev.segment->id.name;
      info.offset = r.offset;
      info.type = r.type;
      info.batch = r.batch;
      info.last_in_batch = r.last_in_batch();
      info.payload = std::string(r.payload);
      on_record(info);
    };
  }
  auto read = internal::ReadLog(env, dir, visit);
  if (!read.ok()) return read.status();
  if (!read->damage) return std::optional<Damage>();
  return std::optional<Damage>(read->damage->damage);
}

namespace {

std::string SegmentCount(size_t n) {
  return fmt::format("{} later segment{}", n, n == 1 ? "" : "s");
}

// What a cut at `d` does, in words.
std::string DescribeCut(const ReadResult& r, const ReadDamage& d) {
  const size_t later = r.segments.size() - d.segment - 1;
  std::string out = d.removes_segment
                        ? fmt::format("removed {}", d.damage.file)
                        : fmt::format("truncated {} at offset {}", d.damage.file, d.cut_offset);
  if (later > 0) out += fmt::format(" and removed {}", SegmentCount(later));
  if (d.removes_segment && d.segment == 0) out += "; the WAL is now empty";
  return out;
}

}  // namespace

Result<RepairReport> Repair(const Options& options, bool accept_loss) {
  Env* env = options.env;
  auto lock = env->LockFile(JoinPath(options.dir, internal::kLockFileName));
  if (!lock.ok()) return lock.status();
  auto read = internal::ReadLog(env, options.dir, {});
  if (!read.ok()) return read.status();
  if (read->segments.empty() && !read->damage) {
    return Status(ErrorCode::kNotFound, fmt::format("{}: no WAL segment", options.dir));
  }
  if (!read->damage) return RepairReport{false, "no damage found"};

  const ReadDamage& d = *read->damage;
  const std::string where = internal::DamageMessage(options.dir, d.damage);
  if (!d.cuttable) {
    return Status(
        ErrorCode::kCorruption,
        fmt::format("{}; no cut of the log repairs this: move the file away by hand", where));
  }
  auto dropped = internal::DroppedEntryIndexes(env, options.dir, *read, d);
  if (!dropped.ok()) return dropped.status();
  const std::string indexes = internal::DescribeIndexes(*dropped);
  const bool confined = d.damage.tail || d.damage.final_batch_only;
  if (!confined && !accept_loss) {
    return Status(ErrorCode::kCorruption,
                  fmt::format("{}; the damage is not confined to the final batch (records of later "
                              "batches follow it), so acknowledged entries would be lost "
                              "(readable ones: {}); Repair refuses unless accept_loss is set",
                              where, indexes));
  }
  RAFTKIT_RETURN_IF_ERROR(internal::CutLog(env, options.dir, *read, d));

  RepairReport report;
  report.changed = true;
  if (confined) {
    report.description = fmt::format(
        "{}: {}; the damage was confined to the final batch, which was never acknowledged; "
        "entries dropped with it: {}",
        where, DescribeCut(*read, d), indexes);
  } else {
    report.description = fmt::format(
        "{}: {} (accept_loss); entries lost, possibly acknowledged: {} plus whatever the damaged "
        "record held; the node must rejoin the cluster as a new member",
        where, DescribeCut(*read, d), indexes);
  }
  return report;
}

}  // namespace raftkit::storage::wal
