package coldstore

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/stretchr/testify/require"
)

func TestOptions(t *testing.T) {
	var o Options
	require.Equal(t, catalog.KindInvalid, catalog.KindOf(o.EnsureDefaults().Validate()), "Dir is required")
	require.Equal(t, DefaultRowGroupRows, o.RowGroupRows)
	require.NotNil(t, o.Logger)

	_, err := Open(Options{})
	require.Error(t, err)

	dir := filepath.Join(t.TempDir(), "a", "b")
	s, err := Open(Options{Dir: dir})
	require.NoError(t, err)
	require.DirExists(t, dir)
	require.Equal(t, dir, s.Dir())
}

func TestPaths(t *testing.T) {
	user := newTestTable(catalog.TableUser, pkCol("id", catalog.TypeBigInt))
	shared := newTestTable(catalog.TableShared, pkCol("id", catalog.TypeBigInt))
	require.Equal(t, "chat/messages/alice", PartitionDir(user, "alice"))
	require.Equal(t, "chat/messages/shared", PartitionDir(shared, "alice"))
	require.Equal(t, "chat/messages/shared", PartitionDir(shared, ""))

	s, _ := newTestStore(t, Options{})
	seg := Segment{ID: "seg-1", File: "chat/messages/alice/seg-1.parquet"}
	require.Equal(t, filepath.Join(s.Dir(), "chat", "messages", "alice", "seg-1.parquet"), s.Path(seg))
	require.True(t, filepath.IsAbs(s.Path(seg)))
}

func TestRemove(t *testing.T) {
	s, mem := newTestStore(t, Options{})
	tbl := allTypesTable()
	seg := commitRows(t, s, mem, tbl, "alice", allTypesRows[0])
	require.FileExists(t, s.Path(seg))
	require.NoError(t, s.Remove(seg))
	require.NoFileExists(t, s.Path(seg))
	require.NoError(t, s.Remove(seg), "a missing file is not an error")

	require.ErrorIs(t, s.Remove(Segment{File: "../outside.parquet"}), ErrBadManifest)

	// A directory in place of the file cannot be removed: an IOError.
	require.NoError(t, os.MkdirAll(s.Path(seg)+"/x", 0o755))
	var ioe *IOError
	require.ErrorAs(t, s.Remove(seg), &ioe)
	require.Equal(t, "remove", ioe.Op)
	require.Equal(t, s.Path(seg), ioe.Path)
}
