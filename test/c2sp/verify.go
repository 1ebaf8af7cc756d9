// An independent C2SP verifier, built from Go's golang.org/x/mod/sumdb/note and sumdb/tlog (Debian's
// golang-golang-x-mod-dev) by test/c2sp/go.test.ts at test time. Nothing of Gopy's code is used: it fetches a log's
// checkpoint over HTTP, verifies its signed note with the vkey it is given, reads the tlog-tiles hash tiles and
// entry bundles, and checks inclusion of every entry (leaf hash = SHA-256(0x00 || entry bytes), tlog.RecordHash) and
// consistency from an older checkpoint. Usage: verify <log base URL, ending in /> <vkey> [<older checkpoint file>]
// It prints one line "ok size=<n> root=<base64> inclusion=<k> consistency=<old>-><n>" or exits 1 with the reason.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", args...)
	os.Exit(1)
}

func get(url string) []byte {
	res, err := http.Get(url)
	if err != nil {
		fail("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		fail("GET %s: %v", url, err)
	}
	if res.StatusCode != 200 {
		fail("GET %s: HTTP %d %s", url, res.StatusCode, body)
	}
	return body
}

type checkpoint struct {
	origin string
	tree   tlog.Tree
}

// open verifies a checkpoint note and parses its body (tlog-checkpoint: origin, size, base64 root hash, extensions).
func open(msg []byte, verifier note.Verifier) checkpoint {
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fail("note.Open: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) < 3 {
		fail("checkpoint has %d lines", len(lines))
	}
	if lines[0] != verifier.Name() {
		fail("checkpoint origin %q is not the key name %q", lines[0], verifier.Name())
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 {
		fail("checkpoint size %q", lines[1])
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		fail("checkpoint root %q", lines[2])
	}
	var h tlog.Hash
	copy(h[:], root)
	return checkpoint{origin: lines[0], tree: tlog.Tree{N: size, Hash: h}}
}

// tiles reads C2SP tiles: Go's sumdb paths are tile/<H>/<L>/<N>[.p/<W>]; C2SP drops the height (always 8).
type tiles struct{ base string }

func (t tiles) Height() int { return 8 }

func (t tiles) ReadTiles(ts []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(ts))
	for i, tile := range ts {
		path := tile.Path()
		prefix := "tile/8/"
		if !strings.HasPrefix(path, prefix) {
			return nil, fmt.Errorf("unexpected tile path %s", path)
		}
		out[i] = get(t.base + "tile/" + strings.TrimPrefix(path, prefix))
	}
	return out, nil
}

func (t tiles) SaveTiles([]tlog.Tile, [][]byte) {}

// entries reads the entry bundles of [0, size): each entry is a big-endian uint16 length then its bytes.
func entries(base string, size int64) [][]byte {
	var out [][]byte
	for n := int64(0); n*256 < size; n++ {
		width := size - n*256
		path := tlog.Tile{H: 8, L: 0, N: n, W: 256}.Path()
		if width < 256 {
			path = tlog.Tile{H: 8, L: 0, N: n, W: int(width)}.Path()
		} else {
			width = 256
		}
		// the same N encoding as hash tiles, under tile/entries/
		bundle := get(base + "tile/entries/" + strings.TrimPrefix(path, "tile/8/0/"))
		r := bytes.NewReader(bundle)
		for i := int64(0); i < width; i++ {
			var length uint16
			if err := binary.Read(r, binary.BigEndian, &length); err != nil {
				fail("bundle %d: entry %d: %v", n, i, err)
			}
			entry := make([]byte, length)
			if _, err := io.ReadFull(r, entry); err != nil {
				fail("bundle %d: entry %d: %v", n, i, err)
			}
			out = append(out, entry)
		}
		if r.Len() != 0 {
			fail("bundle %d has %d bytes after its %d entries", n, r.Len(), width)
		}
	}
	return out
}

func main() {
	if len(os.Args) < 3 {
		fail("usage: verify <log base URL/> <vkey> [<older checkpoint file>]")
	}
	base, vkey := os.Args[1], os.Args[2]
	verifier, err := note.NewVerifier(vkey)
	if err != nil {
		fail("note.NewVerifier: %v", err)
	}
	served := get(base + "checkpoint")
	cp := open(served, verifier)

	// a note whose signature was tampered with must not verify
	tampered := bytes.Replace(served, []byte("\n\n"), []byte("\nx\n\n"), 1)
	if _, err := note.Open(tampered, note.VerifierList(verifier)); err == nil {
		fail("a tampered checkpoint verified")
	}

	reader := tlog.TileHashReader(cp.tree, tiles{base})
	root, err := tlog.TreeHash(cp.tree.N, reader)
	if err != nil {
		fail("TreeHash: %v", err)
	}
	if root != cp.tree.Hash {
		fail("tiles hash to %v, checkpoint says %v", root, cp.tree.Hash)
	}

	all := entries(base, cp.tree.N)
	for i, entry := range all {
		leaf := tlog.RecordHash(entry)
		stored, err := reader.ReadHashes([]int64{tlog.StoredHashIndex(0, int64(i))})
		if err != nil {
			fail("ReadHashes(%d): %v", i, err)
		}
		if stored[0] != leaf {
			fail("entry %d hashes to %v, its tile says %v", i, leaf, stored[0])
		}
		proof, err := tlog.ProveRecord(cp.tree.N, int64(i), reader)
		if err != nil {
			fail("ProveRecord(%d): %v", i, err)
		}
		if err := tlog.CheckRecord(proof, cp.tree.N, cp.tree.Hash, int64(i), leaf); err != nil {
			fail("CheckRecord(%d): %v", i, err)
		}
	}
	if len(all) > 0 {
		wrong := tlog.RecordHash(append(all[0], ' '))
		proof, _ := tlog.ProveRecord(cp.tree.N, 0, reader)
		if tlog.CheckRecord(proof, cp.tree.N, cp.tree.Hash, 0, wrong) == nil {
			fail("a changed entry was proved included")
		}
	}

	consistency := "none"
	if len(os.Args) > 3 {
		msg, err := os.ReadFile(os.Args[3])
		if err != nil {
			fail("read %s: %v", os.Args[3], err)
		}
		old := open(msg, verifier)
		proof, err := tlog.ProveTree(cp.tree.N, old.tree.N, reader)
		if err != nil {
			fail("ProveTree(%d, %d): %v", cp.tree.N, old.tree.N, err)
		}
		if err := tlog.CheckTree(proof, cp.tree.N, cp.tree.Hash, old.tree.N, old.tree.Hash); err != nil {
			fail("CheckTree(%d, %d): %v", cp.tree.N, old.tree.N, err)
		}
		consistency = fmt.Sprintf("%d->%d", old.tree.N, cp.tree.N)
	}
	fmt.Printf("ok origin=%s size=%d root=%s inclusion=%d consistency=%s\n",
		cp.origin, cp.tree.N, base64.StdEncoding.EncodeToString(cp.tree.Hash[:]), len(all), consistency)
}
