// Command tlogcheck checks the ledger's Merkle log with Go's checksum-database code
// (golang.org/x/mod/sumdb/tlog and sumdb/note), written independently of the Python that
// builds and signs the log, so the tests hold each against the other.
//
// It reads one JSON job on stdin and writes one JSON answer on stdout. Hashes and leaf data
// are standard base64 with padding.
//
//	tlogcheck [check]  open a signed checkpoint (C2SP signed-note and tlog-checkpoint) with a
//	                   verifier key, then check inclusion and consistency proofs against it
//	tlogcheck vectors  build a tree from leaf data with tlog's stored hashes; answer every
//	                   root and the inclusion and consistency proofs asked for
//	tlogcheck sign     sign a note body with a signer key (for tests)
//	tlogcheck keygen   make a signer and a verifier key for a name (for tests)
//
// Exit status: 0 when every check passed, 1 when one failed (the answer says which and why),
// 2 when the job is malformed or the mode unknown (the message on stderr).
package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const usage = "usage: tlogcheck [check|vectors|sign|keygen] < job.json"

// b64 is strict: a hash or leaf has one encoding, so a non-canonical one (stray bits in the
// last character, missing padding) is refused instead of read as the same bytes.
var b64 = base64.StdEncoding.Strict()

func main() {
	mode := "check"
	if len(os.Args) > 2 {
		exit(2, usage)
	}
	if len(os.Args) == 2 {
		mode = os.Args[1]
	}
	var (
		answer any
		ok     bool
		err    error
	)
	switch mode {
	case "check":
		var job checkJob
		if err = readJob(&job); err == nil {
			answer, ok, err = runCheck(job)
		}
	case "vectors":
		var job vectorsJob
		if err = readJob(&job); err == nil {
			answer, err = runVectors(job)
			ok = true
		}
	case "sign":
		var job signJob
		if err = readJob(&job); err == nil {
			answer, err = runSign(job)
			ok = true
		}
	case "keygen":
		var job keygenJob
		if err = readJob(&job); err == nil {
			answer, err = runKeygen(job)
			ok = true
		}
	default:
		exit(2, fmt.Sprintf("tlogcheck: unknown mode %q\n%s", mode, usage))
	}
	if err != nil {
		exit(2, "tlogcheck "+mode+": "+err.Error())
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(answer); err != nil {
		exit(2, "tlogcheck: writing the answer: "+err.Error())
	}
	if !ok {
		os.Exit(1)
	}
}

func exit(code int, msg string) {
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(code)
}

// readJob decodes exactly one JSON object from stdin into job, refusing unknown fields (a
// misspelt field would otherwise be a check silently not made).
func readJob(job any) error {
	dec := json.NewDecoder(os.Stdin)
	dec.DisallowUnknownFields()
	if err := dec.Decode(job); err != nil {
		return fmt.Errorf("the job is not the expected JSON object: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("the job has more after its JSON object")
	}
	return nil
}

func decodeHash(text, where string) (tlog.Hash, error) {
	raw, err := b64.DecodeString(text)
	if err != nil {
		return tlog.Hash{}, fmt.Errorf("%s: not standard base64: %v", where, err)
	}
	if len(raw) != tlog.HashSize {
		return tlog.Hash{}, fmt.Errorf("%s: %d bytes, not %d", where, len(raw), tlog.HashSize)
	}
	return tlog.Hash(raw), nil
}

func decodeProof(texts []string, where string) ([]tlog.Hash, error) {
	if texts == nil {
		return nil, fmt.Errorf("%s: missing (an empty proof is [])", where)
	}
	proof := make([]tlog.Hash, len(texts))
	for i, text := range texts {
		h, err := decodeHash(text, fmt.Sprintf("%s[%d]", where, i))
		if err != nil {
			return nil, err
		}
		proof[i] = h
	}
	return proof, nil
}

func encodeHashes(hashes []tlog.Hash) []string {
	out := make([]string, len(hashes))
	for i, h := range hashes {
		out[i] = b64.EncodeToString(h[:])
	}
	return out
}

// -- check ---------------------------------------------------------------------------------

type checkJob struct {
	VKey        string           `json:"vkey"`
	Checkpoint  string           `json:"checkpoint"`
	Inclusion   []inclusionJob   `json:"inclusion"`
	Consistency []consistencyJob `json:"consistency"`
}

type inclusionJob struct {
	Index    *int64   `json:"index"`
	Leaf     *string  `json:"leaf"`
	LeafHash *string  `json:"leafHash"`
	Proof    []string `json:"proof"`
}

type consistencyJob struct {
	Size  *int64   `json:"size"`
	Root  *string  `json:"root"`
	Proof []string `json:"proof"`
}

type checkpointAnswer struct {
	OK     bool    `json:"ok"`
	Origin string  `json:"origin"`
	Size   int64   `json:"size"`
	Root   string  `json:"root"`
	Error  *string `json:"error"`
}

type proofAnswer struct {
	OK    bool    `json:"ok"`
	Error *string `json:"error"`
}

type checkAnswer struct {
	Checkpoint  checkpointAnswer `json:"checkpoint"`
	Inclusion   []proofAnswer    `json:"inclusion"`
	Consistency []proofAnswer    `json:"consistency"`
}

type inclusion struct {
	index    int64
	leafHash tlog.Hash
	proof    tlog.RecordProof
}

type consistency struct {
	size  int64
	root  tlog.Hash
	proof tlog.TreeProof
}

func answerOf(err error) proofAnswer {
	if err == nil {
		return proofAnswer{OK: true}
	}
	msg := err.Error()
	return proofAnswer{Error: &msg}
}

// runCheck reads the whole job before checking anything, so a malformed part is reported as
// such rather than as a failed check.
func runCheck(job checkJob) (checkAnswer, bool, error) {
	if job.VKey == "" || job.Checkpoint == "" {
		return checkAnswer{}, false, fmt.Errorf("vkey and checkpoint are required")
	}
	verifier, err := note.NewVerifier(job.VKey)
	if err != nil {
		return checkAnswer{}, false, fmt.Errorf("vkey %q: %v", job.VKey, err)
	}
	inclusions := make([]inclusion, len(job.Inclusion))
	for i, in := range job.Inclusion {
		where := fmt.Sprintf("inclusion[%d]", i)
		if in.Index == nil {
			return checkAnswer{}, false, fmt.Errorf("%s.index: missing", where)
		}
		inclusions[i].index = *in.Index
		switch {
		case (in.Leaf == nil) == (in.LeafHash == nil):
			return checkAnswer{}, false, fmt.Errorf("%s: give either leaf or leafHash", where)
		case in.Leaf != nil:
			data, err := b64.DecodeString(*in.Leaf)
			if err != nil {
				return checkAnswer{}, false, fmt.Errorf("%s.leaf: not standard base64: %v", where, err)
			}
			inclusions[i].leafHash = tlog.RecordHash(data)
		default:
			if inclusions[i].leafHash, err = decodeHash(*in.LeafHash, where+".leafHash"); err != nil {
				return checkAnswer{}, false, err
			}
		}
		if inclusions[i].proof, err = decodeProof(in.Proof, where+".proof"); err != nil {
			return checkAnswer{}, false, err
		}
	}
	consistencies := make([]consistency, len(job.Consistency))
	for i, c := range job.Consistency {
		where := fmt.Sprintf("consistency[%d]", i)
		if c.Size == nil || c.Root == nil {
			return checkAnswer{}, false, fmt.Errorf("%s: size and root are required", where)
		}
		consistencies[i].size = *c.Size
		if consistencies[i].root, err = decodeHash(*c.Root, where+".root"); err != nil {
			return checkAnswer{}, false, err
		}
		if consistencies[i].proof, err = decodeProof(c.Proof, where+".proof"); err != nil {
			return checkAnswer{}, false, err
		}
	}

	answer := checkAnswer{
		Inclusion:   make([]proofAnswer, len(inclusions)),
		Consistency: make([]proofAnswer, len(consistencies)),
	}
	tree, err := openCheckpoint(job.Checkpoint, verifier, &answer.Checkpoint)
	if err != nil {
		msg := err.Error()
		answer.Checkpoint.Error = &msg
		unchecked := answerOf(errors.New("not checked: the checkpoint did not verify"))
		for i := range answer.Inclusion {
			answer.Inclusion[i] = unchecked
		}
		for i := range answer.Consistency {
			answer.Consistency[i] = unchecked
		}
		return answer, false, nil
	}
	answer.Checkpoint.OK = true
	ok := true
	for i, in := range inclusions {
		answer.Inclusion[i] = answerOf(tlog.CheckRecord(in.proof, tree.N, tree.Hash, in.index, in.leafHash))
		ok = ok && answer.Inclusion[i].OK
	}
	for i, c := range consistencies {
		answer.Consistency[i] = answerOf(tlog.CheckTree(c.proof, tree.N, tree.Hash, c.size, c.root))
		ok = ok && answer.Consistency[i].OK
	}
	return answer, ok, nil
}

// openCheckpoint verifies the note's signature by the verifier and reads its text as a C2SP
// tlog-checkpoint, filling in as much of the answer as it could read. tlog.ParseTree is not
// used: it reads only the checksum database's own notes, whose first line is fixed.
func openCheckpoint(text string, verifier note.Verifier, answer *checkpointAnswer) (tlog.Tree, error) {
	n, err := note.Open([]byte(text), note.VerifierList(verifier))
	if err != nil {
		return tlog.Tree{}, fmt.Errorf("note: %w", err)
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) < 3 {
		return tlog.Tree{}, fmt.Errorf("checkpoint: %d lines, not origin, size and root hash", len(lines))
	}
	answer.Origin = lines[0]
	if lines[0] != verifier.Name() {
		return tlog.Tree{}, fmt.Errorf("checkpoint: origin %q is not the key's name %q", lines[0], verifier.Name())
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || lines[1] != strconv.FormatInt(size, 10) {
		return tlog.Tree{}, fmt.Errorf("checkpoint: size %q is not a decimal without leading zeros", lines[1])
	}
	answer.Size = size
	root, err := b64.DecodeString(lines[2])
	if err != nil {
		return tlog.Tree{}, fmt.Errorf("checkpoint: root hash %q is not canonical standard base64: %v", lines[2], err)
	}
	if len(root) != tlog.HashSize {
		return tlog.Tree{}, fmt.Errorf("checkpoint: root hash %q is %d bytes, not %d", lines[2], len(root), tlog.HashSize)
	}
	answer.Root = lines[2]
	// C2SP tlog-checkpoint: extension lines follow, each non-empty; their meaning is not ours.
	for _, line := range lines[3:] {
		if line == "" {
			return tlog.Tree{}, errors.New("checkpoint: an empty extension line")
		}
	}
	return tlog.Tree{N: size, Hash: tlog.Hash(root)}, nil
}

// -- vectors -------------------------------------------------------------------------------

type vectorsJob struct {
	Leaves      []string  `json:"leaves"`
	Inclusion   [][]int64 `json:"inclusion"`
	Consistency [][]int64 `json:"consistency"`
}

type vectorsAnswer struct {
	Roots       []string   `json:"roots"`
	Inclusion   [][]string `json:"inclusion"`
	Consistency [][]string `json:"consistency"`
}

// runVectors builds the tree as the checksum database stores it: each record appends its
// tlog.StoredHashes at index StoredHashIndex(0, n), reading earlier ones back to complete
// subtrees. Roots and proofs are then read through the same HashReader.
func runVectors(job vectorsJob) (vectorsAnswer, error) {
	leaves := make([][]byte, len(job.Leaves))
	for i, text := range job.Leaves {
		data, err := b64.DecodeString(text)
		if err != nil {
			return vectorsAnswer{}, fmt.Errorf("leaves[%d]: not standard base64: %v", i, err)
		}
		leaves[i] = data
	}
	n := int64(len(leaves))
	for i, pair := range job.Inclusion {
		if len(pair) != 2 || pair[0] < 0 || pair[0] >= pair[1] || pair[1] > n {
			return vectorsAnswer{}, fmt.Errorf("inclusion[%d]: %v is not [index, size] with 0 <= index < size <= %d", i, pair, n)
		}
	}
	for i, pair := range job.Consistency {
		if len(pair) != 2 || pair[0] < 1 || pair[0] > pair[1] || pair[1] > n {
			return vectorsAnswer{}, fmt.Errorf("consistency[%d]: %v is not [old, new] with 1 <= old <= new <= %d", i, pair, n)
		}
	}

	var stored []tlog.Hash
	reader := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			if x < 0 || x >= int64(len(stored)) {
				return nil, fmt.Errorf("stored hash %d is not stored yet (%d are)", x, len(stored))
			}
			out[i] = stored[x]
		}
		return out, nil
	})
	for i, data := range leaves {
		if at := tlog.StoredHashIndex(0, int64(i)); at != int64(len(stored)) {
			return vectorsAnswer{}, fmt.Errorf("record %d: its hashes belong at %d, %d are stored", i, at, len(stored))
		}
		hashes, err := tlog.StoredHashes(int64(i), data, reader)
		if err != nil {
			return vectorsAnswer{}, fmt.Errorf("record %d: %w", i, err)
		}
		stored = append(stored, hashes...)
	}

	answer := vectorsAnswer{
		Roots:       make([]string, n),
		Inclusion:   make([][]string, len(job.Inclusion)),
		Consistency: make([][]string, len(job.Consistency)),
	}
	for size := int64(1); size <= n; size++ {
		root, err := tlog.TreeHash(size, reader)
		if err != nil {
			return vectorsAnswer{}, fmt.Errorf("root of size %d: %w", size, err)
		}
		answer.Roots[size-1] = b64.EncodeToString(root[:])
	}
	for i, pair := range job.Inclusion {
		proof, err := tlog.ProveRecord(pair[1], pair[0], reader)
		if err != nil {
			return vectorsAnswer{}, fmt.Errorf("inclusion[%d]: %w", i, err)
		}
		answer.Inclusion[i] = encodeHashes(proof)
	}
	for i, pair := range job.Consistency {
		proof, err := tlog.ProveTree(pair[1], pair[0], reader)
		if err != nil {
			return vectorsAnswer{}, fmt.Errorf("consistency[%d]: %w", i, err)
		}
		answer.Consistency[i] = encodeHashes(proof)
	}
	return answer, nil
}

// -- sign and keygen -----------------------------------------------------------------------

type signJob struct {
	SKey string `json:"skey"`
	Text string `json:"text"`
}

type keygenJob struct {
	Name string `json:"name"`
}

func runSign(job signJob) (map[string]string, error) {
	signer, err := note.NewSigner(job.SKey)
	if err != nil {
		return nil, fmt.Errorf("skey: %v", err)
	}
	msg, err := note.Sign(&note.Note{Text: job.Text}, signer)
	if err != nil {
		return nil, fmt.Errorf("text: %v", err)
	}
	return map[string]string{"note": string(msg)}, nil
}

func runKeygen(job keygenJob) (map[string]string, error) {
	skey, vkey, err := note.GenerateKey(rand.Reader, job.Name)
	if err != nil {
		return nil, fmt.Errorf("name %q: %v", job.Name, err)
	}
	return map[string]string{"skey": skey, "vkey": vkey}, nil
}
