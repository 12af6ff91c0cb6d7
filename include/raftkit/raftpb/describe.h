// Deterministic one-line descriptions of raftpb values, in the style of etcd's raft.Describe*
// printers, for logs, test expectations and scenario files.
//
//   DescribeEntry      "2/5 EntryNormal \"data\""            (term/index type payload)
//   DescribeMessage    "1->2 MsgApp Term:2 Log:2/5 Commit:5 Entries:[2/6 EntryNormal \"x\"]"
//   DescribeHardState  "Term:2 Vote:1 Commit:5"               (Vote omitted when 0)
//   DescribeConfState  "Voters:[1 2 3] VotersOutgoing:[] Learners:[] LearnersNext:[]
//   AutoLeave:false" DescribeSnapshot   "Index:10 Term:2 ConfState:<DescribeConfState>"
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "raftkit/raftpb/types.h"

namespace raftkit::raftpb {

/// Formats an entry payload. The default quotes it as Go's %q would ("" for null/empty).
using EntryFormatter = std::function<std::string(const Bytes& data)>;

/// Go %q-style quoting of arbitrary bytes: printable ASCII as is, `"` and `\` escaped, other bytes
/// as \n, \t, ... or \xNN.
std::string QuoteBytes(std::string_view data);

std::string DescribeEntry(const Entry& e, const EntryFormatter& f = nullptr);
std::string DescribeEntries(const std::vector<Entry>& ents, const EntryFormatter& f = nullptr);
std::string DescribeMessage(const Message& m, const EntryFormatter& f = nullptr);
std::string DescribeHardState(const HardState& hs);
std::string DescribeConfState(const ConfState& cs);
std::string DescribeSnapshot(const Snapshot& s);

}  // namespace raftkit::raftpb
