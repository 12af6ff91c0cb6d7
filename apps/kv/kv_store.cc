#include "kv_store.h"

#include <iterator>
#include <mutex>
#include <sstream>

#include "raftexample_codec.h"

namespace raftkit::kv {
namespace {

void PutField(std::string* out, std::string_view f) {
  const auto n = static_cast<uint32_t>(f.size());
  for (int i = 3; i >= 0; --i)
    out->push_back(static_cast<char>(n >> (8 * i)));
  out->append(f);
}

bool TakeField(std::string_view* in, std::string_view* f) {
  if (in->size() < 4) return false;
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i)
    n = (n << 8) | static_cast<uint8_t>((*in)[static_cast<size_t>(i)]);
  in->remove_prefix(4);
  if (n > in->size()) return false;
  *f = in->substr(0, n);
  in->remove_prefix(n);
  return true;
}

std::string Outcome(bool ok, const std::optional<std::string>& v) {
  std::string out(1, ok ? 'Y' : 'N');
  if (v) {
    out.push_back('1');
    out.append(*v);
  } else {
    out.push_back('0');
  }
  return out;
}

}  // namespace

Result<std::string> KvStore::Apply(Index, std::string_view data) {
  if (format_ == Format::kRaftexample) {
    auto kv = DecodeRaftexampleKv(data);
    // raftexample itself stops on an entry it cannot decode; here only that entry fails.
    if (!kv.ok()) return Status(ErrorCode::kInvalidArgument, "malformed raftexample command");
    std::unique_lock<std::shared_mutex> l(mu_);
    std::optional<std::string> prev;
    auto [it, inserted] = kv_.try_emplace(std::move(kv.value().first));
    if (!inserted) prev = it->second;
    it->second = std::move(kv.value().second);
    return Outcome(true, prev);
  }
  if (data.empty()) return Status(ErrorCode::kInvalidArgument, "empty command");
  const char op = data[0];
  data.remove_prefix(1);
  std::string_view key, value, expect;
  bool well_formed = TakeField(&data, &key);
  if (op == 'P' || op == 'C') well_formed = well_formed && TakeField(&data, &value);
  if (op == 'C') well_formed = well_formed && TakeField(&data, &expect);
  if (!well_formed || !data.empty() || (op != 'P' && op != 'C' && op != 'D')) {
    // Every member refuses the same malformed entry the same way; the log moves on.
    return Status(ErrorCode::kInvalidArgument, "malformed command");
  }
  std::unique_lock<std::shared_mutex> l(mu_);
  auto it = kv_.find(std::string(key));
  std::optional<std::string> prev;
  if (it != kv_.end()) prev = it->second;
  if (op == 'C' && (!prev || *prev != expect)) return Outcome(false, prev);
  if (op == 'D') {
    if (it != kv_.end()) kv_.erase(it);
  } else {
    kv_[std::string(key)] = std::string(value);
  }
  return Outcome(true, prev);
}

Status KvStore::WriteSnapshot(std::ostream& out) {
  std::shared_lock<std::shared_mutex> l(mu_);
  if (format_ == Format::kRaftexample) {
    out << EncodeRaftexampleSnapshot(kv_);
  } else {
    std::string rec;
    for (const auto& [k, v] : kv_) {
      rec.clear();
      PutField(&rec, k);
      PutField(&rec, v);
      out.write(rec.data(), static_cast<std::streamsize>(rec.size()));
    }
  }
  if (!out) return Status(ErrorCode::kIoError, "kv snapshot: write failed");
  return Status::Ok();
}

Status KvStore::RestoreSnapshot(std::istream& in) {
  std::map<std::string, std::string> next;
  if (format_ == Format::kRaftexample) {
    const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto m = DecodeRaftexampleSnapshot(all);
    if (!m.ok()) return m.status();
    next = std::move(m).value();
  } else {
    // (key value)*, each a 4-byte big-endian length and the bytes.
    auto field = [&in](std::string* f) -> int {  // 1 read, 0 clean end, -1 truncated
      char len[4];
      in.read(len, 4);
      if (in.gcount() == 0) return 0;
      if (in.gcount() != 4) return -1;
      uint32_t n = 0;
      for (char c : len)
        n = (n << 8) | static_cast<uint8_t>(c);
      f->resize(n);
      in.read(f->data(), static_cast<std::streamsize>(n));
      return in.gcount() == static_cast<std::streamsize>(n) ? 1 : -1;
    };
    for (;;) {
      std::string k, v;
      const int got = field(&k);
      if (got == 0) break;
      if (got < 0 || field(&v) != 1)
        return Status(ErrorCode::kCorruption, "kv snapshot is truncated");
      next.emplace(std::move(k), std::move(v));
    }
  }
  std::unique_lock<std::shared_mutex> l(mu_);
  kv_.swap(next);
  return Status::Ok();
}

Result<std::string> KvStore::Snapshot() {
  std::ostringstream out(std::ios::binary);
  RAFTKIT_RETURN_IF_ERROR(WriteSnapshot(out));
  return std::move(out).str();
}

Status KvStore::Restore(std::string_view snapshot) {
  std::istringstream in(std::string(snapshot), std::ios::binary);
  return RestoreSnapshot(in);
}

std::optional<std::string> KvStore::Get(const std::string& key) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  auto it = kv_.find(key);
  if (it == kv_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::pair<std::string, std::string>> KvStore::List(const std::string& prefix,
                                                               size_t limit) const {
  std::shared_lock<std::shared_mutex> l(mu_);
  std::vector<std::pair<std::string, std::string>> out;
  for (auto it = kv_.lower_bound(prefix);
       it != kv_.end() && it->first.compare(0, prefix.size(), prefix) == 0 && out.size() < limit;
       ++it) {
    out.emplace_back(it->first, it->second);
  }
  return out;
}

size_t KvStore::size() const {
  std::shared_lock<std::shared_mutex> l(mu_);
  return kv_.size();
}

Result<std::string> KvStore::PutCommand(std::string_view key, std::string_view value,
                                        const std::optional<std::string>& expect) const {
  if (format_ == Format::kRaftexample) {
    if (expect) {
      return Status(ErrorCode::kInvalidArgument,
                    "compare-and-set is not available in raftexample's format");
    }
    return EncodeRaftexampleKv(key, value);
  }
  std::string out(1, expect ? 'C' : 'P');
  PutField(&out, key);
  PutField(&out, value);
  if (expect) PutField(&out, *expect);
  return out;
}

Result<std::string> KvStore::DeleteCommand(std::string_view key) const {
  if (format_ == Format::kRaftexample) {
    return Status(ErrorCode::kInvalidArgument, "delete is not available in raftexample's format");
  }
  std::string out(1, 'D');
  PutField(&out, key);
  return out;
}

Result<CommandResult> KvStore::ParseResult(std::string_view r) {
  if (r.size() < 2 || (r[0] != 'Y' && r[0] != 'N') || (r[1] != '0' && r[1] != '1')) {
    return Status(ErrorCode::kCorruption, "malformed command result");
  }
  CommandResult out;
  out.ok = r[0] == 'Y';
  if (r[1] == '1') out.value = std::string(r.substr(2));
  return out;
}

}  // namespace raftkit::kv
