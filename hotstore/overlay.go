package hotstore

import (
	"bytes"
	"context"
	"errors"
	"io"

	"github.com/cockroachdb/pebble/v2"
)

// iterator is the part of *pebble.Iterator the scans use, so that a
// transaction's reads can merge its staged writes over its snapshot.
type iterator interface {
	First() bool
	Next() bool
	Key() []byte
	ValueAndErr() ([]byte, error)
	Error() error
	Close() error
}

// view is what the query-serving reads (Scan, ScanVersions, Lookup,
// CountLive) go through: the database, or a transaction's staged writes
// over its snapshot.
type view interface {
	Get(key []byte) ([]byte, io.Closer, error)
	iter(ctx context.Context, lower, upper []byte) (iterator, error)
}

// pebbleView reads a Pebble reader (the database or a snapshot) directly.
type pebbleView struct{ r reader }

func (v pebbleView) Get(key []byte) ([]byte, io.Closer, error) { return v.r.Get(key) }

func (v pebbleView) iter(ctx context.Context, lower, upper []byte) (iterator, error) {
	return v.r.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lower, UpperBound: upper})
}

// txView reads a transaction's snapshot with its staged writes on top:
// every statement of the transaction sees the database as of its first
// read, plus its own writes.
type txView struct {
	snap *pebble.Snapshot
	b    *pebble.Batch
}

// Get returns key's staged value, else its value in the snapshot.
func (v txView) Get(key []byte) ([]byte, io.Closer, error) {
	it, err := v.b.NewBatchOnlyIter(context.Background(), &pebble.IterOptions{LowerBound: key, UpperBound: append(bytes.Clone(key), 0)})
	if err != nil {
		return nil, nil, err
	}
	if it.First() {
		val, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return nil, nil, err
		}
		return val, it, nil // the value stays valid until the iterator closes
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, nil, err
	}
	return v.snap.Get(key)
}

func (v txView) iter(ctx context.Context, lower, upper []byte) (iterator, error) {
	o := &pebble.IterOptions{LowerBound: lower, UpperBound: upper}
	top, err := v.b.NewBatchOnlyIter(ctx, o)
	if err != nil {
		return nil, err
	}
	base, err := v.snap.NewIterWithContext(ctx, o)
	if err != nil {
		_ = top.Close()
		return nil, err
	}
	return &overlayIter{top: top, base: base}, nil
}

// overlayIter merges two iterators in key order; on equal keys the top
// one's entry hides the base one's. The transaction's batch holds only Set
// operations (tombstones are values), so no deletion needs merging.
type overlayIter struct {
	top, base     iterator
	topOK, baseOK bool
	onTop         bool // the current entry is top's
}

func (o *overlayIter) settle() bool {
	switch {
	case o.topOK && o.baseOK:
		o.onTop = bytes.Compare(o.top.Key(), o.base.Key()) <= 0
	case o.topOK:
		o.onTop = true
	case o.baseOK:
		o.onTop = false
	default:
		return false
	}
	return true
}

func (o *overlayIter) First() bool {
	o.topOK, o.baseOK = o.top.First(), o.base.First()
	return o.settle()
}

func (o *overlayIter) Next() bool {
	if o.onTop {
		if o.baseOK && bytes.Equal(o.base.Key(), o.top.Key()) {
			o.baseOK = o.base.Next()
		}
		o.topOK = o.top.Next()
	} else {
		o.baseOK = o.base.Next()
	}
	return o.settle()
}

func (o *overlayIter) cur() iterator {
	if o.onTop {
		return o.top
	}
	return o.base
}

func (o *overlayIter) Key() []byte { return o.cur().Key() }

func (o *overlayIter) ValueAndErr() ([]byte, error) { return o.cur().ValueAndErr() }

func (o *overlayIter) Error() error { return errors.Join(o.top.Error(), o.base.Error()) }

func (o *overlayIter) Close() error { return errors.Join(o.top.Close(), o.base.Close()) }

var (
	_ iterator = (*pebble.Iterator)(nil)
	_ iterator = (*overlayIter)(nil)
	_ view     = pebbleView{}
	_ view     = txView{}
)
