// rafthttp-peer runs one etcd 3.4 rafthttp Transport (Debian's golang-etcd-server-dev, GOPATH
// mode) and drives it over stdin/stdout, so that raftkit's live interop test
// (tests/interop/rafthttp_live_test.cc) can talk to real etcd code.
//
// Protocol: one JSON object per line in each direction. Byte strings (marshalled raftpb.Message)
// are standard base64. Only events go to stdout (one line each, written whole); logs go to stderr.
//
// Commands (stdin):
//
//	{"op":"add_peer","id":2,"urls":["http://127.0.0.1:1234"]}
//	{"op":"remove_peer","id":2}
//	{"op":"send","msgs":["<b64>",...]}
//	{"op":"send_snapshot","msg":"<b64 MsgSnap>","size":N,"seed":S}   data byte i = (i*31+S) & 0xff
//	{"op":"mark_removed","id":2}                                     IsIDRemoved(2) is true from now
//	{"op":"status"}
//	{"op":"stop"}                                                    also on end of stdin
//
// Events (stdout):
//
//	{"ev":"ready","url":"http://127.0.0.1:<port>"}
//	{"ev":"recv","msg":"<b64>"}                       every Process of a message other than MsgSnap
//	{"ev":"snap","msg":"<b64>","size":N,"sha256":"<hex>"}  every MsgSnap: the db file received over
//	                                                  /raft/snapshot if one exists for its index,
//	                                                  otherwise the inline snapshot.data
//	{"ev":"snapshot_sent","to":N,"ok":bool}           a send_snapshot finished (CloseNotify)
//	{"ev":"unreachable","id":N}
//	{"ev":"report_snapshot","id":N,"ok":bool}
//	{"ev":"critical","error":"<text>"}                anything arriving on ErrorC
//	{"ev":"status","active":{"<id>":bool,...},"active_peers":N}
//	{"ev":"stopped"}
//
// A malformed command is a bug in the driver: the program logs it and exits with status 2.
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"go.etcd.io/etcd/etcdserver/api/rafthttp"
	"go.etcd.io/etcd/etcdserver/api/snap"
	stats "go.etcd.io/etcd/etcdserver/api/v2stats"
	"go.etcd.io/etcd/pkg/types"
	"go.etcd.io/etcd/raft"
	"go.etcd.io/etcd/raft/raftpb"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

var stdoutMu sync.Mutex

// emit writes one event line. os.Stdout is unbuffered, so the line is flushed by the single
// Write; the mutex keeps lines from different goroutines whole.
func emit(ev map[string]interface{}) {
	b, err := json.Marshal(ev)
	if err != nil {
		fatalf("encoding event %v: %v", ev, err)
	}
	b = append(b, '\n')
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	if _, err := os.Stdout.Write(b); err != nil {
		// The driver went away; nobody is left to read events.
		os.Exit(1)
	}
}

func fatalf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "rafthttp-peer: "+format+"\n", args...)
	os.Exit(2)
}

func b64(m *raftpb.Message) string {
	b, err := m.Marshal()
	if err != nil {
		fatalf("marshalling a received message: %v", err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// ---------------------------------------------------------------------------------------------
// The fake Raft: records every call as an event
// ---------------------------------------------------------------------------------------------

type recordingRaft struct {
	snapDir string

	mu      sync.Mutex
	removed map[uint64]bool
}

func (r *recordingRaft) Process(_ context.Context, m raftpb.Message) error {
	if m.Type != raftpb.MsgSnap {
		emit(map[string]interface{}{"ev": "recv", "msg": b64(&m)})
		return nil
	}
	// etcd's snapshot handler saves the db to <dir>/<index %016x>.snap.db before calling Process;
	// the pipeline never writes a file, so its absence means the snapshot came inline.
	path := filepath.Join(r.snapDir, fmt.Sprintf("%016x.snap.db", m.Snapshot.Metadata.Index))
	size, sum, err := hashFile(path)
	if errors.Is(err, os.ErrNotExist) {
		h := sha256.Sum256(m.Snapshot.Data)
		size, sum, err = int64(len(m.Snapshot.Data)), hex.EncodeToString(h[:]), nil
	}
	if err != nil {
		return fmt.Errorf("hashing the received snapshot: %v", err)
	}
	emit(map[string]interface{}{"ev": "snap", "msg": b64(&m), "size": size, "sha256": sum})
	return nil
}

func (r *recordingRaft) IsIDRemoved(id uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.removed[id]
}

func (r *recordingRaft) markRemoved(id uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removed[id] = true
}

func (r *recordingRaft) ReportUnreachable(id uint64) {
	emit(map[string]interface{}{"ev": "unreachable", "id": id})
}

func (r *recordingRaft) ReportSnapshot(id uint64, status raft.SnapshotStatus) {
	emit(map[string]interface{}{"ev": "report_snapshot", "id": id, "ok": status == raft.SnapshotFinish})
}

func hashFile(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}

// ---------------------------------------------------------------------------------------------
// Snapshot data: a deterministic pattern both sides can recompute
// ---------------------------------------------------------------------------------------------

// patternReader yields `left` bytes where byte i is (i*31 + seed) & 0xff.
type patternReader struct {
	pos, left uint64
	seed      uint64
}

func (p *patternReader) Read(buf []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	n := uint64(len(buf))
	if n > p.left {
		n = p.left
	}
	for i := uint64(0); i < n; i++ {
		buf[i] = byte((p.pos+i)*31 + p.seed)
	}
	p.pos += n
	p.left -= n
	return int(n), nil
}

func (p *patternReader) Close() error { return nil }

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

type command struct {
	Op   string   `json:"op"`
	ID   uint64   `json:"id"`
	URLs []string `json:"urls"`
	Msgs []string `json:"msgs"`
	Msg  string   `json:"msg"`
	Size int64    `json:"size"`
	Seed uint64   `json:"seed"`
}

func decodeMessage(s string) raftpb.Message {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		fatalf("bad base64 %q: %v", s, err)
	}
	var m raftpb.Message
	if err := m.Unmarshal(b); err != nil {
		fatalf("bad raftpb.Message %q: %v", s, err)
	}
	return m
}

type peer struct {
	tr     *rafthttp.Transport
	raft   *recordingRaft
	server *http.Server
	added  map[uint64]bool // only touched by the command loop
}

func (p *peer) stop() {
	p.tr.Stop()
	p.server.Close()
	emit(map[string]interface{}{"ev": "stopped"})
}

// run executes commands until "stop" or the end of stdin.
func (p *peer) run(in io.Reader) {
	sc := bufio.NewScanner(in)
	// A send of many messages (or an inline snapshot) makes long lines.
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		var c command
		if err := json.Unmarshal(line, &c); err != nil {
			fatalf("bad command %q: %v", line, err)
		}
		switch c.Op {
		case "add_peer":
			if _, err := types.NewURLs(c.URLs); err != nil {
				fatalf("add_peer %d: bad urls %v: %v", c.ID, c.URLs, err)
			}
			p.tr.AddPeer(types.ID(c.ID), c.URLs)
			p.added[c.ID] = true
		case "remove_peer":
			if !p.added[c.ID] {
				fatalf("remove_peer %d: not a peer", c.ID)
			}
			p.tr.RemovePeer(types.ID(c.ID))
			delete(p.added, c.ID)
		case "send":
			msgs := make([]raftpb.Message, 0, len(c.Msgs))
			for _, s := range c.Msgs {
				msgs = append(msgs, decodeMessage(s))
			}
			p.tr.Send(msgs)
		case "send_snapshot":
			m := decodeMessage(c.Msg)
			if m.Type != raftpb.MsgSnap || c.Size < 0 {
				fatalf("send_snapshot needs a MsgSnap and a size >= 0: %q", line)
			}
			sm := snap.NewMessage(m, &patternReader{left: uint64(c.Size), seed: c.Seed}, c.Size)
			go func(to uint64) {
				ok := <-sm.CloseNotify()
				emit(map[string]interface{}{"ev": "snapshot_sent", "to": to, "ok": ok})
			}(m.To)
			p.tr.SendSnapshot(*sm)
		case "mark_removed":
			p.raft.markRemoved(c.ID)
		case "status":
			active := map[string]bool{}
			for id := range p.added {
				active[strconv.FormatUint(id, 10)] = !p.tr.ActiveSince(types.ID(id)).IsZero()
			}
			emit(map[string]interface{}{"ev": "status", "active": active,
				"active_peers": p.tr.ActivePeers()})
		case "stop":
			p.stop()
			os.Exit(0)
		default:
			fatalf("unknown op in %q", line)
		}
	}
	if err := sc.Err(); err != nil {
		fatalf("reading stdin: %v", err)
	}
	p.stop()
}

// ---------------------------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------------------------

func newLogger(level string) *zap.Logger {
	var l zapcore.Level
	if err := l.Set(level); err != nil {
		fatalf("--log-level: %v", err)
	}
	cfg := zap.NewProductionConfig()
	cfg.Level = zap.NewAtomicLevelAt(l)
	cfg.OutputPaths = []string{"stderr"}
	cfg.ErrorOutputPaths = []string{"stderr"}
	lg, err := cfg.Build()
	if err != nil {
		fatalf("building the logger: %v", err)
	}
	return lg
}

func main() {
	id := flag.Uint64("id", 0, "this member's id (decimal, non-zero)")
	clusterID := flag.Uint64("cluster-id", 0, "the cluster id (decimal)")
	listen := flag.String("listen", "127.0.0.1:0", "address to serve the peer handler on (port 0 picks one)")
	snapDir := flag.String("snap-dir", "", "directory for snapshots received over /raft/snapshot")
	advertise := flag.Bool("advertise", false, "send our URL as X-PeerURLs")
	dialTimeout := flag.Duration("dial-timeout", time.Second, "rafthttp dial timeout")
	logLevel := flag.String("log-level", "info", "zap level of the logs on stderr")
	flag.Parse()
	if *id == 0 || *snapDir == "" {
		fatalf("--id (non-zero) and --snap-dir are required")
	}
	if err := os.MkdirAll(*snapDir, 0o755); err != nil {
		fatalf("--snap-dir: %v", err)
	}
	lg := newLogger(*logLevel)

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fatalf("listen %s: %v", *listen, err)
	}
	url := "http://" + ln.Addr().String()

	rr := &recordingRaft{snapDir: *snapDir, removed: map[uint64]bool{}}
	idStr := types.ID(*id).String()
	tr := &rafthttp.Transport{
		Logger:      lg,
		DialTimeout: *dialTimeout,
		ID:          types.ID(*id),
		ClusterID:   types.ID(*clusterID),
		Raft:        rr,
		Snapshotter: snap.New(lg, *snapDir),
		ServerStats: stats.NewServerStats("rafthttp-peer", idStr),
		LeaderStats: stats.NewLeaderStats(idStr),
		ErrorC:      make(chan error, 16),
	}
	if *advertise {
		tr.URLs = types.MustNewURLs([]string{url})
	}
	if err := tr.Start(); err != nil {
		fatalf("starting the transport: %v", err)
	}
	go func() {
		for err := range tr.ErrorC {
			emit(map[string]interface{}{"ev": "critical", "error": err.Error()})
		}
	}()

	server := &http.Server{Handler: tr.Handler()}
	go func() {
		if err := server.Serve(ln); err != nil && err != http.ErrServerClosed {
			fatalf("serving: %v", err)
		}
	}()
	emit(map[string]interface{}{"ev": "ready", "url": url})

	p := &peer{tr: tr, raft: rr, server: server, added: map[uint64]bool{}}
	p.run(os.Stdin)
}
