package dedup

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Journal identification: the header line's "journal" and "version".
// Version 2 added held copies ("held") and the "purged" state; version 1
// journals are still read.
const (
	journalKind       = "embedsearch-dedup"
	JournalVersion    = 2
	minJournalVersion = 1
)

// Header is a journal's first line.
type Header struct {
	Journal string    `json:"journal"`
	Version int       `json:"version"`
	Created time.Time `json:"created"`
	Op      Op        `json:"op"`
	// Roots and MoveTo bound what Undo may touch.
	Roots  []string `json:"roots"`
	MoveTo string   `json:"move_to,omitempty"`
	// Store is the store the groups came from (informational).
	Store string `json:"store,omitempty"`
}

// Record states of an action.
const (
	StateBegin  = "begin"  // about to act; written and fsynced first
	StateDone   = "done"   // the action completed
	StateFailed = "failed" // the action failed; the file is as it was
	// StatePurged: the held copy of the action's file was released by
	// Purge (written before the copy is removed).
	StatePurged = "purged"
)

// hookHeld is the testHook point between holding a file's bytes and
// linking it.
const hookHeld = "held"

// Record is one journal line after the header.
type Record struct {
	Seq   int    `json:"seq"`
	State string `json:"state"`
	Op    Op     `json:"op,omitempty"`
	// Src is the duplicate (links resolved); Dst the new path (move), the
	// keeper (links) or the file in the trash (trash).
	Src   string    `json:"src,omitempty"`
	Dst   string    `json:"dst,omitempty"`
	Size  int64     `json:"size,omitempty"`
	MTime time.Time `json:"mtime,omitzero"`
	Mode  uint32    `json:"mode,omitempty"`
	// SHA256 is the duplicate's content; KeeperSHA256 the keeper's (links).
	SHA256       string `json:"sha256,omitempty"`
	KeeperSHA256 string `json:"keeper_sha256,omitempty"`
	// Held names the file in the journal's holding folder (HeldDir) that
	// keeps a linked duplicate's own bytes, when they differed from the
	// keeper's. It is in the begin record: it is known before anything
	// happens.
	Held string `json:"held,omitempty"`
	// StoreEntry is the caller's description of the file (Action.StoreEntry),
	// kept so that undo can hand it back.
	StoreEntry json.RawMessage `json:"store_entry,omitempty"`
	Error      string          `json:"error,omitempty"`
}

// Journal is an append-only log of actions, each line fsynced before the
// action it announces. Not safe for concurrent use.
type Journal struct {
	f    *os.File
	path string
	seq  int
}

// CreateJournal creates a new journal file (never overwriting one) with its
// header. The folder is created when missing.
func CreateJournal(path string, h Header) (*Journal, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	j := &Journal{f: f, path: path}
	h.Journal, h.Version = journalKind, JournalVersion
	if h.Created.IsZero() {
		h.Created = time.Now().UTC()
	}
	if err := j.writeLine(h); err != nil {
		f.Close()
		return nil, err
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		f.Close()
		return nil, fmt.Errorf("journal: %w", err)
	}
	return j, nil
}

// openJournal opens an existing journal to append state records. A torn
// last line (crash while writing) is cut off first, so that the next line
// does not run into it.
func openJournal(path string) (*Journal, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	if n := bytes.LastIndexByte(data, '\n') + 1; n < len(data) {
		if err := f.Truncate(int64(n)); err != nil {
			f.Close()
			return nil, fmt.Errorf("journal %s: %w", path, err)
		}
	}
	return &Journal{f: f, path: path}, nil
}

// Path is the journal's file name.
func (j *Journal) Path() string { return j.path }

// HeldDir is the journal's holding folder.
func (j *Journal) HeldDir() string { return HeldDir(j.path) }

// HeldDir is the holding folder of the journal at path: the journal's name
// without ".jsonl", plus ".held". It keeps the own bytes of linked
// duplicates that differed from their keeper, until Undo puts them back or
// Purge releases them.
func HeldDir(journal string) string {
	return strings.TrimSuffix(journal, ".jsonl") + ".held"
}

// heldName is the name in the holding folder for the next action's file:
// the action's sequence number, the file's name, and ".held" (which no
// index walk takes for an image, should the store lie under a root).
func (j *Journal) heldName(base string) string {
	return fmt.Sprintf("%06d-%s.held", j.seq+1, base)
}

// Close closes the file; the journal is complete on disk before that.
func (j *Journal) Close() error { return j.f.Close() }

func (j *Journal) writeLine(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if _, err := j.f.Write(b); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	if err := j.f.Sync(); err != nil {
		return fmt.Errorf("journal %s: %w", j.path, err)
	}
	return nil
}

// do journals rec as begun, runs act, and journals the outcome.
func (j *Journal) do(rec Record, act func() error) error {
	j.seq++
	rec.Seq, rec.State = j.seq, StateBegin
	if err := j.writeLine(rec); err != nil {
		return err
	}
	if testHook != nil {
		testHook(rec.Seq, StateBegin)
	}
	err := act()
	if err == nil && testHook != nil {
		testHook(rec.Seq, StateDone)
	}
	if err != nil {
		if jerr := j.writeLine(Record{Seq: rec.Seq, State: StateFailed, Error: err.Error()}); jerr != nil {
			return errors.Join(err, jerr)
		}
		return err
	}
	return j.writeLine(Record{Seq: rec.Seq, State: StateDone})
}

// Entry is one action read back from a journal: its begin record and the
// state it reached ("begin" when the process stopped during it).
type Entry struct {
	Record
	Final string
	// Purged: the held copy (Record.Held) was released by Purge.
	Purged bool
}

// ReadJournal reads a journal. A torn last line (crash while writing) is
// ignored; anything else malformed is ErrBadJournal.
func ReadJournal(path string) (Header, []Entry, error) {
	var h Header
	data, err := os.ReadFile(path)
	if err != nil {
		return h, nil, err
	}
	lines := bytes.Split(data, []byte("\n"))
	if len(lines) > 0 && len(lines[len(lines)-1]) > 0 {
		lines = lines[:len(lines)-1] // torn: no newline after it
	}
	if len(lines) == 0 || json.Unmarshal(lines[0], &h) != nil || h.Journal != journalKind {
		return h, nil, fmt.Errorf("%w: %s", ErrBadJournal, path)
	}
	if h.Version < minJournalVersion || h.Version > JournalVersion {
		return h, nil, fmt.Errorf("%w: %s has version %d, this build reads %d to %d", ErrBadJournal, path, h.Version,
			minJournalVersion, JournalVersion)
	}
	var entries []Entry
	index := map[int]int{}
	for n, line := range lines[1:] {
		if len(line) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(line, &r); err != nil {
			return h, nil, fmt.Errorf("%w: %s line %d: %v", ErrBadJournal, path, n+2, err)
		}
		switch r.State {
		case StateBegin:
			index[r.Seq] = len(entries)
			entries = append(entries, Entry{Record: r, Final: StateBegin})
		case StateDone, StateFailed:
			if i, ok := index[r.Seq]; ok {
				entries[i].Final = r.State
			}
		case StatePurged:
			if i, ok := index[r.Seq]; ok {
				entries[i].Purged = true
			}
		default:
			return h, nil, fmt.Errorf("%w: %s line %d: unknown state %q", ErrBadJournal, path, n+2, r.State)
		}
	}
	return h, entries, nil
}
