package hotstore

import (
	"bytes"
	"context"
	"io"

	"github.com/cockroachdb/pebble/v2"
)

// metaKey returns 'm' | key.
func metaKey(key []byte) []byte {
	out := make([]byte, 0, len(key)+1)
	out = append(out, prefixMeta)
	return append(out, key...)
}

// MetaGet returns a copy of the metadata value stored under key and whether
// it exists.
func (s *Store) MetaGet(key []byte) ([]byte, bool, error) {
	if err := s.acquire(); err != nil {
		return nil, false, err
	}
	defer s.release()
	return metaGet(s.db, key)
}

// MetaGetAt is MetaGet as the transaction of ctx sees it: in its snapshot
// (taken now if it has none yet), which also holds the rows a flush had
// not yet moved out when the manifest was stored. Without a transaction it
// is MetaGet.
func (s *Store) MetaGetAt(ctx context.Context, key []byte) ([]byte, bool, error) {
	tx, err := s.txFrom(ctx)
	if err != nil {
		return nil, false, err
	}
	if tx == nil {
		return s.MetaGet(key)
	}
	if err := s.acquire(); err != nil {
		return nil, false, err
	}
	defer s.release()
	snap, err := tx.snapshot()
	if err != nil {
		return nil, false, err
	}
	return metaGet(snap, key)
}

// metaGet reads a copy of key's metadata value from r.
func metaGet(r interface {
	Get(key []byte) ([]byte, io.Closer, error)
}, key []byte) ([]byte, bool, error) {
	v, closer, err := r.Get(metaKey(key))
	if err == pebble.ErrNotFound {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, wrapStorage(err, "meta get")
	}
	defer closer.Close()
	out := bytes.Clone(v)
	if out == nil {
		out = []byte{}
	}
	return out, true, nil
}

// MetaPut stores value under key (synced).
func (s *Store) MetaPut(key, value []byte) error {
	if err := s.acquire(); err != nil {
		return err
	}
	defer s.release()
	return wrapStorage(s.db.Set(metaKey(key), value, pebble.Sync), "meta put")
}

// MetaDelete removes key (synced). Deleting a missing key is not an error.
func (s *Store) MetaDelete(key []byte) error {
	if err := s.acquire(); err != nil {
		return err
	}
	defer s.release()
	return wrapStorage(s.db.Delete(metaKey(key), pebble.Sync), "meta delete")
}

// MetaScan calls fn for every metadata entry whose key starts with prefix,
// in ascending key order, from a consistent snapshot. The key passed to fn
// is without the internal 'm' byte. key and value are only valid during
// the call: fn must copy them to keep them. Scanning stops at the first
// error returned by fn, which MetaScan returns.
func (s *Store) MetaScan(prefix []byte, fn func(key, value []byte) error) error {
	if err := s.acquire(); err != nil {
		return err
	}
	defer s.release()
	lower := metaKey(prefix)
	iter, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixSuccessor(lower)})
	if err != nil {
		return wrapStorage(err, "meta scan")
	}
	defer iter.Close()
	for valid := iter.First(); valid; valid = iter.Next() {
		v, err := iter.ValueAndErr()
		if err != nil {
			return wrapStorage(err, "meta scan")
		}
		if err := fn(iter.Key()[1:], v); err != nil {
			return err
		}
	}
	return wrapStorage(iter.Error(), "meta scan")
}

// MetaBatch atomically applies deletes and puts in one synced batch.
// Deletes are applied first, so a key present in both ends up with its
// value from puts.
func (s *Store) MetaBatch(puts map[string][]byte, deletes []string) error {
	if err := s.acquire(); err != nil {
		return err
	}
	defer s.release()
	if len(puts) == 0 && len(deletes) == 0 {
		return nil
	}
	b := s.db.NewBatch()
	defer b.Close()
	for _, k := range deletes {
		if err := b.Delete(metaKey([]byte(k)), nil); err != nil {
			return wrapStorage(err, "meta batch")
		}
	}
	for k, v := range puts {
		if err := b.Set(metaKey([]byte(k)), v, nil); err != nil {
			return wrapStorage(err, "meta batch")
		}
	}
	return wrapStorage(b.Commit(pebble.Sync), "meta batch")
}
