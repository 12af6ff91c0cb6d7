// Server: a Raft member as an application embeds it (the goraft-style API on top of the core).
//
// A Server owns one RawNode, a DiskStorage (its data directory), a rafthttp Transport with its
// peer listener, the tick timer and the Ready loop (docs/ready_loop.md), and an applier thread that
// hands committed commands to the application's StateMachine in log order. The application
// proposes commands (Propose, or Do with commands registered by name) and gets back, through a
// future, what its StateMachine returned for them once they are committed and applied on this
// member.
//
// Threads: the Ready loop (owns the RawNode and the storage's write side), the applier (calls the
// StateMachine), the transport's threads (hand received messages to the Ready loop). Every public
// method is thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "raftkit/core/types.h"
#include "raftkit/transport/http/tls.h"
#include "raftkit/transport/rafthttp/transport.h"
#include "raftkit/util/ids.h"
#include "raftkit/util/logger.h"
#include "raftkit/util/status.h"

namespace prometheus {
class Registry;
}

namespace raftkit::server {

/// The application's replicated state. Called on the applier thread only, one call at a time.
class StateMachine {
 public:
  virtual ~StateMachine() = default;
  /// Applies the committed command `data` at `index` and returns its result (handed to the
  /// proposer's future on the member that proposed it). An error is a result too: it fails that
  /// proposal's future but the log moves on (every member gets the same error).
  virtual Result<std::string> Apply(Index index, std::string_view data) = 0;
  /// Writes the whole state, as of the last applied command, to `out`. (The server collects it in
  /// memory before it goes to the snapshot file and to peers.)
  virtual Status WriteSnapshot(std::ostream& out) = 0;
  /// Replaces the whole state by what WriteSnapshot wrote (on this or another member), read from
  /// `in` to its end.
  virtual Status RestoreSnapshot(std::istream& in) = 0;
};

/// Applies a named command's arguments (goraft's Command.Apply), on the applier thread, in log
/// order with everything else. Every member must register the same commands.
using CommandHandler = std::function<Result<std::string>(Index index, std::string_view args)>;

/// How a named command is written into an entry and recognised again. The default writes a 4-byte
/// tag "RKC1", the name's length (one byte) and name, then the arguments as they are.
class CommandCodec {
 public:
  virtual ~CommandCodec() = default;
  [[nodiscard]] virtual std::string Encode(std::string_view name, std::string_view args) const;
  /// The name and arguments of an entry written by Encode; nullopt for anything else (which goes
  /// to StateMachine::Apply).
  [[nodiscard]] virtual std::optional<std::pair<std::string, std::string_view>> Decode(
      std::string_view data) const;
};

/// A member of the cluster as the server knows it.
struct Member {
  NodeId id;
  std::vector<std::string> peer_urls;
  bool learner = false;
  /// Where the application serves its clients, as the member advertised it (empty until then).
  std::vector<std::string> client_urls;
};

/// How proposals, membership changes and snapshots are laid out in the log. Every member of a
/// cluster must use the same one.
enum class LogFormat {
  /// raftkit's own. A proposal's entry carries a request id, so the proposer finds its caller
  /// again. Membership changes are ConfChangeV2, with the member's record (JSON) as context.
  /// Snapshots hold the member table and the state machine's bytes.
  kRaftkit,
  /// etcd's contrib/raftexample. An entry holds the application's bytes and nothing else; the
  /// proposer matches applied entries to waiting callers by content. Membership changes are
  /// ConfChange (v1), with the member's peer URL as context. Snapshots hold the state machine's
  /// bytes only; peer URLs come from `initial_members` and the changes' contexts. Pair it with
  /// rafthttp::SnapshotMode::kInline, pre_vote = false and check_quorum = false to behave as a
  /// raftexample member does.
  kRaftexample,
};

struct ServerOptions {
  NodeId id;
  uint64_t cluster_id = 0x1000;
  std::string data_dir;
  /// Where this member serves its peers (rafthttp): host and port of the listener.
  std::string peer_listen_address = "127.0.0.1";
  uint16_t peer_listen_port = 0;
  /// This member's advertised peer URLs (sent to peers); default: http://<listen address>:<port>.
  std::vector<std::string> advertise_peer_urls;
  /// Where the application serves clients; published into the member table (a ConfChange
  /// UpdateNode once a leader is known), so that every member can point clients at the leader.
  /// Not with LogFormat::kRaftexample, whose members could not apply it.
  std::vector<std::string> advertise_client_urls;
  /// Where this member dials a peer instead of the peer's advertised URLs: address translation,
  /// or a fault-injecting proxy in the chaos tests. The member table keeps the advertised URLs.
  std::map<NodeId, std::vector<std::string>> peer_dial_urls;
  /// The same by advertised URL: a peer advertising a key is dialed at its value instead (for
  /// members that join later, whose ids are not known when this member starts). A peer in
  /// `peer_dial_urls` is dialed as that says.
  std::map<std::string, std::string> peer_dial_by_url;
  /// The initial members (including this one) for a new data directory, unless `join`.
  std::vector<Member> initial_members;
  /// A new member joining a running cluster: it starts empty and learns everything from the
  /// leader (the members must have added it first).
  bool join = false;

  /// Timing (defaults suit a LAN): a tick every `heartbeat_interval`, an election after
  /// `election_timeout` without a leader (rounded to ticks).
  std::chrono::milliseconds heartbeat_interval{100};
  std::chrono::milliseconds election_timeout{1000};
  /// kElectionTimeoutThreshold fires when a heartbeat round trip passes this fraction of the
  /// election timeout (goraft's ElectionTimeoutThresholdPercent).
  double election_timeout_threshold = 0.8;
  /// A proposal or read not answered within this fails with kTimeout.
  std::chrono::milliseconds request_timeout{5000};
  /// Proposals accepted but not yet applied; beyond it Propose fails at once with kOverloaded.
  size_t max_pending_proposals = 8192;
  /// A snapshot every this many applied entries (0: never); this many entries stay in the log
  /// behind it for slow followers.
  uint64_t snapshot_count = 10000;
  uint64_t snapshot_catchup_entries = 5000;
  /// Raft's PreVote and CheckQuorum (both on by default; raftexample runs without them).
  bool pre_vote = true;
  bool check_quorum = true;
  LogFormat log_format = LogFormat::kRaftkit;

  StateMachine* state_machine = nullptr;  ///< required; must outlive the server
  /// How Do() encodes named commands; null: CommandCodec's default.
  std::shared_ptr<const CommandCodec> command_codec;
  rafthttp::SnapshotMode snapshot_mode = rafthttp::SnapshotMode::kSnapshotEndpoint;
  std::optional<http::TlsServerConfig> peer_tls;
  std::optional<http::TlsClientConfig> peer_client_tls;
  std::shared_ptr<prometheus::Registry> metrics;
  Logger* logger = nullptr;
};

/// What a server looks like now.
struct ServerStatus {
  NodeId id;
  NodeId leader;
  raft::StateType state = raft::StateType::kFollower;
  Term term;
  NodeId voted_for;
  Index commit_index;
  Index applied_index;
  std::vector<Member> members;

  /// goraft's names for the same facts.
  [[nodiscard]] size_t MemberCount() const { return members.size(); }
  /// Votes a decision needs: a majority of the voters (learners do not vote).
  [[nodiscard]] size_t QuorumSize() const {
    size_t voters = 0;
    for (const auto& m : members)
      voters += m.learner ? 0 : 1;
    return voters / 2 + 1;
  }
  /// The other members.
  [[nodiscard]] std::vector<Member> Peers() const {
    std::vector<Member> out;
    for (const auto& m : members) {
      if (m.id != id) out.push_back(m);
    }
    return out;
  }
};

/// Events (goraft's names): state and leader changes, term changes, commits (applied entries),
/// members added and removed, and on a leader the heartbeats answered by each follower and the
/// warning that a follower's heartbeat round trip came near the election timeout.
enum class EventType {
  kStateChange,
  kLeaderChange,
  kTermChange,
  kCommit,
  kAddPeer,
  kRemovePeer,
  /// A follower answered a heartbeat (leader only): value = its id, duration = the round trip.
  kHeartbeat,
  /// A follower's heartbeat round trip, or its silence since an unanswered heartbeat, passed
  /// `election_timeout_threshold` of the election timeout (leader only; at most once per
  /// follower per ten election timeouts): value = its id, duration = the round trip or silence.
  /// Such a follower may start elections of its own.
  kElectionTimeoutThreshold,
};
struct Event {
  EventType type;
  uint64_t value = 0;       ///< new state (StateType), leader id, term, applied index, member id
  uint64_t prev_value = 0;  ///< the value before, where it has one
  std::chrono::microseconds duration{0};  ///< kHeartbeat, kElectionTimeoutThreshold
};
using EventListener = std::function<void(const Event&)>;

/// Completions of the asynchronous Propose and LinearizableRead. They run on one of the server's
/// threads (the applier's, or the Ready loop's for failures, or the caller's when the request
/// fails at once) and must be quick: hand the result on, do not block.
using ProposalCallback = std::function<void(Result<std::string>)>;
using ReadCallback = std::function<void(Status)>;

class Server {
 public:
  /// Opens (or creates) the data directory, restores the state machine from the newest snapshot,
  /// starts the peer listener, the transport and the loops. Errors: kInvalidArgument (options),
  /// kAlreadyExists (the directory is in use), kCorruption, kIoError.
  static Result<std::unique_ptr<Server>> Start(ServerOptions options);
  ~Server();  ///< Stop()s.
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Stops the loops, the transport and the listener, fails pending requests with kStopped, and
  /// closes the storage. Idempotent.
  void Stop();

  /// Proposes `data`; the future holds the StateMachine's result for it once applied here, or an
  /// error: kNotLeader (no leader known), kTimeout, kStopped, kOverloaded, or kProposalDropped
  /// (leadership moved while the proposal was in flight and it was not in the new leader's log
  /// when this member applied the new leader's first entry). After kTimeout and kProposalDropped
  /// the outcome is unknown: the command may still be applied.
  std::future<Result<std::string>> Propose(std::string data);
  /// Propose, with `done` called once with what the future would hold (see ProposalCallback).
  void Propose(std::string data, ProposalCallback done);
  /// Propose and wait.
  Result<std::string> ProposeAndWait(std::string data);

  /// Registers `handler` for commands named `name` (at most 255 bytes); replaces an earlier one.
  /// Register on every member, before the commands can be applied there (before Start's log
  /// replay is not possible, so register right after Start; entries of unknown commands fail
  /// with kInvalidArgument on that member).
  void RegisterCommand(std::string name, CommandHandler handler);
  /// Proposes the named command with `args`; the future holds its handler's result once applied
  /// here. Errors as Propose, and kInvalidArgument for a name that is not registered here.
  std::future<Result<std::string>> Do(std::string_view name, std::string_view args);

  /// Waits until this member's state reflects every write committed before the call (ReadIndex,
  /// then the applied index catching up); then reads of the state machine are linearizable.
  /// Errors: kNotLeader (no leader), kTimeout, kStopped.
  Status LinearizableRead();
  /// LinearizableRead without blocking: `done` gets its status (see ReadCallback).
  void LinearizableRead(ReadCallback done);

  /// Membership through ConfChangeV2; each returns once the change is applied here.
  Status AddMember(const Member& member);
  Status PromoteMember(NodeId id);
  Status RemoveMember(NodeId id);
  /// Takes a snapshot of everything applied here now, as `snapshot_count` would, and compacts the
  /// log behind it (keeping `snapshot_catchup_entries`); returns once the snapshot is saved.
  /// Ok at once when nothing was applied since the last one. Errors: kStopped, kTimeout (not saved
  /// within `timeout`), and the state machine's or the disk's error.
  Status Snapshot(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  /// Moves leadership to `to` and waits until it leads. Call it on the leader, or on `to` itself
  /// (which asks the leader); elsewhere kNotLeader, since Raft's transfer request names its
  /// sender as the transferee. kTimeout when leadership did not move within `timeout`.
  Status TransferLeadership(NodeId to, std::chrono::milliseconds timeout);

  [[nodiscard]] ServerStatus GetStatus() const;
  [[nodiscard]] NodeId Leader() const;
  [[nodiscard]] bool IsLeader() const;
  [[nodiscard]] std::string PeerUrl() const;  ///< the peer listener's URL
  [[nodiscard]] std::string TransportStats() const;

  void AddListener(EventListener listener);

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace raftkit::server
