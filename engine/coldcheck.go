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
	"github.com/kalamdb/kalamdb-go/engine/duck"
	"github.com/kalamdb/kalamdb-go/hotstore"
)

// checkColdDuplicates refuses an INSERT of primary keys whose newest version
// is a live row in the partition's segments (the hot store checks its own
// rows). A key with any hot version is left to the hot store: a hot
// tombstone is newer than every cold version. The caller holds the
// partition lock shared, so no flush moves keys meanwhile.
func (e *Engine) checkColdDuplicates(ctx context.Context, t *catalog.TableDef, user catalog.UserID, man coldstore.Manifest, pks arrow.Array) error {
	cand := candidateKeys(man, pks)
	if cand == nil {
		return nil
	}
	defer cand.Release()
	c, err := e.conn()
	if err != nil {
		return err
	}
	broken := true
	defer func() { e.release(c, broken) }()
	pkCol := t.Columns[t.PrimaryKeyIndex()]
	keysTable := "__kdb_keys"
	if err := c.Exec(fmt.Sprintf("CREATE OR REPLACE TEMP TABLE %s (k %s)", keysTable, pkCol.Type.DuckDBType())); err != nil {
		return err
	}
	defer func() { _ = c.Exec("DROP TABLE IF EXISTS temp.main." + keysTable) }()
	keyRec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "k", Type: cand.DataType()}}, nil), []arrow.Array{cand}, int64(cand.Len()))
	defer keyRec.Release()
	if err := c.AppendRecord(keysTable, true, keyRec); err != nil {
		return err
	}
	release := e.acquire(man.Segments)
	defer release()
	pk := duck.QuoteIdent(pkCol.Name)
	sql := fmt.Sprintf("SELECT CAST(%s AS %s) FROM (SELECT %s, _deleted FROM (%s) WHERE %s IN (SELECT k FROM temp.main.%s) "+
		"QUALIFY row_number() OVER (PARTITION BY %s ORDER BY _seq DESC) = 1) WHERE NOT _deleted",
		pk, pkCol.Type.DuckDBType(), pk, e.segmentRelation(t, man.Segments, true), pk, keysTable, pk)
	rows, err := c.QueryContext(ctx, sql)
	if err != nil {
		return fmt.Errorf("check keys of %s against segments: %w", t.ID, err)
	}
	recs, err := rows.All()
	rows.Close()
	if err != nil {
		return fmt.Errorf("check keys of %s against segments: %w", t.ID, err)
	}
	defer releaseAll(recs)
	broken = false
	for _, r := range recs {
		live := r.Column(0)
		has, err := e.hot.HasVersions(ctx, t, user, live)
		if err != nil {
			return err
		}
		for i, h := range has {
			if !h {
				return &catalog.Error{Kind: catalog.KindAlreadyExists,
					Msg: fmt.Sprintf("duplicate primary key %s in %s", live.ValueStr(i), t.ID), Err: &hotstore.DuplicateKeyError{Key: live.ValueStr(i)}}
			}
		}
	}
	return nil
}

// candidateKeys returns the keys that may exist in a segment (for integer
// keys, those inside some segment's key range), or nil when none can.
func candidateKeys(man coldstore.Manifest, pks arrow.Array) arrow.Array {
	ints, ok := intKeys(pks)
	if !ok {
		pks.Retain()
		return pks
	}
	var keep []int
	for i, k := range ints {
		for _, s := range man.Segments {
			if s.MinPKInt == nil || s.MaxPKInt == nil || (k >= *s.MinPKInt && k <= *s.MaxPKInt) {
				keep = append(keep, i)
				break
			}
		}
	}
	if len(keep) == 0 {
		return nil
	}
	b := array.NewBuilder(memory.DefaultAllocator, pks.DataType())
	defer b.Release()
	for _, i := range keep {
		switch bb := b.(type) {
		case *array.Int64Builder:
			bb.Append(ints[i])
		case *array.Int32Builder:
			bb.Append(int32(ints[i]))
		case *array.Int16Builder:
			bb.Append(int16(ints[i]))
		}
	}
	return b.NewArray()
}
