#include "storage/wal/reader.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "raftkit/raftpb/codec.h"
#include "raftkit/util/crc32c.h"

namespace raftkit::storage::wal::internal {

namespace {

// The records of one segment's header, in the order they must appear.
enum class Stage {
  kChain,          // expecting the CRC-chain record
  kMetadata,       // expecting the metadata record
  kStateOrMarker,  // expecting the HardState (optional) or the snapshot marker
  kBody,           // header complete: entries, HardStates and snapshot markers
};

// A record's decoded payload; which member is set depends on the type.
struct Decoded {
  std::optional<CrcChain> chain;
  std::optional<Metadata> metadata;
  std::optional<raftpb::Entry> entry;
  std::optional<raftpb::HardState> hard_state;
  std::optional<SnapshotMarker> marker;
};

class LogReader {
 public:
  LogReader(Env* env, const std::string& dir, const RecordVisitor& visit)
      : env_(env), dir_(dir), visit_(visit) {}

  Result<ReadResult> Run();

 private:
  bool CheckNames(const DirListing& listing);
  Status ReadSegment(size_t i);
  Status NextFrame(uint64_t off, Frame* f);
  [[nodiscard]] std::string_view Rest(uint64_t off) const;
  std::string CheckSegmentName(size_t i) const;
  std::string Check(size_t i, const Record& r, Decoded* dec);
  std::string CheckHeader(size_t i, const Record& r, Decoded* dec);
  std::string CheckBody(const Record& r, Decoded* dec) const;
  void Accept(size_t i, const Record& r, Decoded* dec);
  void Damaged(size_t i, std::string_view data, uint64_t offset, std::string what,
               uint64_t extent_end, bool record_level);
  std::optional<uint32_t> DamagedBatch(size_t i) const;

  Env* env_;
  const std::string& dir_;
  const RecordVisitor& visit_;
  ReadResult out_;
  Index last_;                   // index of the last entry read (entry-gap rule)
  bool last_in_batch_ = false;   // flag of the last valid record read
  Stage stage_ = Stage::kChain;  // of the segment being read
  bool header_hs_ = false;       // the segment being read had a header HardState
  SegmentWindow win_;            // the segment being read
};

std::string TypeName(RecordType t) {
  return std::string(RecordTypeName(t));
}

Result<ReadResult> LogReader::Run() {
  auto listing = ListSegments(env_, dir_);
  if (!listing.ok()) return listing.status();
  for (SegmentId& id : listing->segments) {
    SegmentState& seg = out_.segments.emplace_back();
    seg.id = std::move(id);
  }
  if (!CheckNames(*listing) || out_.segments.empty()) return std::move(out_);

  // The first retained segment continues a log whose earlier segments may have been released: the
  // last entry before it is first_index - 1 by the naming rule.
  const SegmentId& first = out_.segments.front().id;
  last_ = first.seq == 0 || first.first_index == Index(0) ? Index(0) : first.first_index - 1;
  for (size_t i = 0; i < out_.segments.size() && !out_.damage; ++i) {
    RAFTKIT_RETURN_IF_ERROR(ReadSegment(i));
  }
  out_.last_index = last_;
  return std::move(out_);
}

// Damage that no cut of the log can fix: which of two files is the stray one is for a human.
bool LogReader::CheckNames(const DirListing& listing) {
  ReadDamage d;
  d.cuttable = false;
  if (!listing.bad_names.empty()) {
    d.damage.file = listing.bad_names.front();
    d.damage.what = "bad file name (expected <seq:016x>-<first_index:016x>.wal)";
  } else {
    for (size_t i = 1; i < out_.segments.size(); ++i) {
      if (out_.segments[i].id.seq == out_.segments[i - 1].id.seq) {
        d.damage.file = out_.segments[i].id.name;
        d.damage.what = fmt::format("duplicate segment seq {:016x} (also in {})",
                                    out_.segments[i].id.seq, out_.segments[i - 1].id.name);
        break;
      }
    }
    if (d.damage.file.empty()) return true;
  }
  out_.damage = std::move(d);
  return false;
}

// What is wrong with segment i's name given the segments before it ("" if nothing).
std::string LogReader::CheckSegmentName(size_t i) const {
  const SegmentId& id = out_.segments[i].id;
  if (i > 0 && id.seq != out_.segments[i - 1].id.seq + 1) {
    return fmt::format("missing segment seq {:016x} (the previous one is {})",
                       out_.segments[i - 1].id.seq + 1, out_.segments[i - 1].id.name);
  }
  if (i == 0 && id.seq != 0) {
    // After a release the first retained segment's predecessor is gone: nothing to compare.
    if (id.first_index == Index(0)) return "first index 0 in the file name";
    return "";
  }
  if (id.first_index != last_ + 1) {
    return fmt::format("first index {} in the file name, expected {}", id.first_index, last_ + 1);
  }
  return "";
}

// Parses the frame at file offset `off`, loading what that takes: the whole record, or — for
// anything but a valid record — the rest of the file, which the damage analysis looks at. The
// offsets in `*f` are file offsets.
Status LogReader::NextFrame(uint64_t off, Frame* f) {
  RAFTKIT_RETURN_IF_ERROR(win_.Ensure(off, off + kHeaderSize));
  const std::string_view head = win_.data().substr(off - win_.base());
  if (head.size() >= kHeaderSize) {
    const uint32_t len = GetFixed32(head.data() + 4);
    if (len <= kMaxPayload) {
      RAFTKIT_RETURN_IF_ERROR(win_.Ensure(off, off + kHeaderSize + AlignUp(len)));
    }
  }
  *f = ReadFrame(win_.data(), off - win_.base());
  if (f->kind != FrameKind::kRecord) {
    RAFTKIT_RETURN_IF_ERROR(win_.EnsureAll(off));
    *f = ReadFrame(win_.data(), off - win_.base());
  }
  f->record.offset += win_.base();
  f->record.end += win_.base();
  f->extent_end += win_.base();
  return Status::Ok();
}

Status LogReader::ReadSegment(size_t i) {
  SegmentState& seg = out_.segments[i];
  seg.read = true;
  stage_ = Stage::kChain;
  header_hs_ = false;
  if (std::string why = CheckSegmentName(i); !why.empty()) {
    Damaged(i, {}, 0, std::move(why), 0, /*record_level=*/false);
    return Status::Ok();
  }
  const std::string path = JoinPath(dir_, seg.id.name);
  RAFTKIT_RETURN_IF_ERROR(win_.Open(env_, path));
  // The size as listed, for visitors that want to reserve; replaced by what was read at the end.
  seg.size = env_->FileSize(path).value_or(0);
  uint64_t off = 0;
  Frame f;
  for (;;) {
    RAFTKIT_RETURN_IF_ERROR(NextFrame(off, &f));
    if (f.kind != FrameKind::kRecord) break;
    Decoded dec;
    if (std::string why = Check(i, f.record, &dec); !why.empty()) {
      RAFTKIT_RETURN_IF_ERROR(win_.EnsureAll(off));
      seg.size = win_.base() + win_.data().size();
      Damaged(i, Rest(off), off, std::move(why), f.record.end, false);
      return Status::Ok();
    }
    Accept(i, f.record, &dec);
    off = f.record.end;
  }

  // The window now holds everything from `off` to the end of the file.
  seg.size = win_.base() + win_.data().size();
  const std::string_view rest = Rest(off);
  const bool last_segment = i + 1 == out_.segments.size();
  if (f.kind == FrameKind::kDamaged) {
    Damaged(i, rest, off, std::move(f.what), f.extent_end, true);
  } else if (f.kind == FrameKind::kZeros && !AllZero(rest, 0)) {
    Damaged(i, rest, off, "zero header followed by data", off + kHeaderSize, true);
  } else if (seg.header_end == 0) {
    // A header cut short at the end of the last segment is a cut that was in progress.
    Damaged(i, rest, off, "incomplete segment header", seg.size, last_segment);
  } else if (off < seg.size && last_segment) {
    // Zeros where a crash left written-but-empty blocks; appends must start at `off`.
    Damaged(i, rest, off, fmt::format("zero-filled tail ({} bytes)", seg.size - off), seg.size,
            true);
  }
  // Zeros after the last record of an older segment are harmless: the next segment's CRC chain
  // proves that every record of this one was read.
  return Status::Ok();
}

// The window's bytes from file offset `off` (which it holds) on.
std::string_view LogReader::Rest(uint64_t off) const {
  return win_.data().substr(off - win_.base());
}

std::string LogReader::Check(size_t i, const Record& r, Decoded* dec) {
  if (stage_ != Stage::kBody) return CheckHeader(i, r, dec);
  return CheckBody(r, dec);
}

std::string LogReader::CheckHeader(size_t i, const Record& r, Decoded* dec) {
  const SegmentId& id = out_.segments[i].id;
  switch (stage_) {
    case Stage::kChain: {
      if (r.type != RecordType::kCrcChain) {
        return "bad segment header: expected a crc-chain record, found " + TypeName(r.type);
      }
      dec->chain = DecodeCrcChain(r.payload);
      if (!dec->chain) return "bad crc-chain payload";
      if (i > 0) {
        const SegmentState& prev = out_.segments[i - 1];
        if (dec->chain->prev_seq != prev.id.seq || dec->chain->crc != prev.rolling) {
          return fmt::format(
              "broken crc chain: the record says segment {:016x} ended with crc {:#010x}, but "
              "{} ends with crc {:#010x}",
              dec->chain->prev_seq, dec->chain->crc, prev.id.name, prev.rolling);
        }
      } else if (id.seq == 0 ? dec->chain->crc != 0 || dec->chain->prev_seq != 0
                             : dec->chain->prev_seq != id.seq - 1) {
        return fmt::format("broken crc chain: previous seq {:016x} for segment seq {:016x}",
                           dec->chain->prev_seq, id.seq);
      }
      return "";
    }
    case Stage::kMetadata: {
      if (r.type != RecordType::kMetadata) {
        return "bad segment header: expected a metadata record, found " + TypeName(r.type);
      }
      dec->metadata = DecodeMetadata(r.payload);
      if (!dec->metadata) return "bad metadata payload";
      if (out_.metadata && !(*out_.metadata == *dec->metadata)) {
        return fmt::format(
            "metadata differs from the previous segments' (node {:x} cluster {:x} here, node "
            "{:x} cluster {:x} before)",
            dec->metadata->node_id, dec->metadata->cluster_id, out_.metadata->node_id,
            out_.metadata->cluster_id);
      }
      return "";
    }
    case Stage::kStateOrMarker: {
      if (r.type == RecordType::kHardState && !header_hs_) {
        auto hs = raftpb::DecodeHardState(r.payload);
        if (!hs.ok()) return "bad HardState payload: " + hs.status().message();
        if (i > 0 && !(*hs == out_.hard_state)) {
          return "bad segment header: its HardState differs from the last one saved";
        }
        dec->hard_state = std::move(hs).value();
        return "";
      }
      if (r.type != RecordType::kSnapshot) {
        return "bad segment header: expected a HardState or snapshot record, found " +
               TypeName(r.type);
      }
      dec->marker = DecodeSnapshotMarker(r.payload);
      if (!dec->marker) return "bad snapshot payload";
      if (i > 0 && (!(*dec->marker == out_.marker) || header_hs_ == out_.hard_state.IsEmpty())) {
        return "bad segment header: it does not restate the latest HardState and snapshot marker";
      }
      return "";
    }
    case Stage::kBody:
      break;
  }
  return "internal: header check in the body";
}

std::string LogReader::CheckBody(const Record& r, Decoded* dec) const {
  switch (r.type) {
    case RecordType::kEntry: {
      auto e = DecodeEntryPayload(r.payload);
      if (!e.ok()) return "bad entry payload: " + e.status().message();
      // Indexes never skip: an entry continues the log or rewrites it from its index on (a
      // resets_log marker moves last_ to the snapshot's index).
      if (e->index == Index(0) || e->index > last_ + 1) {
        return fmt::format("entry index gap: entry {} follows entry {}", e->index, last_);
      }
      dec->entry = std::move(e).value();
      return "";
    }
    case RecordType::kHardState: {
      auto hs = raftpb::DecodeHardState(r.payload);
      if (!hs.ok()) return "bad HardState payload: " + hs.status().message();
      dec->hard_state = std::move(hs).value();
      return "";
    }
    case RecordType::kSnapshot:
      dec->marker = DecodeSnapshotMarker(r.payload);
      return dec->marker ? "" : "bad snapshot payload";
    case RecordType::kCrcChain:
    case RecordType::kMetadata:
      break;
  }
  return "unexpected " + TypeName(r.type) + " record after the segment header";
}

void LogReader::Accept(size_t i, const Record& r, Decoded* dec) {
  SegmentState& seg = out_.segments[i];
  RecordEvent ev;
  ev.segment = &seg;
  ev.record = &r;
  const bool in_header = stage_ != Stage::kBody;
  ev.header_repeat = in_header && i > 0;
  if (dec->metadata) {
    if (!out_.metadata) out_.metadata = *dec->metadata;
    ev.metadata = &*dec->metadata;
  } else if (dec->hard_state) {
    out_.hard_state = *dec->hard_state;
    ev.hard_state = &*dec->hard_state;
  } else if (dec->marker) {
    out_.marker = *dec->marker;
    // A header marker restates the state; only a marker as written by SaveSnapshot resets.
    if (!in_header && dec->marker->resets_log) last_ = dec->marker->index;
    ev.marker = &*dec->marker;
  } else if (dec->entry) {
    last_ = dec->entry->index;
    ev.entry = &*dec->entry;
  }
  switch (stage_) {
    case Stage::kChain:
      stage_ = Stage::kMetadata;
      break;
    case Stage::kMetadata:
      stage_ = Stage::kStateOrMarker;
      break;
    case Stage::kStateOrMarker:
      if (r.type == RecordType::kHardState) {
        header_hs_ = true;
      } else {
        stage_ = Stage::kBody;
        seg.header_end = r.end;
      }
      break;
    case Stage::kBody:
      break;
  }
  seg.rolling = ExtendRolling(seg.rolling, r.stored_crc);
  seg.valid_end = r.end;
  seg.last_batch = r.batch;
  out_.last_batch = r.batch;
  last_in_batch_ = r.last_in_batch();
  if (visit_) visit_(ev);
}

// The batch the damaged record belongs to: the batch of the last valid record, or the next one if
// that record closed its batch. Unknown before the first record of a segment whose predecessor
// was released (the batch numbers before it are gone).
std::optional<uint32_t> LogReader::DamagedBatch(size_t i) const {
  if (out_.last_batch) return last_in_batch_ ? *out_.last_batch + 1 : *out_.last_batch;
  if (i == 0 && out_.segments[0].id.seq == 0) return 0;  // Create writes batch 0
  return std::nullopt;
}

// Records damage at file offset `offset` of segment i; `rest` holds the file from there to its end
// (empty if not read). `record_level`: the bytes at `offset` do not form a valid record (as opposed
// to a valid record that does not belong there), so in the last segment it may be a crash tail
// or a torn final batch.
void LogReader::Damaged(size_t i, std::string_view rest, uint64_t offset, std::string what,
                        uint64_t extent_end, bool record_level) {
  const SegmentState& seg = out_.segments[i];
  ReadDamage d;
  d.segment = i;
  d.cut_offset = offset;
  d.removes_segment = seg.header_end == 0 || offset < seg.header_end;
  d.damage.file = seg.id.name;
  d.damage.offset = offset;
  d.damage.what = std::move(what);
  d.after = ScanForRecords(rest, record_level ? kAlignment : extent_end - offset);
  for (FoundRecord& r : d.after)
    r.offset += offset;
  const bool last_segment = i + 1 == out_.segments.size();
  // Never remove the only segment left unless it is the first one ever (an unfinished Create): a
  // retained segment's header was synced before the segments before it could be released.
  const bool removes_all = d.removes_segment && i == 0 && seg.id.seq != 0;
  if (record_level && last_segment && !removes_all) {
    d.damage.tail = AllZero(rest, extent_end - offset) && d.after.empty();
    const std::optional<uint32_t> batch = DamagedBatch(i);
    d.damage.final_batch_only =
        batch.has_value() && std::none_of(d.after.begin(), d.after.end(), [&](const auto& r) {
          return BatchAfter(r.batch, *batch);
        });
  }
  out_.damage = std::move(d);
}

}  // namespace

Result<ReadResult> ReadLog(Env* env, const std::string& dir, const RecordVisitor& visit) {
  LogReader reader(env, dir, visit);
  return reader.Run();
}

std::vector<FoundRecord> ScanForRecords(std::string_view data, uint64_t from) {
  std::vector<FoundRecord> out;
  uint64_t pos = AlignUp(from);
  while (pos + kHeaderSize <= data.size()) {
    const char* h = data.data() + pos;
    const auto type = static_cast<uint8_t>(h[8]);
    // Cheap checks first, so that a long stretch of garbage costs no CRC computations.
    const bool plausible = type >= static_cast<uint8_t>(RecordType::kCrcChain) &&
                           type <= static_cast<uint8_t>(RecordType::kSnapshot) &&
                           (static_cast<uint8_t>(h[9]) & ~kFlagLastInBatch) == 0 && h[10] == 0 &&
                           h[11] == 0 && GetFixed32(h + 4) <= data.size() - pos - kHeaderSize;
    if (plausible) {
      const Frame f = ReadFrame(data, pos);
      if (f.kind == FrameKind::kRecord) {
        FoundRecord r{pos, f.record.type, f.record.batch, std::nullopt};
        if (r.type == RecordType::kEntry) {
          auto e = DecodeEntryPayload(f.record.payload);
          if (e.ok()) r.entry_index = e->index;
        }
        out.push_back(r);
        pos = f.record.end;
        continue;
      }
    }
    pos += kAlignment;
  }
  return out;
}

std::string DamageMessage(const std::string& dir, const Damage& d) {
  return fmt::format("{} offset {}: {}", JoinPath(dir, d.file), d.offset, d.what);
}

}  // namespace raftkit::storage::wal::internal
