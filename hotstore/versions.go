package hotstore

import (
	"bytes"
	"context"
	"encoding/binary"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// DeletedColumn is the name of the tombstone flag column of ScanVersions.
const DeletedColumn = catalog.DeletedColumn

// VersionSchema is the schema of ScanVersions batches: the user columns
// (nullable, except the primary key, since a tombstone carries only its
// key), _seq, then _deleted.
func VersionSchema(t *catalog.TableDef) *arrow.Schema {
	base := t.ArrowSchema()
	pk := t.PrimaryKeyIndex()
	fields := make([]arrow.Field, 0, base.NumFields()+1)
	for i, f := range base.Fields() {
		if i < len(t.Columns) && i != pk {
			f.Nullable = true
		}
		fields = append(fields, f)
	}
	fields = append(fields, arrow.Field{Name: DeletedColumn, Type: arrow.FixedWidthTypes.Boolean})
	return arrow.NewSchema(fields, nil)
}

// ScanVersions streams every row version of one partition — live rows and
// tombstones — in key order, as batches with schema VersionSchema(t). A
// tombstone has NULL user columns except its primary key, which is decoded
// from the row key. Used to flush a partition and to merge hot rows with
// cold segments. fn does not own the batch (Retain to keep it).
func (s *Store) ScanVersions(ctx context.Context, t *catalog.TableDef, user catalog.UserID, opts ScanOptions, fn func(arrow.RecordBatch) error) error {
	if err := s.begin(ctx, t, user); err != nil {
		return err
	}
	defer s.release()
	batchRows := opts.BatchRows
	if batchRows <= 0 {
		batchRows = DefaultBatchRows
	}
	alloc := opts.Alloc
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	dec, err := newRowDecoder(t, t.ArrowSchema(), alloc)
	if err != nil {
		return err
	}
	defer dec.release()
	dec.keepDeleted = true
	pk := t.PrimaryKeyIndex()
	schema := VersionSchema(t)
	var pkb array.Builder
	if pk >= 0 {
		pkb = array.NewBuilder(alloc, t.Columns[pk].Type.ArrowType())
		defer pkb.Release()
	}
	delb := array.NewBooleanBuilder(alloc)
	defer delb.Release()

	row := func(key, v []byte) error {
		delb.Append(v[9]&flagDeleted != 0)
		if pkb != nil {
			return appendKeyPK(pkb, key)
		}
		return nil
	}
	finish := func(rec arrow.RecordBatch) arrow.RecordBatch {
		cols := append([]arrow.Array(nil), rec.Columns()...)
		if pkb != nil {
			pkArr := pkb.NewArray()
			defer pkArr.Release()
			cols[pk] = pkArr
		}
		del := delb.NewArray()
		defer del.Release()
		cols = append(cols, del)
		return array.NewRecordBatch(schema, cols, rec.NumRows())
	}
	return s.scanLoop(ctx, t, user, batchRows, dec, "scan versions", row, finish, fn)
}

// appendKeyPK decodes an order-preserving primary-key encoding (the inverse
// of appendPK) into b.
func appendKeyPK(b array.Builder, k []byte) error {
	switch bb := b.(type) {
	case *array.Int64Builder:
		v, _, err := decodeOrderedInt64(k)
		bb.Append(v)
		return err
	case *array.Int32Builder:
		v, _, err := decodeOrderedInt32(k)
		bb.Append(v)
		return err
	case *array.Int16Builder:
		v, _, err := decodeOrderedInt16(k)
		bb.Append(v)
		return err
	case *array.StringBuilder:
		v, _, err := decodeOrderedBytes(k)
		bb.Append(string(v))
		return err
	case *array.BinaryBuilder:
		v, _, err := decodeOrderedBytes(k)
		bb.Append(v)
		return err
	case *array.BooleanBuilder:
		if len(k) < 1 {
			return errCorrupt("hotstore: short bool key")
		}
		bb.Append(k[0] != 0)
		return nil
	case *array.Float64Builder:
		v, _, err := decodeOrderedFloat64(k)
		bb.Append(v)
		return err
	case *array.Float32Builder:
		v, _, err := decodeOrderedFloat32(k)
		bb.Append(v)
		return err
	case *array.Decimal128Builder:
		v, _, err := decodeOrderedDecimal128(k)
		bb.Append(v)
		return err
	case *array.TimestampBuilder:
		v, _, err := decodeOrderedInt64(k)
		bb.Append(arrow.Timestamp(v))
		return err
	case *array.Date32Builder:
		v, _, err := decodeOrderedInt32(k)
		bb.Append(arrow.Date32(v))
		return err
	case *array.Time64Builder:
		v, _, err := decodeOrderedInt64(k)
		bb.Append(arrow.Time64(v))
		return err
	}
	return catalog.Errorf(catalog.KindInvalid, "hotstore: unsupported primary key type %s", b.Type())
}

// CommitFlush finishes moving row versions to a colder tier, atomically: in
// one synced batch it deletes each flushed key whose stored version is still
// the one flushed (seqs[i]; a key rewritten meanwhile stays hot) and writes
// the metadata entries (the partition's manifest). pks are as for Delete.
// It returns how many keys were removed.
func (s *Store) CommitFlush(ctx context.Context, t *catalog.TableDef, user catalog.UserID, pks arrow.Array, seqs []int64, meta map[string][]byte) (int64, error) {
	if err := s.begin(ctx, t, user); err != nil {
		return 0, err
	}
	defer s.release()
	if err := checkKeys(t, pks); err != nil {
		return 0, err
	}
	if len(seqs) != pks.Len() {
		return 0, catalog.Errorf(catalog.KindInvalid, "hotstore: %s: %d keys but %d _seq values", t.ID, pks.Len(), len(seqs))
	}
	b := s.db.NewBatch()
	defer b.Close()
	for k, v := range meta {
		if err := b.Set(metaKey([]byte(k)), v, nil); err != nil {
			return 0, wrapStorage(err, "flush commit")
		}
	}
	mu := s.tableLock(t.StoreID)
	mu.Lock()
	defer mu.Unlock()
	prefix := partitionPrefix(nil, t, user)
	// Flushed keys are in key order (ScanVersions order), so one iterator
	// walks the partition and the flushed keys together. Runs of
	// consecutive keys that are all removable become one range deletion:
	// point tombstones for millions of flushed keys would make every later
	// scan of the partition step over them until Pebble compacts. No write
	// can interleave (the table lock is held), so the runs are exact.
	upper := prefixSuccessor(prefix)
	iter, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: prefix, UpperBound: upper})
	if err != nil {
		return 0, wrapStorage(err, "flush commit")
	}
	defer iter.Close()
	var key, runStart []byte
	var removed int64
	j := 0
	n := pks.Len()
	if n > 0 {
		if key, err = appendPK(append(key[:0], prefix...), pks, 0); err != nil {
			return 0, err
		}
	}
	closeRun := func(end []byte) error {
		if runStart == nil {
			return nil
		}
		err := b.DeleteRange(runStart, end, nil)
		runStart = nil
		return err
	}
	for valid := iter.First(); valid; valid = iter.Next() {
		cur := iter.Key()
		for j < n && bytes.Compare(key, cur) < 0 {
			if j++; j < n {
				if key, err = appendPK(append(key[:0], prefix...), pks, j); err != nil {
					return 0, err
				}
			}
		}
		removable := false
		if j < n && bytes.Equal(key, cur) {
			v, err := iter.ValueAndErr()
			if err != nil {
				return 0, wrapStorage(err, "flush commit")
			}
			removable = len(v) >= headerLen && int64(binary.LittleEndian.Uint64(v[1:9])) == seqs[j]
		}
		if removable {
			removed++
			if runStart == nil {
				runStart = append([]byte(nil), cur...)
			}
			continue
		}
		if err := closeRun(append([]byte(nil), cur...)); err != nil {
			return 0, wrapStorage(err, "flush commit")
		}
	}
	if err := iter.Error(); err != nil {
		return 0, wrapStorage(err, "flush commit")
	}
	if err := closeRun(upper); err != nil {
		return 0, wrapStorage(err, "flush commit")
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return 0, wrapStorage(err, "flush commit")
	}
	// Move the range deletions out of the memtable soon: while thousands
	// of them sit there, every new iterator pays to fragment them.
	if removed > 0 {
		// A failure here only delays the flush Pebble would do anyway.
		_, _ = s.db.AsyncFlush()
	}
	return removed, nil
}

// EvictBefore hard-deletes every row version of t (all partitions) whose
// _seq is below minSeq: the expiry of STREAM tables. Synced; returns the
// number of versions removed.
func (s *Store) EvictBefore(ctx context.Context, t *catalog.TableDef, minSeq int64) (int64, error) {
	if err := s.begin(ctx, &catalog.TableDef{StoreID: t.StoreID, Type: catalog.TableShared}, ""); err != nil {
		return 0, err
	}
	defer s.release()
	lower, upper := tableBounds(t.StoreID)
	iter, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return 0, wrapStorage(err, "evict")
	}
	defer iter.Close()
	b := s.db.NewBatch()
	defer b.Close()
	var n int64
	for valid := iter.First(); valid; valid = iter.Next() {
		v, err := iter.ValueAndErr()
		if err != nil {
			return 0, wrapStorage(err, "evict")
		}
		if len(v) >= headerLen && int64(binary.LittleEndian.Uint64(v[1:9])) < minSeq {
			if err := b.Delete(iter.Key(), nil); err != nil {
				return 0, wrapStorage(err, "evict")
			}
			n++
		}
	}
	if err := iter.Error(); err != nil {
		return 0, wrapStorage(err, "evict")
	}
	if n == 0 {
		return 0, nil
	}
	return n, wrapStorage(b.Commit(pebble.Sync), "evict")
}

// HasVersions reports, for each key, whether the partition holds any version
// of it (a live row or a tombstone).
func (s *Store) HasVersions(ctx context.Context, t *catalog.TableDef, user catalog.UserID, pks arrow.Array) ([]bool, error) {
	if err := s.begin(ctx, t, user); err != nil {
		return nil, err
	}
	defer s.release()
	if err := checkKeys(t, pks); err != nil {
		return nil, err
	}
	r, err := s.reader(ctx)
	if err != nil {
		return nil, err
	}
	prefix := partitionPrefix(nil, t, user)
	out := make([]bool, pks.Len())
	var key []byte
	for i := range out {
		var err error
		if key, err = appendPK(append(key[:0], prefix...), pks, i); err != nil {
			return nil, err
		}
		_, closer, err := r.Get(key)
		if err == pebble.ErrNotFound {
			continue
		}
		if err != nil {
			return nil, wrapStorage(err, "get")
		}
		closer.Close()
		out[i] = true
	}
	return out, nil
}
