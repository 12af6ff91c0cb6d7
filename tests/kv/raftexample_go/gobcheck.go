// gobcheck: Go's side of raftexample_codec_test. It encodes and decodes raftexample's kv struct
// and its JSON snapshot with Go's own encoding/gob and encoding/json, so the test can compare
// raftkit-kv's codec with them byte for byte.
//
// Input lines (hex fields):
//   kv <key> <val> <gob written by raftkit>            (an empty field is "-")
//       -> "<gob written by Go> <key decoded by Go> <val decoded by Go>" (or "ERR <reason>")
//   snap <json written by raftkit>
//       -> "<json written by Go for every kv seen so far> <1 if Go decodes raftkit's json to the
//          same map, else 0>"
package main

import (
	"bufio"
	"bytes"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
)

// The struct raftexample proposes (contrib/raftexample/kvstore.go).
type kv struct {
	Key string
	Val string
}

// Empty fields travel as "-".
func unhex(s string) []byte {
	if s == "-" {
		return nil
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad hex:", err)
		os.Exit(2)
	}
	return b
}

func tohex(b []byte) string {
	if len(b) == 0 {
		return "-"
	}
	return hex.EncodeToString(b)
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	store := map[string]string{}
	for in.Scan() {
		f := strings.Fields(in.Text())
		for len(f) < 4 {
			f = append(f, "")
		}
		switch f[0] {
		case "kv":
			k, v := string(unhex(f[1])), string(unhex(f[2]))
			store[k] = v
			var buf bytes.Buffer
			if err := gob.NewEncoder(&buf).Encode(kv{k, v}); err != nil {
				fmt.Fprintln(out, "ERR", err)
				continue
			}
			var got kv
			if err := gob.NewDecoder(bytes.NewReader(unhex(f[3]))).Decode(&got); err != nil {
				fmt.Fprintln(out, "ERR", strings.ReplaceAll(err.Error(), " ", "_"))
				continue
			}
			fmt.Fprintln(out, tohex(buf.Bytes()), tohex([]byte(got.Key)), tohex([]byte(got.Val)))
		case "snap":
			mine, _ := json.Marshal(store)
			var theirs map[string]string
			same := 0
			if err := json.Unmarshal(unhex(f[1]), &theirs); err == nil && reflect.DeepEqual(theirs, store) {
				same = 1
			}
			fmt.Fprintln(out, tohex(mine), same)
		}
		out.Flush()
	}
}
