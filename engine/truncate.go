//go:build duckdb_arrow

package engine

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/coldstore"
	"github.com/kalamdb/kalamdb-go/engine/sqlparse"
	"github.com/kalamdb/kalamdb-go/hotstore"
)

// truncate runs TRUNCATE TABLE: every row of the caller's partition (of
// the whole table for a SHARED one) goes, hot and flushed, in one synced
// write: the hot row versions are deleted and the partition's manifest
// emptied in the same Pebble batch, so a crash leaves all of the partition
// or none of it. The segments are retired as after a compaction (kept for
// readers and transactions that may still read them). It needs the right to
// write the table, like DELETE.
func (e *Engine) truncate(ctx context.Context, sub subject, st *sqlparse.Truncate) (*Result, error) {
	t, err := e.tableRef(sub, st.Table)
	if err != nil {
		return nil, err
	}
	if err := checkWrite(sub, t); err != nil {
		return nil, err
	}
	user := partition(sub, t)
	k := partKey{t.StoreID, user}
	// Exclusive: inserts, versioned writes, flushes and compactions of the
	// partition hold the lock shared or commit under it.
	l := e.coldState.lock(k)
	l.Lock()
	var segs []coldstore.Segment
	err = func() error {
		var keys []arrow.Array
		var seqs []int64
		defer func() {
			for _, a := range keys {
				a.Release()
			}
		}()
		keyCol := t.PrimaryKeyIndex()
		if keyCol < 0 {
			keyCol = len(t.Columns) // _seq
		}
		err := e.hot.ScanVersions(ctx, t, user, hotstore.ScanOptions{}, func(rec arrow.RecordBatch) error {
			c := rec.Column(keyCol)
			c.Retain()
			keys = append(keys, c)
			seqs = append(seqs, rec.Column(len(t.Columns)).(*array.Int64).Int64Values()...)
			return nil
		})
		if err != nil {
			return err
		}
		meta := map[string][]byte{}
		if e.cold != nil && t.Type != catalog.TableStream {
			man, err := e.manifest(t, user)
			if err != nil {
				return err
			}
			segs = man.Segments
			if len(segs) > 0 {
				empty, err := coldstore.Manifest{}.Marshal()
				if err != nil {
					return err
				}
				meta[manifestKey(t.StoreID, user)] = empty
			}
		}
		if len(seqs) == 0 && len(meta) == 0 {
			return nil
		}
		var all arrow.Array
		if len(keys) == 0 {
			all = array.MakeArrayOfNull(memory.DefaultAllocator, t.ArrowSchema().Field(keyCol).Type, 0)
		} else if all, err = array.Concatenate(keys, memory.DefaultAllocator); err != nil {
			return err
		}
		defer all.Release()
		_, err = e.hot.CommitFlush(ctx, t, user, all, seqs, meta)
		return err
	}()
	e.bumpPartition(t.StoreID, user)
	l.Unlock()
	if err != nil {
		return nil, fmt.Errorf("truncate %s: %w", t.ID, err)
	}
	if len(segs) > 0 {
		e.retire(segs)
	}
	e.forgetPartition(k)
	return messageResult(fmt.Sprintf("Table %s truncated", t.ID)), nil
}
