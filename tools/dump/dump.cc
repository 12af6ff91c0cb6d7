// raftkit-dump: every on-disk structure as readable text or JSON. It only reads (except
// `repair`), never takes the directory lock, and reports damage instead of stopping at it.
#include "dump.h"

#include <cstring>
#include <ostream>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "raftkit/raftpb/codec.h"
#include "raftkit/raftpb/describe.h"
#include "raftkit/storage/snap/snapshotter.h"
#include "raftkit/storage/wal/wal.h"

namespace raftkit::tools {
namespace {

using nlohmann::json;
using storage::wal::RecordType;

uint64_t Le64(std::string_view p, size_t at) {
  uint64_t v = 0;
  if (p.size() >= at + 8) std::memcpy(&v, p.data() + at, 8);
  return v;
}
uint32_t Le32(std::string_view p, size_t at) {
  uint32_t v = 0;
  if (p.size() >= at + 4) std::memcpy(&v, p.data() + at, 4);
  return v;
}

std::string_view EntryTypeName(raftpb::EntryType t) {
  switch (t) {
    case raftpb::EntryType::EntryNormal:
      return "EntryNormal";
    case raftpb::EntryType::EntryConfChange:
      return "EntryConfChange";
    case raftpb::EntryType::EntryConfChangeV2:
      return "EntryConfChangeV2";
  }
  return "EntryUnknown";
}

// One record as JSON (payload decoded by type) and as a text line.
json RecordJson(const storage::wal::RecordInfo& r) {
  json j = {{"file", r.file},
            {"offset", r.offset},
            {"type", std::string(storage::wal::RecordTypeName(r.type))},
            {"batch", r.batch},
            {"last_in_batch", r.last_in_batch},
            {"payload_bytes", r.payload.size()}};
  const std::string_view p = r.payload;
  switch (r.type) {
    case RecordType::kCrcChain:
      j["prev_crc"] = Le32(p, 0);
      j["prev_seq"] = Le64(p, 8);
      break;
    case RecordType::kMetadata:
      j["node_id"] = Le64(p, 0);
      j["cluster_id"] = Le64(p, 8);
      j["app_data_bytes"] = p.size() > 16 ? p.size() - 16 : 0;
      break;
    case RecordType::kEntry: {
      auto e = raftpb::DecodeEntry(p);
      if (e.ok()) {
        j["index"] = e->index.value();
        j["term"] = e->term.value();
        j["entry_type"] = std::string(EntryTypeName(e->type));
        j["data_bytes"] = e->data.size();
      } else {
        j["decode_error"] = e.status().ToString();
      }
      break;
    }
    case RecordType::kHardState: {
      auto hs = raftpb::DecodeHardState(p);
      if (hs.ok()) {
        j["term"] = hs->term.value();
        j["vote"] = hs->vote.value();
        j["commit"] = hs->commit.value();
      } else {
        j["decode_error"] = hs.status().ToString();
      }
      break;
    }
    case RecordType::kSnapshot:
      j["index"] = Le64(p, 0);
      j["term"] = Le64(p, 8);
      j["resets_log"] = (Le64(p, 16) & 1) != 0;
      break;
  }
  return j;
}

std::string RecordText(const json& j) {
  std::string s =
      fmt::format("{}@{:<8} batch {:<6}{} {:<9}", j["file"].get<std::string>(),
                  j["offset"].get<uint64_t>(), j["batch"].get<uint32_t>(),
                  j["last_in_batch"].get<bool>() ? "*" : " ", j["type"].get<std::string>());
  const std::string type = j["type"];
  if (j.contains("decode_error"))
    return s + " DECODE ERROR: " + j["decode_error"].get<std::string>();
  if (type == "entry") {
    s += fmt::format(" {}/{} {} {} B", j["term"].get<uint64_t>(), j["index"].get<uint64_t>(),
                     j["entry_type"].get<std::string>(), j["data_bytes"].get<size_t>());
  } else if (type == "hardstate") {
    s += fmt::format(" term {} vote {} commit {}", j["term"].get<uint64_t>(),
                     j["vote"].get<uint64_t>(), j["commit"].get<uint64_t>());
  } else if (type == "snapshot") {
    s += fmt::format(" index {} term {}{}", j["index"].get<uint64_t>(), j["term"].get<uint64_t>(),
                     j["resets_log"].get<bool>() ? " (resets log)" : "");
  } else if (type == "metadata") {
    s += fmt::format(" node {:x} cluster {:x} app data {} B", j["node_id"].get<uint64_t>(),
                     j["cluster_id"].get<uint64_t>(), j["app_data_bytes"].get<size_t>());
  } else if (type == "crc-chain") {
    s += fmt::format(" prev segment {} crc {:08x}", j["prev_seq"].get<uint64_t>(),
                     j["prev_crc"].get<uint32_t>());
  }
  return s;
}

json DamageJson(const storage::wal::Damage& d) {
  return {{"file", d.file},
          {"offset", d.offset},
          {"what", d.what},
          {"crash_tail", d.tail},
          {"final_batch_only", d.final_batch_only}};
}

std::string DamageText(const storage::wal::Damage& d) {
  std::string verdict =
      d.tail ? "a crash tail: opening the WAL truncates it"
             : (d.final_batch_only
                    ? "confined to the final batch: the WAL refuses to open; `repair` truncates it"
                    : "before the tail: the WAL refuses to open; `repair --accept-loss` would "
                      "lose acknowledged records");
  return fmt::format("DAMAGE {} offset {}: {} ({})", d.file, d.offset, d.what, verdict);
}

// Scans the WAL; fills `records` (JSON) and returns the damage, or an error.
Result<std::optional<storage::wal::Damage>> ScanWal(storage::Env* env, const std::string& dir,
                                                    json* records, json* summary) {
  uint64_t entries = 0, hardstates = 0, snapshots = 0;
  uint64_t first_index = 0, last_index = 0;
  json last_hs, last_snap;
  auto damage = storage::wal::Scan(env, dir, [&](const storage::wal::RecordInfo& r) {
    json j = RecordJson(r);
    if (r.type == RecordType::kEntry && j.contains("index")) {
      ++entries;
      const uint64_t i = j["index"];
      if (first_index == 0 || i < first_index) first_index = i;
      last_index = i;  // a lower index rewrites the log from there
    } else if (r.type == RecordType::kHardState && j.contains("term")) {
      ++hardstates;
      last_hs = {{"term", j["term"]}, {"vote", j["vote"]}, {"commit", j["commit"]}};
    } else if (r.type == RecordType::kSnapshot) {
      ++snapshots;
      last_snap = {{"index", j["index"]}, {"term", j["term"]}};
    }
    records->push_back(std::move(j));
  });
  if (!damage.ok()) return damage;
  auto segs = env->ListDir(dir);
  json seg_list = json::array();
  if (segs.ok()) {
    for (const auto& n : *segs) {
      if (n.size() > 4 && n.substr(n.size() - 4) == ".wal") seg_list.push_back(n);
    }
  }
  *summary = {{"dir", dir},
              {"segments", seg_list},
              {"records", records->size()},
              {"entry_records", entries},
              {"hardstate_records", hardstates},
              {"snapshot_markers", snapshots},
              {"first_entry_index", first_index},
              {"last_entry_index", last_index},
              {"last_hardstate", last_hs.is_null() ? json::object() : last_hs},
              {"last_snapshot_marker", last_snap.is_null() ? json::object() : last_snap}};
  return damage;
}

}  // namespace

int DumpWal(storage::Env* env, const std::string& dir, bool json_out, std::ostream& out) {
  json records = json::array();
  json summary;
  auto damage = ScanWal(env, dir, &records, &summary);
  if (!damage.ok()) {
    out << "error: " << damage.status().ToString() << "\n";
    return kFailed;
  }
  if (json_out) {
    json doc = {{"wal", summary}, {"records", records}};
    doc["damage"] = damage->has_value() ? DamageJson(**damage) : json(nullptr);
    out << doc.dump(2) << "\n";
  } else {
    out << "WAL " << dir << ": " << summary["segments"].size() << " segment(s), "
        << summary["records"].get<size_t>() << " valid record(s), entries "
        << summary["first_entry_index"].get<uint64_t>() << ".."
        << summary["last_entry_index"].get<uint64_t>() << "\n";
    for (const auto& j : records)
      out << RecordText(j) << "\n";
    if (damage->has_value())
      out << DamageText(**damage) << "\n";
    else
      out << "no damage: every record's CRC verifies and the segment chain is intact\n";
  }
  return damage->has_value() ? kDamaged : kClean;
}

namespace {

json SnapshotJson(storage::Env* env, const std::string& path, bool* ok) {
  const auto slash = path.find_last_of('/');
  storage::snap::Options o;
  o.env = env;
  o.dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  storage::snap::Snapshotter sn(o);
  json j = {{"file", path}};
  auto reader = sn.OpenReader(name);
  if (!reader.ok()) {
    j["error"] = reader.status().ToString();
    *ok = false;
    return j;
  }
  const auto& h = (*reader)->header();
  j["index"] = h.metadata.index.value();
  j["term"] = h.metadata.term.value();
  j["conf_state"] = raftpb::DescribeConfState(h.metadata.conf_state);
  j["data_bytes"] = h.data_size;
  std::string chunk;
  uint64_t read = 0;
  for (;;) {
    Status st = (*reader)->Next(&chunk);
    if (!st.ok()) {
      j["crc"] = "bad";
      j["error"] = st.ToString();
      *ok = false;
      return j;
    }
    if (chunk.empty()) break;
    read += chunk.size();
  }
  j["crc"] = "ok";
  j["data_bytes_read"] = read;
  *ok = true;
  return j;
}

std::string SnapshotText(const json& j) {
  std::string s = j["file"].get<std::string>() + ": ";
  if (j.contains("index")) {
    s += fmt::format("index {} term {} {} data {} B", j["index"].get<uint64_t>(),
                     j["term"].get<uint64_t>(), j["conf_state"].get<std::string>(),
                     j["data_bytes"].get<uint64_t>());
  }
  if (j.contains("error")) return s + " DAMAGED: " + j["error"].get<std::string>();
  return s + ", CRC ok";
}

}  // namespace

int DumpSnapshot(storage::Env* env, const std::string& path, bool json_out, std::ostream& out) {
  bool ok = false;
  json j = SnapshotJson(env, path, &ok);
  if (json_out) {
    out << j.dump(2) << "\n";
  } else {
    out << SnapshotText(j) << "\n";
  }
  return ok ? kClean : kDamaged;
}

int DumpDataDir(storage::Env* env, const std::string& dir, bool json_out, std::ostream& out) {
  const std::string wal_dir = storage::JoinPath(dir, "wal");
  const std::string snap_dir = storage::JoinPath(dir, "snap");
  json records = json::array();
  json summary;
  auto damage = ScanWal(env, wal_dir, &records, &summary);
  if (!damage.ok()) {
    out << "error: " << damage.status().ToString() << "\n";
    return kFailed;
  }
  int rc = damage->has_value() ? kDamaged : kClean;
  json snaps = json::array();
  auto names = env->ListDir(snap_dir);
  if (names.ok()) {
    for (const auto& n : *names) {
      if (n.size() < 5 || n.substr(n.size() - 5) != ".snap") continue;
      bool ok = false;
      snaps.push_back(SnapshotJson(env, storage::JoinPath(snap_dir, n), &ok));
      if (!ok) rc = kDamaged;
    }
  }
  if (json_out) {
    json doc = {{"dir", dir}, {"wal", summary}, {"snapshots", snaps}, {"records", records}};
    doc["damage"] = damage->has_value() ? DamageJson(**damage) : json(nullptr);
    out << doc.dump(2) << "\n";
    return rc;
  }
  out << "data directory " << dir << "\n";
  out << "  WAL: " << summary["segments"].size() << " segment(s), "
      << summary["records"].get<size_t>() << " record(s), entries "
      << summary["first_entry_index"].get<uint64_t>() << ".."
      << summary["last_entry_index"].get<uint64_t>() << ", last HardState "
      << summary["last_hardstate"].dump() << ", last snapshot marker "
      << summary["last_snapshot_marker"].dump() << "\n";
  if (damage->has_value()) out << "  " << DamageText(**damage) << "\n";
  out << "  snapshots: " << snaps.size() << "\n";
  for (const auto& s : snaps)
    out << "    " << SnapshotText(s) << "\n";
  return rc;
}

int RepairWal(storage::Env* env, const std::string& dir, bool accept_loss, std::ostream& out) {
  storage::wal::Options o;
  o.env = env;
  o.dir = dir;
  auto rep = storage::wal::Repair(o, accept_loss);
  if (!rep.ok()) {
    out << "repair refused: " << rep.status().ToString() << "\n";
    return kFailed;
  }
  out << (rep->changed ? "repaired: " : "nothing to repair: ") << rep->description << "\n";
  return kClean;
}

}  // namespace raftkit::tools
