package coldstore

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/kalamdb/kalamdb-go/catalog"
)

// Store writes and deletes the segment files under one directory. It holds
// no open files and no goroutines; it is safe for concurrent use.
type Store struct {
	opts Options
	dir  string // absolute Options.Dir

	// mem allocates the writers' buffers; memory.DefaultAllocator unless a
	// test substitutes a checked allocator.
	mem memory.Allocator
	// now is the clock for Segment.CreatedAt.
	now func() time.Time
	// checkSorted enables the primary-key order invariant check in Write.
	// Tests set it; it costs one key encoding and comparison per row.
	checkSorted bool
}

// Open returns a Store rooted at opts.Dir, creating the directory.
func Open(opts Options) (*Store, error) {
	opts.EnsureDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, ioErr("open", catalog.TableID{}, opts.Dir, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, ioErr("mkdir", catalog.TableID{}, dir, err)
	}
	opts.Dir = dir
	return &Store{opts: opts, dir: dir, mem: memory.DefaultAllocator, now: time.Now}, nil
}

// Dir returns the store's absolute root directory.
func (s *Store) Dir() string { return s.dir }

// PartitionDir returns the directory of a partition relative to the store's
// Dir, '/'-separated: "<namespace>/<table>/<user>" for per-user tables and
// "<namespace>/<table>/shared" for the others (user is then ignored).
func PartitionDir(t *catalog.TableDef, user catalog.UserID) string {
	part := "shared"
	if t.Type.PerUser() {
		part = string(user)
	}
	return path.Join(string(t.ID.Namespace), string(t.ID.Name), part)
}

// validatePartition rejects names that would not make one safe path
// component each (empty, "..", separators).
func validatePartition(t *catalog.TableDef, user catalog.UserID) error {
	if err := catalog.ValidIdentifier(string(t.ID.Namespace)); err != nil {
		return err
	}
	if err := catalog.ValidIdentifier(string(t.ID.Name)); err != nil {
		return err
	}
	if t.Type.PerUser() {
		if err := catalog.ValidIdentifier(string(user)); err != nil {
			return catalog.WrapKind(catalog.KindInvalid, err, "coldstore: partition of %s", t.ID)
		}
	}
	return nil
}

// Path returns the absolute path of seg's file.
func (s *Store) Path(seg Segment) string {
	return filepath.Join(s.dir, filepath.FromSlash(seg.File))
}

// Remove deletes seg's file. A missing file is not an error, so Remove may
// be retried. The caller must first make sure no reader still uses the
// file.
func (s *Store) Remove(seg Segment) error {
	if !validSegmentFile(seg.File) {
		return wrapErr(catalog.KindInvalid, ErrBadManifest, "segment %q has invalid file %q", seg.ID, seg.File)
	}
	p := s.Path(seg)
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return ioErr("remove", catalog.TableID{}, p, err)
	}
	return nil
}

// RemoveOrphans deletes every *.tmp file under Dir and every *.parquet file
// whose Dir-relative '/'-separated path is not in keep (the union of the
// Segment.File values of all manifests). It returns the relative paths it
// removed, sorted. Call it at start, before any SegmentWriter exists: it
// deletes the temporary file of a writer in progress.
func (s *Store) RemoveOrphans(keep map[string]bool) ([]string, error) {
	var removed []string
	err := filepath.WalkDir(s.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return ioErr("walk", catalog.TableID{}, p, err)
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(s.dir, p)
		if err != nil {
			return ioErr("walk", catalog.TableID{}, p, err)
		}
		rel = filepath.ToSlash(rel)
		name := d.Name()
		orphan := strings.HasSuffix(name, ".tmp") || (strings.HasSuffix(name, ".parquet") && !keep[rel])
		if !orphan {
			return nil
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return ioErr("remove", catalog.TableID{}, p, err)
		}
		removed = append(removed, rel)
		return nil
	})
	slices.Sort(removed)
	if len(removed) > 0 {
		s.opts.Logger.Info("removed orphan segment files", "dir", s.dir, "count", len(removed))
	}
	return removed, err
}

// ensureDir creates the Dir-relative directory rel component by component,
// fsyncing the parent of each directory it creates so that the new entry
// survives a crash. It returns the absolute path.
func (s *Store) ensureDir(table catalog.TableID, rel string) (string, error) {
	dir := s.dir
	for _, part := range strings.Split(rel, "/") {
		next := filepath.Join(dir, part)
		switch err := os.Mkdir(next, 0o755); {
		case err == nil:
			if err := syncDir(dir); err != nil {
				return "", ioErr("sync", table, dir, err)
			}
		case !errors.Is(err, fs.ErrExist):
			return "", ioErr("mkdir", table, next, err)
		}
		dir = next
	}
	return dir, nil
}

// syncDir fsyncs a directory so that entries created, renamed or removed in
// it are durable.
func syncDir(dir string) (err error) {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, f.Close()) }()
	return f.Sync()
}
