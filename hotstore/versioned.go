package hotstore

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// Versioned writes: the read-modify-write statements (UPDATE, DELETE …
// WHERE) compute their new versions from rows they read, each with a known
// _seq. Writing them is a compare-and-set: under the table's write lock, in
// the same step as the synced batch, every key's stored version must still
// be the one read, or nothing is written and the call fails with a
// KindConflict error wrapping ErrConflict (the caller retries the statement
// from a fresh read).
//
// A key with no hot version passes the check: the version read then came
// from the cold tier, and only the caller can tell whether that changed (a
// flush or compaction committed since the read). The caller checks it while
// holding off flushes and compactions of the partition across this call.
//
// Inside a transaction (WithTx) the base versions are recorded with the
// staged writes and checked at commit instead (see Tx.CommitIf).

// UpsertVersions writes new row versions like Upsert, provided each key's
// stored version is still base[i], the _seq of the version row i was
// computed from (or the key has no hot version).
func (s *Store) UpsertVersions(ctx context.Context, t *catalog.TableDef, user catalog.UserID, rec arrow.RecordBatch, seqs, base []int64) error {
	if base == nil {
		base = []int64{}
	}
	return s.upsert(ctx, t, user, rec, seqs, base)
}

// DeleteVersions writes tombstones like Delete, provided each key's stored
// version is still base[i], the _seq of the version the statement matched
// (or the key has no hot version).
func (s *Store) DeleteVersions(ctx context.Context, t *catalog.TableDef, user catalog.UserID, pks arrow.Array, seqs, base []int64) (int64, error) {
	if base == nil {
		base = []int64{}
	}
	return s.delete(ctx, t, user, pks, seqs, base)
}

// unchanged fails with a conflict unless every key i of n has no stored
// version or its stored version is base[i]. A nil base checks nothing. The
// caller holds the table lock.
func unchanged(r reader, t *catalog.TableDef, n int, key func(int) []byte, base []int64) error {
	if base == nil {
		return nil
	}
	for i := 0; i < n; i++ {
		seq, err := committedSeq(r, key(i))
		if err != nil {
			return err
		}
		if seq != 0 && seq != base[i] {
			return errConflict("a row of %s was changed by another writer after the statement read it", t.ID)
		}
	}
	return nil
}
