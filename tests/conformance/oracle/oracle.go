// Command oracle runs conformance step scripts (docs/conformance.md) against
// etcd's own raft package (etcd 3.4, Debian's golang-etcd-server-dev) and
// prints the canonical text output that raftkit's C++ runner is diffed against.
//
// Usage:
//
//	oracle [-v] <script-file>
//	oracle [-v] -batch <file>
//
// -v reports the value of every recovered panic on stderr (stdout is unchanged).
//
// Build (GOPATH mode, no network):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=/tmp/oracle-gocache \
//	  go build -o /tmp/etcd-oracle tests/conformance/oracle/oracle.go
package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"log"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"

	"go.etcd.io/etcd/raft"
	pb "go.etcd.io/etcd/raft/raftpb"
)

var verbose bool

// ---------------------------------------------------------------------------
// Formatting

// fmtBytes prints a byte string: "-" for nil, `""` for present but empty,
// lower-case hex otherwise.
func fmtBytes(b []byte) string {
	if b == nil {
		return "-"
	}
	if len(b) == 0 {
		return `""`
	}
	return hex.EncodeToString(b)
}

func fmtIDs(ids []uint64) string {
	var sb strings.Builder
	sb.WriteByte('[')
	for i, id := range ids {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(strconv.FormatUint(id, 10))
	}
	sb.WriteByte(']')
	return sb.String()
}

func fmtConfState(cs pb.ConfState) string {
	return fmt.Sprintf("voters=%s learners=%s outgoing=%s learners_next=%s autoleave=%t",
		fmtIDs(cs.Voters), fmtIDs(cs.Learners), fmtIDs(cs.VotersOutgoing),
		fmtIDs(cs.LearnersNext), cs.AutoLeave)
}

func fmtEntry(e pb.Entry) string {
	return fmt.Sprintf("%s %d/%d %s", e.Type, e.Term, e.Index, fmtBytes(e.Data))
}

func fmtSnapshot(s pb.Snapshot) string {
	return fmt.Sprintf("%d/%d %s data=%s", s.Metadata.Index, s.Metadata.Term,
		fmtConfState(s.Metadata.ConfState), fmtBytes(s.Data))
}

func fmtMessage(m pb.Message) string {
	snap := "none"
	if !raft.IsEmptySnap(m.Snapshot) {
		snap = fmtSnapshot(m.Snapshot)
	}
	ents := make([]string, len(m.Entries))
	for i, e := range m.Entries {
		ents[i] = fmtEntry(e)
	}
	return fmt.Sprintf("%s %d->%d term=%d logterm=%d index=%d commit=%d reject=%t hint=%d ctx=%s snap=%s ents=[%s]",
		m.Type, m.From, m.To, m.Term, m.LogTerm, m.Index, m.Commit, m.Reject, m.RejectHint,
		fmtBytes(m.Context), snap, strings.Join(ents, "; "))
}

func errName(err error) string {
	switch err {
	case raft.ErrProposalDropped:
		return "ProposalDropped"
	case raft.ErrStepLocalMsg:
		return "StepLocalMsg"
	case raft.ErrStepPeerNotFound:
		return "StepPeerNotFound"
	case raft.ErrCompacted:
		return "Compacted"
	case raft.ErrSnapOutOfDate:
		return "SnapOutOfDate"
	case raft.ErrUnavailable:
		return "Unavailable"
	case raft.ErrSnapshotTemporarilyUnavailable:
		return "SnapshotTemporarilyUnavailable"
	}
	return "Other"
}

// ---------------------------------------------------------------------------
// Deep copies: a message put on the pending queue must not alias memory that
// etcd or MemoryStorage may later overwrite (MemoryStorage.Append reuses its
// backing array). nil stays nil and empty stays empty.

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

func cloneIDs(ids []uint64) []uint64 {
	if ids == nil {
		return nil
	}
	return append([]uint64{}, ids...)
}

func cloneConfState(cs pb.ConfState) pb.ConfState {
	cs.Voters = cloneIDs(cs.Voters)
	cs.Learners = cloneIDs(cs.Learners)
	cs.VotersOutgoing = cloneIDs(cs.VotersOutgoing)
	cs.LearnersNext = cloneIDs(cs.LearnersNext)
	return cs
}

func cloneMessage(m pb.Message) pb.Message {
	if m.Entries != nil {
		ents := make([]pb.Entry, len(m.Entries))
		for i, e := range m.Entries {
			e.Data = cloneBytes(e.Data)
			ents[i] = e
		}
		m.Entries = ents
	}
	m.Context = cloneBytes(m.Context)
	m.Snapshot.Data = cloneBytes(m.Snapshot.Data)
	m.Snapshot.Metadata.ConfState = cloneConfState(m.Snapshot.Metadata.ConfState)
	return m
}

// ---------------------------------------------------------------------------
// The environment of one script

type node struct {
	id      uint64
	rn      *raft.RawNode
	storage *raft.MemoryStorage
	applied uint64
	cs      pb.ConfState
}

type env struct {
	out *bytes.Buffer

	configured bool
	prevote    bool
	checkQ     bool
	leaseRead  bool
	maxSize    uint64
	maxInfl    int
	maxUncomm  uint64
	maxCommRdy uint64
	noForward  bool
	election   int
	heartbeat  int

	nodes map[uint64]*node
	queue []pb.Message
}

var discardLogger = &raft.DefaultLogger{Logger: log.New(ioutil.Discard, "", 0)}

func (e *env) printf(format string, args ...interface{}) {
	fmt.Fprintf(e.out, format, args...)
}

func (e *env) raftConfig(id uint64, st *raft.MemoryStorage, applied uint64) *raft.Config {
	ro := raft.ReadOnlySafe
	if e.leaseRead {
		ro = raft.ReadOnlyLeaseBased
	}
	return &raft.Config{
		ID:                        id,
		ElectionTick:              e.election,
		HeartbeatTick:             e.heartbeat,
		Storage:                   st,
		Applied:                   applied,
		MaxSizePerMsg:             e.maxSize,
		MaxCommittedSizePerReady:  e.maxCommRdy,
		MaxUncommittedEntriesSize: e.maxUncomm,
		MaxInflightMsgs:           e.maxInfl,
		CheckQuorum:               e.checkQ,
		PreVote:                   e.prevote,
		ReadOnlyOption:            ro,
		Logger:                    discardLogger,
		DisableProposalForwarding: e.noForward,
	}
}

// parseError aborts a script whose text is malformed (not an etcd panic).
type parseError struct{ msg string }

func bad(format string, args ...interface{}) {
	panic(parseError{fmt.Sprintf(format, args...)})
}

func parseU64(s string) uint64 {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		bad("bad number %q", s)
	}
	return v
}

func parseBool01(s string) bool {
	switch s {
	case "0":
		return false
	case "1":
		return true
	}
	bad("bad flag %q (want 0 or 1)", s)
	return false
}

// parseHex: "-" is nil, `""` is a present empty string, else hex.
func parseHex(s string) []byte {
	switch s {
	case "-":
		return nil
	case `""`:
		return []byte{}
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		bad("bad hex %q", s)
	}
	return b
}

func nargs(args []string, min, max int) {
	if len(args) < min || len(args) > max {
		bad("wrong number of arguments")
	}
}

// lookup returns the node or prints "no such node" and returns nil.
func (e *env) lookup(s string) *node {
	id := parseU64(s)
	n := e.nodes[id]
	if n == nil {
		e.printf("no such node\n")
	}
	return n
}

func (e *env) printErr(err error) {
	if err != nil {
		e.printf("error: %s\n", errName(err))
	}
}

func (e *env) doConfig(args []string) {
	if e.configured {
		bad("config given twice")
	}
	e.configured = true
	e.maxSize = math.MaxUint64
	e.maxInfl = 256
	e.election = 10
	e.heartbeat = 1
	nodes := uint64(0)
	haveNodes := false
	for _, a := range args {
		kv := strings.SplitN(a, "=", 2)
		if len(kv) != 2 {
			bad("bad config option %q", a)
		}
		k, v := kv[0], kv[1]
		switch k {
		case "nodes":
			nodes = parseU64(v)
			haveNodes = true
		case "prevote":
			e.prevote = parseBool01(v)
		case "checkquorum":
			e.checkQ = parseBool01(v)
		case "readonly":
			switch v {
			case "safe":
				e.leaseRead = false
			case "lease":
				e.leaseRead = true
			default:
				bad("bad readonly %q", v)
			}
		case "maxsizepermsg":
			e.maxSize = parseU64(v)
		case "maxinflight":
			e.maxInfl = int(parseU64(v))
		case "maxuncommitted":
			e.maxUncomm = parseU64(v)
		case "maxcommittedperready":
			e.maxCommRdy = parseU64(v)
		case "disableforwarding":
			e.noForward = parseBool01(v)
		case "election":
			e.election = int(parseU64(v))
		case "heartbeat":
			e.heartbeat = int(parseU64(v))
		default:
			bad("unknown config option %q", k)
		}
	}
	if !haveNodes {
		bad("config needs nodes=N")
	}
	peers := make([]raft.Peer, nodes)
	for i := range peers {
		peers[i] = raft.Peer{ID: uint64(i + 1)}
	}
	for id := uint64(1); id <= nodes; id++ {
		st := raft.NewMemoryStorage()
		rn, err := raft.NewRawNode(e.raftConfig(id, st, 0))
		if err != nil {
			panic(err)
		}
		if err := rn.Bootstrap(peers); err != nil {
			panic(err)
		}
		e.nodes[id] = &node{id: id, rn: rn, storage: st}
	}
}

func (e *env) doReady(n *node) {
	if !n.rn.HasReady() {
		e.printf("no ready\n")
		return
	}
	rd := n.rn.Ready()

	e.printf("ready %d\n", n.id)
	if rd.SoftState != nil {
		e.printf("  soft lead=%d state=%s\n", rd.SoftState.Lead, rd.SoftState.RaftState)
	}
	if !raft.IsEmptyHardState(rd.HardState) {
		e.printf("  hard term=%d vote=%d commit=%d\n", rd.HardState.Term, rd.HardState.Vote, rd.HardState.Commit)
	}
	if len(rd.Entries) > 0 {
		e.printf("  entries:\n")
		for _, ent := range rd.Entries {
			e.printf("    %s\n", fmtEntry(ent))
		}
	}
	if !raft.IsEmptySnap(rd.Snapshot) {
		e.printf("  snapshot %s\n", fmtSnapshot(rd.Snapshot))
	}
	if len(rd.CommittedEntries) > 0 {
		e.printf("  committed:\n")
		for _, ent := range rd.CommittedEntries {
			e.printf("    %s\n", fmtEntry(ent))
		}
	}
	if len(rd.Messages) > 0 {
		e.printf("  messages:\n")
		for _, m := range rd.Messages {
			e.printf("    %s\n", fmtMessage(m))
		}
	}
	if len(rd.ReadStates) > 0 {
		e.printf("  read-states:\n")
		for _, rs := range rd.ReadStates {
			e.printf("    index=%d ctx=%s\n", rs.Index, fmtBytes(rs.RequestCtx))
		}
	}
	e.printf("  must-sync=%t\n", rd.MustSync)

	// Handle it.
	if !raft.IsEmptySnap(rd.Snapshot) {
		// The error (ErrSnapOutOfDate) is not part of the output.
		_ = n.storage.ApplySnapshot(rd.Snapshot)
		n.applied = rd.Snapshot.Metadata.Index
		n.cs = cloneConfState(rd.Snapshot.Metadata.ConfState)
	}
	_ = n.storage.Append(rd.Entries)
	if !raft.IsEmptyHardState(rd.HardState) {
		_ = n.storage.SetHardState(rd.HardState)
	}
	for _, m := range rd.Messages {
		e.queue = append(e.queue, cloneMessage(m))
	}
	for _, ent := range rd.CommittedEntries {
		n.applied = ent.Index
		var cci pb.ConfChangeI
		switch ent.Type {
		case pb.EntryConfChange:
			var cc pb.ConfChange
			if err := cc.Unmarshal(ent.Data); err != nil {
				panic(err)
			}
			cci = cc
		case pb.EntryConfChangeV2:
			var cc pb.ConfChangeV2
			if err := cc.Unmarshal(ent.Data); err != nil {
				panic(err)
			}
			cci = cc
		default:
			continue
		}
		cs := n.rn.ApplyConfChange(cci)
		n.cs = cloneConfState(*cs)
		e.printf("  applied-cc %d %s\n", ent.Index, fmtConfState(n.cs))
	}
	n.rn.Advance(rd)
}

func (e *env) doStatus(n *node) {
	s := n.rn.Status()
	e.printf("status %d term=%d vote=%d commit=%d lead=%d state=%s applied=%d transferee=%d\n",
		n.id, s.Term, s.Vote, s.Commit, s.Lead, s.RaftState, s.Applied, s.LeadTransferee)
	if s.RaftState != raft.StateLeader {
		return
	}
	ids := make([]uint64, 0, len(s.Progress))
	for id := range s.Progress {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		pr := s.Progress[id]
		infl := 0
		if pr.Inflights != nil {
			infl = pr.Inflights.Count()
		}
		e.printf("  progress %d match=%d next=%d state=%s pending=%d active=%t probe-sent=%t inflight=%d learner=%t\n",
			id, pr.Match, pr.Next, pr.State, pr.PendingSnapshot, pr.RecentActive, pr.ProbeSent, infl, pr.IsLearner)
	}
}

func parseCCv1Type(s string) pb.ConfChangeType {
	switch s {
	case "add":
		return pb.ConfChangeAddNode
	case "remove":
		return pb.ConfChangeRemoveNode
	case "update":
		return pb.ConfChangeUpdateNode
	case "learner":
		return pb.ConfChangeAddLearnerNode
	}
	bad("bad conf change type %q", s)
	return 0
}

func parseTransition(s string) pb.ConfChangeTransition {
	switch s {
	case "auto":
		return pb.ConfChangeTransitionAuto
	case "implicit":
		return pb.ConfChangeTransitionJointImplicit
	case "explicit":
		return pb.ConfChangeTransitionJointExplicit
	}
	bad("bad transition %q", s)
	return 0
}

// run executes one command; cmd is the command's words.
func (e *env) run(words []string) {
	cmd, args := words[0], words[1:]
	if !e.configured && cmd != "config" {
		bad("the first command must be config")
	}
	switch cmd {
	case "config":
		e.doConfig(args)
	case "add-node":
		nargs(args, 1, 1)
		id := parseU64(args[0])
		st := raft.NewMemoryStorage()
		rn, err := raft.NewRawNode(e.raftConfig(id, st, 0))
		if err != nil {
			panic(err)
		}
		e.nodes[id] = &node{id: id, rn: rn, storage: st}
	case "campaign":
		nargs(args, 1, 1)
		if n := e.lookup(args[0]); n != nil {
			e.printErr(n.rn.Campaign())
		}
	case "propose":
		nargs(args, 2, 2)
		data := parseHex(args[1])
		if n := e.lookup(args[0]); n != nil {
			e.printErr(n.rn.Propose(data))
		}
	case "propose-cc-v1":
		nargs(args, 4, 5)
		cc := pb.ConfChange{
			ID:     parseU64(args[1]),
			Type:   parseCCv1Type(args[2]),
			NodeID: parseU64(args[3]),
		}
		if len(args) == 5 {
			cc.Context = parseHex(args[4])
		}
		if n := e.lookup(args[0]); n != nil {
			e.printErr(n.rn.ProposeConfChange(cc))
		}
	case "propose-cc-v2":
		nargs(args, 2, 1<<30)
		cc := pb.ConfChangeV2{Transition: parseTransition(args[1])}
		for _, a := range args[2:] {
			if strings.HasPrefix(a, "ctx=") {
				cc.Context = parseHex(a[len("ctx="):])
				continue
			}
			if len(a) < 2 {
				bad("bad change %q", a)
			}
			var t pb.ConfChangeType
			switch a[0] {
			case 'v':
				t = pb.ConfChangeAddNode
			case 'l':
				t = pb.ConfChangeAddLearnerNode
			case 'r':
				t = pb.ConfChangeRemoveNode
			case 'u':
				t = pb.ConfChangeUpdateNode
			default:
				bad("bad change %q", a)
			}
			cc.Changes = append(cc.Changes, pb.ConfChangeSingle{Type: t, NodeID: parseU64(a[1:])})
		}
		if n := e.lookup(args[0]); n != nil {
			e.printErr(n.rn.ProposeConfChange(cc))
		}
	case "tick":
		nargs(args, 1, 1)
		if n := e.lookup(args[0]); n != nil {
			n.rn.Tick()
		}
	case "ready":
		nargs(args, 1, 1)
		if n := e.lookup(args[0]); n != nil {
			e.doReady(n)
		}
	case "deliver", "drop":
		nargs(args, 1, 1)
		k := parseU64(args[0])
		if k >= uint64(len(e.queue)) {
			e.printf("no such message\n")
			return
		}
		m := e.queue[k]
		e.queue = append(e.queue[:k], e.queue[k+1:]...)
		if cmd == "drop" {
			return
		}
		e.printf("deliver %s\n", fmtMessage(m))
		n := e.nodes[m.To]
		if n == nil {
			e.printf("no such node\n")
			return
		}
		e.printErr(n.rn.Step(m))
	case "report-unreachable":
		nargs(args, 2, 2)
		peer := parseU64(args[1])
		if n := e.lookup(args[0]); n != nil {
			n.rn.ReportUnreachable(peer)
		}
	case "report-snapshot":
		nargs(args, 3, 3)
		peer := parseU64(args[1])
		var st raft.SnapshotStatus
		switch args[2] {
		case "ok":
			st = raft.SnapshotFinish
		case "fail":
			st = raft.SnapshotFailure
		default:
			bad("bad snapshot status %q", args[2])
		}
		if n := e.lookup(args[0]); n != nil {
			n.rn.ReportSnapshot(peer, st)
		}
	case "read-index":
		nargs(args, 2, 2)
		ctx := parseHex(args[1])
		if n := e.lookup(args[0]); n != nil {
			n.rn.ReadIndex(ctx)
		}
	case "transfer-leader":
		nargs(args, 2, 2)
		target := parseU64(args[1])
		if n := e.lookup(args[0]); n != nil {
			n.rn.TransferLeader(target)
		}
	case "snapshot":
		nargs(args, 1, 1)
		if n := e.lookup(args[0]); n != nil {
			cs := cloneConfState(n.cs)
			data := []byte("snap@" + strconv.FormatUint(n.applied, 10))
			if _, err := n.storage.CreateSnapshot(n.applied, &cs, data); err != nil {
				e.printErr(err)
			} else {
				e.printf("ok\n")
			}
		}
	case "compact":
		nargs(args, 2, 2)
		idx := parseU64(args[1])
		if n := e.lookup(args[0]); n != nil {
			if err := n.storage.Compact(idx); err != nil {
				e.printErr(err)
			} else {
				e.printf("ok\n")
			}
		}
	case "restart":
		nargs(args, 1, 1)
		if n := e.lookup(args[0]); n != nil {
			// A restarted process rebuilds its state machine from the latest snapshot and
			// lets raft hand out the committed entries after it again.
			snap, err := n.storage.Snapshot()
			if err != nil {
				panic(err)
			}
			n.applied = snap.Metadata.Index
			n.cs = snap.Metadata.ConfState
			rn, err := raft.NewRawNode(e.raftConfig(n.id, n.storage, n.applied))
			if err != nil {
				panic(err)
			}
			n.rn = rn
		}
	case "status":
		nargs(args, 1, 1)
		if n := e.lookup(args[0]); n != nil {
			e.doStatus(n)
		}
	default:
		bad("unknown command %q", cmd)
	}
}

// step runs one command, turning a panic into ok=false. A parse error is
// re-raised as such.
func (e *env) step(words []string) (ok bool, perr *parseError) {
	defer func() {
		if r := recover(); r != nil {
			if p, isParse := r.(parseError); isParse {
				perr = &p
				return
			}
			if verbose {
				fmt.Fprintf(os.Stderr, "oracle: recovered panic: %v\n", r)
				if _, isRuntime := r.(runtime.Error); isRuntime {
					os.Stderr.Write(debug.Stack())
				}
			}
			ok = false
		}
	}()
	e.run(words)
	return true, nil
}

// runScript runs one script and appends its output to out.
func runScript(script string, out *bytes.Buffer) {
	e := &env{out: out, nodes: map[uint64]*node{}}
	n := 0
	for _, raw := range strings.Split(script, "\n") {
		line := raw
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		n++
		e.printf("> %d %s\n", n, line)
		ok, perr := e.step(strings.Fields(line))
		if perr != nil {
			e.printf("PARSE ERROR: %s\n", perr.msg)
			return
		}
		if !ok {
			e.printf("PANIC\n")
			return
		}
	}
}

func main() {
	raft.SetLogger(discardLogger) // MemoryStorage logs (and panics) through the global logger
	log.SetOutput(ioutil.Discard)

	batch := flag.String("batch", "", "file of scripts, each introduced by a line `=== <name>`")
	flag.BoolVar(&verbose, "v", false, "report recovered panics on stderr")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: oracle [-v] <script-file>\n       oracle [-v] -batch <file>\n")
	}
	flag.Parse()

	w := bufio.NewWriterSize(os.Stdout, 1<<16)
	defer w.Flush()

	if *batch != "" {
		if flag.NArg() != 0 {
			flag.Usage()
			os.Exit(2)
		}
		data, err := ioutil.ReadFile(*batch)
		if err != nil {
			fmt.Fprintln(os.Stderr, "oracle:", err)
			os.Exit(1)
		}
		if err := runBatch(string(data), w); err != nil {
			fmt.Fprintln(os.Stderr, "oracle:", err)
			os.Exit(1)
		}
		return
	}
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	data, err := ioutil.ReadFile(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "oracle:", err)
		os.Exit(1)
	}
	var out bytes.Buffer
	runScript(string(data), &out)
	if _, err := w.Write(out.Bytes()); err != nil {
		os.Exit(1)
	}
}

// runBatch splits the batch at separator lines ("=== <name>", or "===" alone
// for an empty name) and runs each script. The name is the rest of the line
// after "=== " (a trailing CR is removed). Text before the first separator is
// ignored.
func runBatch(data string, w io.Writer) error {
	lines := strings.Split(data, "\n")
	var out bytes.Buffer
	name := ""
	var body []string
	started := false
	flush := func() error {
		if !started {
			return nil
		}
		out.Reset()
		out.WriteString("=== " + name + "\n")
		runScript(strings.Join(body, "\n"), &out)
		_, err := w.Write(out.Bytes())
		return err
	}
	for _, l := range lines {
		l = strings.TrimSuffix(l, "\r")
		if l == "===" || strings.HasPrefix(l, "=== ") {
			if err := flush(); err != nil {
				return err
			}
			started = true
			name = strings.TrimPrefix(strings.TrimPrefix(l, "==="), " ")
			body = body[:0]
			continue
		}
		body = append(body, l)
	}
	if err := flush(); err != nil {
		return err
	}
	if !started && strings.TrimSpace(data) != "" {
		return errors.New("batch file has no `=== <name>` line")
	}
	return nil
}
